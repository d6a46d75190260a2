"""How a model declares its scope (``scope = Scope(...)``); ``governance.access`` applies it."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Scope:
    """How a model reaches the chain (see ``governance.access``). ``Scope()``: the district only.

    - ``node``: the path to a chain node; visible when that node lies in the subtree of the user's
      scope node. ``""`` is the node itself.
    - ``via``: the path to another scoped model; visible when that object is (its rule decides, for
      every role).
    - ``department``: the path to a department; department staff see the rows of their department.
    - ``owner``: the path to a user; the row belongs to that user (a notification).
    - ``public``: reference data every signed-in user may read (departments, categories).
    - ``id_list``: the visible ids of this model are few (a street has a few hundred grids) and are
      passed to those who reach it ``via`` as a list, not a sub-select. The planner cannot estimate
      how many rows a sub-select of grids in a street yields, guesses one, and sorts the street's
      whole petition history instead of walking the recency index (0.4 s vs 16 ms at a million
      petitions, bench.petition_lists). A list of ids it can estimate.
    """

    node: str | None = None
    via: str | None = None
    department: str | None = None
    owner: str | None = None
    public: bool = False
    id_list: bool = False
