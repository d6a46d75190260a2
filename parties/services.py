"""Writes to the chain. Every insert, move and delete holds the lock of each tree it touches.

django-mptt keeps lft/rght/tree_id consistent only if writes to one tree do not interleave, so
each write takes a transaction-scoped PostgreSQL advisory lock per tree_id (and one for handing
out new tree ids), re-reads the node's tree fields under the lock, and only then writes.
On SQLite (the embedded default) the database itself serialises writers.
"""

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TypeVar

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils.translation import gettext as _

from .models import Kind, Organization, kind_rule_error

T = TypeVar("T")

# Advisory-lock namespace for the chain (first int4 key); tree ids are the second key.
_LOCK_NAMESPACE = 0x5767  # "Wg"
_NEW_TREE_KEY = 0


def _lock_trees(tree_ids: Iterable[int]) -> None:
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for tree_id in sorted(set(tree_ids)):
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_LOCK_NAMESPACE, tree_id])


def _lock_and_refresh(*nodes: Organization | None, new_tree: bool = False) -> None:
    """Lock the trees of ``nodes``, then re-read their tree fields; repeat if one moved meanwhile."""
    locked: set[int] = {_NEW_TREE_KEY} if new_tree else set()
    if new_tree:
        _lock_trees([_NEW_TREE_KEY])
    present = [n for n in nodes if n is not None and n.pk]
    while True:
        wanted = {n.tree_id for n in present} - locked
        if not wanted:
            return
        _lock_trees(wanted)
        locked |= wanted
        for node in present:
            node.refresh_from_db(fields=["parent", "tree_id", "lft", "rght", "level"])
            # As mptt's own move_node does: its save() decides "is this a move?" from this cache.
            node._mptt_cached_fields["parent"] = node.parent_id


def reserve_tree_id() -> int:
    """The next free tree id, for bulk loaders building a whole new tree in this transaction.

    Holds (to the end of the transaction) the same lock ``organization_create`` takes for a new
    street or town, so nobody else can take that id meanwhile.
    """
    from django.db.models import Max

    _lock_trees([_NEW_TREE_KEY])
    return (Organization.objects.aggregate(m=Max("tree_id"))["m"] or 0) + 1


def _check_placement(node: Organization, parent: Organization | None) -> None:
    error = kind_rule_error(node.kind, parent.kind if parent else None)
    if error:
        raise ValidationError({"parent": error})
    if (
        node.pk
        and parent is not None
        and (parent.pk == node.pk or (parent.tree_id == node.tree_id and node.lft <= parent.lft <= node.rght))
    ):
        raise ValidationError({"parent": _("A node cannot be placed under itself or its own descendant.")})


@transaction.atomic
def organization_create(
    *, kind: str, name: str, code: str, parent: Organization | None = None, secretary_id: int | None = None
) -> Organization:
    """Add a node under ``parent`` (or a new street/town tree when ``parent`` is None)."""
    node = Organization(kind=kind, name=name, code=code, parent=parent, secretary_id=secretary_id)
    _lock_and_refresh(parent, new_tree=parent is None)
    _check_placement(node, parent)
    node.full_clean(exclude=["parent", "lft", "rght", "tree_id", "level"])
    node.save()
    return node


@transaction.atomic
def organization_update(*, node: Organization, parent: Organization | None, **fields: object) -> Organization:
    """Change a node's own fields and, if ``parent`` differs, move it to the end of the new parent."""
    current = Organization.objects.only("parent_id", "tree_id").get(pk=node.pk)
    moving = current.parent_id != (parent.pk if parent else None)
    if moving:
        _lock_and_refresh(node, parent, current, new_tree=parent is None)
    for name, value in fields.items():
        setattr(node, name, value)
    node.full_clean(exclude=["parent", "lft", "rght", "tree_id", "level"])
    if moving:
        _check_placement(node, parent)
        node.parent = parent
    node.save()
    return node


