"""What a user may see: scope is declared on each model, and applied here, one way for everything.

Each scoped model says how it reaches the chain with a class attribute ``scope = Scope(...)``
(``governance.scope``): through a chain node (``node``: the subtree of the user's scope node, one
indexed range query on tree_id/lft, never a Python walk), through another scoped model (``via``:
``Building`` is ``via="grid"``, a petition's events ``via="petition"``), through a department for
department staff, through its owner, or as public reference data.

A model that declares nothing shows nothing (and a system check names it). District leadership and
superusers see everything; an inactive or anonymous user sees nothing. This module knows no other
app's models by name: the chain model is the one ``User.scope_node`` points at.

An object outside the scope and a missing one answer the same way (``get_visible_or_404``: 404).
"""

from typing import Any, TypeVar

from django.apps import apps
from django.contrib.auth.models import AnonymousUser
from django.core import checks
from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Exists, Model, Q, QuerySet, Subquery
from django.http import Http404
from django.utils import timezone

from .models import PersonalDataAccess, User
from .scope import Scope

M = TypeVar("M", bound=Model)
# Who is asking: an account, or nobody signed in (who sees nothing).
Viewer = User | AnonymousUser

# The apps whose models must declare a scope (third-party apps keep their own access rules).
SCOPED_APPS = ("governance", "parties", "grids", "petitions")


def scope_of(model: type[Model]) -> Scope | None:
    scope = getattr(model, "scope", None)
    return scope if isinstance(scope, Scope) else None


def _path(path: str, suffix: str) -> str:
    return f"{path}__{suffix}" if path else suffix


def subtree_q(node: Any, path: str = "") -> Q:
    """Rows whose chain node (at ``path``) lies in the subtree of ``node`` (a node or its id).

    The one subtree condition: every scope, filter, dashboard and reminder builds on it. For an id,
    the node's position is read by the database in the same query, not from a Python copy: a copy
    held while the tree is edited (a user loaded before a move) would silently narrow or widen it.
    """
    if isinstance(node, Model):
        tree_id, lft, rght = node.tree_id, node.lft, node.rght  # type: ignore[attr-defined]
    else:
        position = _chain_model().objects.filter(pk=node).order_by()
        tree_id, lft, rght = (Subquery(position.values(f)[:1]) for f in ("tree_id", "lft", "rght"))
    return Q(**{_path(path, "tree_id"): tree_id, _path(path, "lft__gte"): lft, _path(path, "lft__lte"): rght})


def _chain_model() -> Any:
    return User._meta.get_field("scope_node").related_model


def restrict(user: Viewer, queryset: QuerySet[M]) -> QuerySet[M]:
    """Narrow ``queryset`` to what ``user`` may see, by the scope its model declares."""
    if not isinstance(user, User) or not user.is_active:
        return queryset.none()
    if user.sees_everything:
        return queryset
    return queryset.filter(_visible_q(user, queryset.model))


def _visible_q(user: User, model: type[Model]) -> Q:
    """The condition for the rows of ``model`` that ``user`` (not district-wide) may see."""
    scope = scope_of(model)
    nothing = Q(pk__in=[])
    if scope is None:
        return nothing
    if scope.public:
        return Q()
    if scope.owner is not None:
        return Q(**{_path(scope.owner, "id"): user.pk})
    if user.is_department_staff:
        if scope.department is not None:
            return Q(**{_path(scope.department, "id"): user.department_id}) if user.department_id else nothing
        if scope.via is None:
            return nothing
    if scope.via is not None:
        target = _related_model(model, scope.via)
        visible = target._default_manager.filter(_visible_q(user, target)).order_by().values("pk")
        if scope_of(target) is not None and scope_of(target).id_list:  # type: ignore[union-attr]
            return Q(**{_path(scope.via, "id__in"): list(visible.values_list("pk", flat=True))})
        return Q(**{_path(scope.via, "id__in"): visible})
    if scope.node is not None and user.scope_node_id is not None:
        return subtree_q(user.scope_node_id, scope.node)
    return nothing


def _related_model(model: type[Model], path: str) -> type[Model]:
    for name in path.split("__"):
        model = model._meta.get_field(name).related_model  # type: ignore[assignment]
    return model


class ScopedQuerySet(QuerySet[M]):
    """A queryset with ``.restrict(user)``: ``Model.objects.restrict(user)`` is ``restrict(user, …)``."""

    def restrict(self, user: Viewer) -> "ScopedQuerySet[M]":
        return restrict(user, self)  # type: ignore[return-value]


