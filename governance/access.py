"""What may this user see: the one scoping function every list, detail, form and API builds on.

A worker or official sees the subtree of their chain node (one indexed range query on
tree_id/lft/rght); department staff see what was dispatched to their department; district
leadership and superusers see everything. An object outside the scope and a missing one answer
the same way (404).
"""

from typing import Any, TypeVar

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Model, Q, QuerySet, Subquery
from django.http import Http404

from parties.models import Organization

M = TypeVar("M", bound=Model)

# How each model reaches the grid it belongs to (None: the model *is* a grid-level object).
_GRID_PATH: dict[str, str] = {
    "grids.grid": "",
    "grids.building": "grid",
    "grids.household": "building__grid",
    "grids.resident": "household__building__grid",
    "grids.gridassignment": "grid",
    "petitions.petition": "grid",
}


def _subtree_q(node_id: int, prefix: str = "") -> Q:
    """Rows whose chain node lies in the subtree of ``node_id``.

    The node's position (tree_id, lft, rght) is read by the database in the same query, not taken
    from a Python copy: a copy held while the tree is edited (a user loaded before a move) would
    silently narrow or widen the scope.
    """
    scope = Organization.objects.filter(pk=node_id).order_by()
    return Q(
        **{
            f"{prefix}tree_id": Subquery(scope.values("tree_id")[:1]),
            f"{prefix}lft__gte": Subquery(scope.values("lft")[:1]),
            f"{prefix}lft__lte": Subquery(scope.values("rght")[:1]),
        }
    )


def visible_grid_ids(user: Any) -> QuerySet[Any]:
    """A subquery of the ids of the grids in the user's scope."""
    from grids.models import Grid

    node_id = getattr(user, "scope_node_id", None)
    if node_id is None:
        return Grid.objects.none().values("id")
    return Grid.objects.filter(_subtree_q(node_id, "branch__")).values("id")


def restrict(user: Any, queryset: QuerySet[M]) -> QuerySet[M]:
    """Narrow ``queryset`` to what ``user`` may see."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return queryset.none()
    if user.sees_everything:
        return queryset
    label = queryset.model._meta.label_lower
    is_department = user.role == user.Role.DEPARTMENT

    if label == "petitions.petition":
        if is_department:
            return queryset.filter(department_id=user.department_id) if user.department_id else queryset.none()
        # The grid ids are fetched first (one small query) and passed as a list: as a sub-select
        # the planner cannot estimate how many grids a street has, guesses one, and sorts the
        # street's whole petition history instead of walking the recency index (0.4 s vs 16 ms
        # at a million petitions, bench.petition_lists).
        return queryset.filter(grid_id__in=list(visible_grid_ids(user).values_list("id", flat=True)))
    if label == "petitions.petitionevent":
        return queryset.filter(petition__in=restrict(user, _model("petitions.petition").objects.all()))
    if label == "parties.organization":
        if is_department or user.scope_node_id is None:
            return queryset.none()
        return queryset.filter(_subtree_q(user.scope_node_id))
    if label == "parties.member":
        if is_department or user.scope_node_id is None:
            return queryset.none()
        return queryset.filter(_subtree_q(user.scope_node_id, "organization__"))
    if label in _GRID_PATH:
        if is_department or user.scope_node_id is None:
            return queryset.none()
        path = _GRID_PATH[label]
        field = f"{path}_id__in" if path else "id__in"
        return queryset.filter(**{field: visible_grid_ids(user)})
    if label in ("governance.department", "petitions.category"):
        # Reference data: everyone signed in may read it.
        return queryset
    raise LookupError(f"no scope rule for {label}")


def _model(label: str) -> Any:
    from django.apps import apps

    return apps.get_model(label)


def get_visible_or_404(user: Any, queryset: QuerySet[M], **lookup: Any) -> M:
    """The object if it exists *and* is in the user's scope; otherwise 404 either way."""
    try:
        return restrict(user, queryset).get(**lookup)
    except (ObjectDoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def covers(user: Any, obj: Model) -> bool:
    """Whether ``obj`` lies in the user's scope (for showing personal data whole)."""
    return restrict(user, type(obj)._default_manager.filter(pk=obj.pk)).exists()


def reveal_personal_data(user: Any, obj: Model, fields: str) -> bool:
    """Whether ``user`` may see ``obj``'s personal ``fields`` whole; when yes, the viewing is logged."""
    if not covers(user, obj):
        return False
    from django.utils import timezone

    from .models import PersonalDataAccess

    PersonalDataAccess.objects.create(
        user=user, object_type=obj._meta.label_lower, object_id=obj.pk, fields=fields, at=timezone.now()
    )
    return True