@transaction.atomic
def organization_move(*, node: Organization, target: Organization, position: str = "last-child") -> Organization:
    """Move ``node`` relative to ``target``: ``last-child``/``first-child`` of it, or ``left``/``right`` of it."""
    _lock_and_refresh(node, target)
    parent = target if position in ("first-child", "last-child") else target.parent
    if parent is not None and parent.pk != target.pk:
        parent.refresh_from_db(fields=["tree_id", "lft", "rght", "level", "parent"])
    if parent is None and position in ("left", "right"):
        # Streets and towns are roots, ordered by tree id; a root stays a root.
        error = kind_rule_error(node.kind, None)
        if error:
            raise ValidationError({"parent": error})
        Organization._tree_manager.move_node(node, target, position)
        return node
    _check_placement(node, parent)
    Organization._tree_manager.move_node(node, target, position)
    return node


@transaction.atomic
def organization_delete(*, node: Organization) -> None:
    """Delete a leaf node (a node with children, grids or members is protected)."""
    _lock_and_refresh(node)
    if node.get_descendant_count():
        raise ValidationError(_("Move or delete the nodes under %(name)s first.") % {"name": node.name})
    node.delete()


def nested_set_numbers(root: T, children: Callable[[T], Sequence[T]]) -> Iterator[tuple[T, int, int, int]]:
    """(node, lft, rght, level) for ``root`` and everything under it, as mptt numbers a tree.

    Depth first, siblings in the order ``children`` gives them; iterative, so a deep tree cannot
    overflow the stack. Used to check a stored tree and to number a tree built in memory.
    """
    counter = 1
    left: dict[int, int] = {}
    stack: list[tuple[T, int, bool]] = [(root, 0, False)]
    while stack:
        node, level, done = stack.pop()
        if done:
            yield node, left.pop(id(node)), counter, level
        else:
            left[id(node)] = counter
            stack.append((node, level, True))
            stack.extend((kid, level + 1, False) for kid in reversed(children(node)))
        counter += 1


def chain_differences() -> list[str]:
    """Compare the stored lft/rght/level/tree_id with what a rebuild from the parent links gives.

    Returns a line per node that differs (empty when the tree is sound). Read-only: the rebuild is
    computed in memory in one pass over the rows.
    """
    rows = list(
        Organization.objects.order_by("tree_id", "lft").values_list(
            "id", "parent_id", "tree_id", "lft", "rght", "level", "code"
        )
    )
    children: dict[int | None, list[int]] = {}
    by_id = {}
    for row in rows:
        by_id[row[0]] = row
        children.setdefault(row[1], []).append(row[0])
    # Roots keep their tree ids; siblings keep their stored left-to-right order (as rebuild would
    # with no order_insertion_by), so only broken numbering shows up as a difference.
    for kids in children.values():
        kids.sort(key=lambda i: by_id[i][3])
    roots = sorted(children.get(None, []), key=lambda i: (by_id[i][2], by_id[i][3]))
    expected: dict[int, tuple[int, int, int, int]] = {}
    for root in roots:
        tree_id = by_id[root][2]
        for node_id, lft, rght, level in nested_set_numbers(root, lambda i: children.get(i, [])):
            expected[node_id] = (tree_id, lft, rght, level)
    problems = []
    seen_tree_ids: dict[int, int] = {}
    for root in roots:
        other = seen_tree_ids.setdefault(by_id[root][2], root)
        if other != root:
            problems.append(f"tree_id {by_id[root][2]} shared by roots {by_id[other][6]} and {by_id[root][6]}")
    for node_id, row in by_id.items():
        want = expected.get(node_id)
        got = (row[2], row[3], row[4], row[5])
        if want is None:
            problems.append(f"{row[6]}: not reachable from any root (parent loop)")
        elif want != got:
            problems.append(
                f"{row[6]}: stored tree={got[0]} lft={got[1]} rght={got[2]} level={got[3]}, "
                f"rebuild gives tree={want[0]} lft={want[1]} rght={want[2]} level={want[3]}"
            )
    return problems


__all__ = [
    "Kind",
    "chain_differences",
    "nested_set_numbers",
    "organization_create",
    "organization_delete",
    "organization_move",
    "organization_update",
    "reserve_tree_id",
]