def get_visible_or_404(user: Viewer, queryset: QuerySet[M], **lookup: Any) -> M:
    """The object if it exists *and* is in the user's scope; otherwise 404 either way."""
    try:
        return restrict(user, queryset).get(**lookup)
    except (ObjectDoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def records_on_chain(user: Viewer) -> bool:
    """Whether ``user`` records residents' matters on the chain (petitions, wishes, proposals): those with
    a place on the chain or the whole district; not department staff (they receive), not an account with
    no scope (a party member signed in for the micro-wishes)."""
    if not user.is_authenticated:
        return False
    return user.sees_everything or (not user.is_department_staff and user.scope_node_id is not None)


def covers(user: Viewer, obj: Model) -> bool:
    """Whether ``obj`` lies in the user's scope (for showing personal data whole)."""
    return restrict(user, type(obj)._default_manager.filter(pk=obj.pk)).exists()


def covering(users: list[User], obj: Model) -> set[int]:
    """The ids of ``users`` whose scope covers ``obj``: ``covers`` for many users in one query.

    For a model reached ``via`` another (a petition via its grid), the question is asked of the one
    object it leads to, as ``_visible_q`` decides it: the petition is visible exactly when its grid is
    (department staff aside, who see their department's rows). Asking it of the petition instead would
    list every grid each official sees (a street's hundreds), once per official per reminder.
    """
    scope = scope_of(type(obj))
    if scope is not None and scope.via is not None and "__" not in scope.via:
        own_rule = [u for u in users if scope.department is not None and u.is_department_staff]
        rest = [u for u in users if u not in own_rule]
        target = getattr(obj, scope.via)
        ids = _covering_rows(own_rule, obj) if own_rule else set()
        if rest and target is not None:
            ids |= covering(rest, target)
        return ids
    return _covering_rows(users, obj)


def _covering_rows(users: list[User], obj: Model) -> set[int]:
    """``covering`` asked of ``obj``'s own row: one query, an EXISTS per user who needs asking."""
    base = type(obj)._default_manager.filter(pk=obj.pk)
    visible = {user.pk: restrict(user, base) for user in users}
    ids = {pk for pk, qs in visible.items() if qs is base}  # sees everything: no question to ask
    asked = {f"u{pk}": Exists(qs) for pk, qs in visible.items() if pk not in ids and not qs.query.is_empty()}
    if asked:
        row = base.values(**asked).first() or {}
        ids |= {int(name[1:]) for name, yes in row.items() if yes}
    return ids


def reveal_personal_data(user: Viewer, obj: Model, fields: str) -> bool:
    """Whether ``user`` may see ``obj``'s personal ``fields`` whole; when yes, the viewing is logged."""
    if not isinstance(user, User) or not covers(user, obj):
        return False
    page, view_name = _current_page()
    PersonalDataAccess.objects.create(
        user=user, object_type=obj._meta.label_lower, object_id=obj.pk, fields=fields, at=timezone.now(),
        page=page, view_name=view_name,
    )
    return True


def _current_page() -> tuple[str, str]:
    """The path and view name of the request being answered ("" outside one: a command, a task).

    Read from the request django-simple-history's middleware keeps for its audit trail, so no caller
    has to pass the request down to the rule that logs a viewing.
    """
    from simple_history.models import HistoricalRecords

    request = getattr(HistoricalRecords.context, "request", None)
    if request is None:
        return "", ""
    match = getattr(request, "resolver_match", None)
    return request.path[:200], (match.view_name if match else "")[:100]


@checks.register(checks.Tags.security)
def check_every_model_declares_its_scope(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """governance.E001: a model of ours without a ``scope`` would show nothing, silently."""
    errors: list[checks.CheckMessage] = []
    for model in apps.get_models():
        if model._meta.app_label not in SCOPED_APPS or model._meta.auto_created:
            continue
        scope = scope_of(model)
        if scope is None:
            errors.append(
                checks.Error(
                    f"{model._meta.label} declares no scope.",
                    hint="Add a class attribute `scope = Scope(...)` saying how it reaches the chain.",
                    obj=model,
                    id="governance.E001",
                )
            )
            continue
        for path in (scope.node, scope.via, scope.department, scope.owner):
            if path:
                try:
                    _related_model(model, path)
                except Exception:
                    errors.append(
                        checks.Error(f"{model._meta.label}.scope names {path!r}, not a relation.", obj=model,
                                     id="governance.E002")
                    )
    return errors


__all__ = [
    "SCOPED_APPS", "Scope", "ScopedQuerySet", "covers", "get_visible_or_404", "restrict", "reveal_personal_data",
    "scope_of", "subtree_q",
]
