"""Petition services: every write to a petition goes through one of these (and through ``workflow``).

Each takes the acting user and keyword arguments named like the API's and the forms' fields, so the
step registry (``steps``) passes a validated body straight through.
"""

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from governance.access import restrict
from governance.models import Department, User
from grids.identity import is_valid_phone
from grids.models import Grid, Household

from . import workflow
from .deadlines import add_hours, add_working_days
from .models import SATISFIED_LEVELS, Category, FollowUp, Petition, Priority, Satisfaction, Status

# A third re-handle flags the petition for escalation (提级督办).
ESCALATE_AFTER_REHANDLES = 3


def _accept_hours(petition: Petition) -> int:
    c = petition.category
    return c.urgent_accept_hours if petition.priority == Priority.URGENT else c.accept_hours


def _resolve_days(petition: Petition) -> int:
    c = petition.category
    return c.urgent_resolve_working_days if petition.priority == Priority.URGENT else c.resolve_working_days


def _required(value: str, field: str, label: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError({field: _("Please fill in %(field)s.") % {"field": label}})
    return value


def _locked(actor: User, petition_id: int) -> "QuerySet[Petition]":
    """The petition row, locked for this transaction, if the actor may see it."""
    return restrict(actor, Petition.objects.select_for_update(of=("self",)).filter(pk=petition_id))


def petition_register(
    *,
    actor: User,
    grid: Grid,
    category: Category,
    title: str,
    description: str,
    priority: str = Priority.NORMAL,
    household: Household | None = None,
    reporter_name: str = "",
    reporter_phone: str = "",
) -> Petition:
    """Log a resident's request on a grid (网格吹哨). The grid must lie in the actor's scope.

    Checks first (reads only), then ``workflow.start`` writes the petition and its first event.
    Department staff may not (``PermissionDenied``): they receive petitions, they do not log them.
    """
    errors: dict[str, str] = {}
    if not workflow.may_register(actor):
        raise PermissionDenied(_("Department staff cannot register petitions."))
    if not restrict(actor, Grid.objects.filter(pk=grid.pk)).exists():
        errors["grid"] = _("This grid is not in your area.")
    if not category.is_active:
        errors["category"] = _("This category is no longer in use.")
    if household is not None and household.building.grid_id != grid.pk:
        errors["household"] = _("This household is not in the chosen grid.")
    reporter_phone = (reporter_phone or "").strip()
    if reporter_phone and not is_valid_phone(reporter_phone):
        errors["reporter_phone"] = _("Enter an 11-digit mobile number, e.g. 13812345678.")
    if priority not in Priority.values:
        errors["priority"] = _("Choose normal or urgent.")
    # A TextField's max_length is not checked by full_clean(); without this a 100 KB text is stored.
    limit = Petition._meta.get_field("description").max_length
    if limit is not None and len((description or "").strip()) > limit:
        errors["description"] = _("The description may be at most %(limit)d characters long.") % {"limit": limit}
    petition = Petition(
        grid=grid,
        category=category,
        priority=priority,
        title=(title or "").strip(),
        description=(description or "").strip(),
        household=household,
        reporter_name=(reporter_name or "").strip(),
        reporter_phone=reporter_phone,
        registered_by=actor,
        registered_at=timezone.now(),
    )
    try:
        petition.full_clean(exclude=["registered_by", "grid", "category", "household"])
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            errors.setdefault(field, messages[0])
    if errors:
        raise ValidationError(errors)
    petition.resolve_due = add_working_days(petition.registered_at, _resolve_days(petition))
    return workflow.start(petition=petition, actor=actor)


def petition_report(*, actor: User, petition_id: int, note: str) -> Petition:
    """The worker's whistle (吹哨): the grid cannot handle it, so it goes up to the street with a note.

    It waits in the street's dispatch queue (status ``reported``) with its own deadline, the
    category's ``dispatch_working_days`` on the working-day calendar; the grid may still resolve it.
    """
    note = _required(note, "note", _("the note"))

    def change(p: Petition, now: dt.datetime) -> None:
        p.dispatch_due = add_working_days(now, p.category.dispatch_working_days)

    return workflow.apply(petition_id=petition_id, action="report", actor=actor, note=note, change=change)


def petition_dispatch(*, actor: User, petition_id: int, department: Department, note: str = "") -> Petition:
    """Send the petition to the department responsible (整理上报); the accept clock starts."""
    if not department.is_active:
        raise ValidationError({"department": _("This department is not active.")})

    def change(p: Petition, now: dt.datetime) -> None:
        p.department = department
        p.dispatched_at = now
        p.accept_due = add_hours(now, _accept_hours(p))

    return workflow.apply(petition_id=petition_id, action="dispatch", actor=actor, note=note, change=change)


def petition_accept(*, actor: User, petition_id: int, note: str = "") -> Petition:
    """The department reports in (部门报到)."""

    def change(p: Petition, now: dt.datetime) -> None:
        p.accepted_at = now

    return workflow.apply(petition_id=petition_id, action="accept", actor=actor, note=note, change=change)


def petition_return(*, actor: User, petition_id: int, reason: str) -> Petition:
    """The department sends a mis-routed petition back to the street for re-dispatch."""
    reason = _required(reason, "reason", _("the reason"))

    def change(p: Petition, now: dt.datetime) -> None:
        p.department = None
        p.dispatched_at = None
        p.accept_due = None

    return workflow.apply(petition_id=petition_id, action="return", actor=actor, note=reason, change=change)


def petition_resolve(*, actor: User, petition_id: int, result: str) -> Petition:
    """Record the result: by the department once accepted, or on the grid while still registered."""
    result = _required(result, "result", _("the result"))
    with transaction.atomic():
        # Which step this is depends on the status: read it under the row lock that ``apply`` takes
        # again, so a concurrent dispatch cannot slip in between the choice and the step.
        current = _locked(actor, petition_id).values_list("status", flat=True).first()
        action = "resolve_on_grid" if current in (Status.REGISTERED, Status.REPORTED) else "resolve"

        def change(p: Petition, now: dt.datetime) -> None:
            p.resolved_at = now
            p.result = result
            p.resolved_on_grid = action == "resolve_on_grid"
            p.follow_up_due = add_working_days(now, p.category.follow_up_working_days)

        return workflow.apply(petition_id=petition_id, action=action, actor=actor, note=result, change=change)


def petition_follow_up(
    *,
    actor: User,
    petition_id: int,
    reached: bool,
    solved: bool | None = None,
    satisfaction: str = "",
    note: str = "",
) -> Petition:
    """Record the call back (回访). Dissatisfied reopens the petition to the same department (重办).

    A call that did not reach the resident records neither ``solved`` nor ``satisfaction``: whatever
    was sent with it is dropped here, the one place that rule lives.
    """
    if not reached:
        solved, satisfaction = None, ""
    else:
        errors = {}
        if solved is None:
            errors["solved"] = _("Say whether the problem was solved.")
        if satisfaction not in Satisfaction.values:
            errors["satisfaction"] = _("Choose the resident's satisfaction.")
        if errors:
            raise ValidationError(errors)

    unhappy = reached and satisfaction not in SATISFIED_LEVELS
    with transaction.atomic():
        # Reopen to the department or to the grid: decided under the row lock (see petition_resolve).
        has_department = _locked(actor, petition_id).values_list("department_id", flat=True).first() is not None
        if not reached:
            action = "follow_up_unreached"
        elif unhappy:
            action = "reopen" if has_department else "reopen_on_grid"
        else:
            action = "follow_up"
        return _follow_up(
            actor=actor,
            petition_id=petition_id,
            action=action,
            reached=reached,
            solved=solved,
            satisfaction=satisfaction,
            note=note,
        )


def _follow_up(
    *,
    actor: User,
    petition_id: int,
    action: str,
    reached: bool,
    solved: bool | None,
    satisfaction: str,
    note: str,
) -> Petition:
    """Write the call-back record and take ``action`` (close, stay resolved, or reopen)."""

    def change(p: Petition, now: dt.datetime) -> None:
        FollowUp.objects.create(
            petition=p,
            reached=reached,
            solved=solved,
            satisfaction=satisfaction,
            note=note,
            by=actor,
            at=now,
        )
        if action == "follow_up":
            p.closed_at = now
        elif action in ("reopen", "reopen_on_grid"):
            p.rehandle_count += 1
            p.escalated = p.escalated or p.rehandle_count >= ESCALATE_AFTER_REHANDLES
            p.resolved_at = None
            p.resolved_on_grid = False
            p.follow_up_due = None
            p.resolve_due = add_working_days(now, _resolve_days(p))
            if action == "reopen":
                p.dispatched_at = now
                p.accepted_at = None
                p.accept_due = add_hours(now, _accept_hours(p))

    return workflow.apply(petition_id=petition_id, action=action, actor=actor, note=note, change=change)


def petition_cancel(*, actor: User, petition_id: int, reason: str) -> Petition:
    """Cancel a duplicate or withdrawn petition, with the reason."""
    reason = _required(reason, "reason", _("the reason"))
    return workflow.apply(petition_id=petition_id, action="cancel", actor=actor, note=reason)
