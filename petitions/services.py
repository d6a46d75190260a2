"""Petition services: every write to a petition goes through one of these (and through ``workflow``).

Each takes the acting user and keyword arguments named like the API's and the forms' fields, so the
step registry (``steps``) passes a validated body straight through.
"""

import datetime as dt
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from governance.access import get_visible_or_404, restrict
from governance.exceptions import TransitionNotAllowed
from governance.models import Department, User
from grids.identity import is_valid_phone
from grids.models import Grid, Household, Patrol

from . import workflow
from .deadlines import Deadline, add_hours, working_days_deadline, working_hours_deadline
from .models import (
    SATISFIED_LEVELS,
    Category,
    Channel,
    CoordinateSystem,
    Extension,
    FollowUp,
    Petition,
    PetitionEvent,
    Priority,
    Satisfaction,
    Status,
)

# A third re-handle flags the petition for escalation (提级督办).
ESCALATE_AFTER_REHANDLES = 3


def _accept_hours(petition: Petition) -> int:
    c = petition.category
    return c.urgent_accept_hours if petition.priority == Priority.URGENT else c.accept_hours


def _resolve_days(petition: Petition) -> int:
    c = petition.category
    return c.urgent_resolve_working_days if petition.priority == Priority.URGENT else c.resolve_working_days


def _accept_deadline(petition: Petition, now: dt.datetime) -> Deadline:
    """The accept clock: the category's working hours, or around the clock when urgent or so configured."""
    c = petition.category
    hours = _accept_hours(petition)
    if petition.priority == Priority.URGENT or not c.accept_on_working_hours:
        return Deadline(add_hours(now, hours))
    return working_hours_deadline(now, hours, c.work_starts, c.work_ends)


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
    channel: str = Channel.VISIT,
    place: str = "",
    latitude: float | Decimal | None = None,
    longitude: float | Decimal | None = None,
    coordinate_system: str = "",
    patrol: Patrol | None = None,
) -> Petition:
    """Log a resident's request on a grid (网格吹哨). The grid must lie in the actor's scope.

    It may carry the channel it came by, a free-text place and a point (``point_errors``: both
    coordinates or neither, in range, with the coordinate system it came in; kept as it came).

    Checks first (reads only), then ``workflow.start`` writes the petition and its first event.
    Department staff may not (``PermissionDenied``): they receive petitions, they do not log them.
    """
    errors: dict[str, str] = {}
    if not workflow.may_register(actor):
        raise PermissionDenied(workflow.refusal_to_register(actor))
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
    if channel not in Channel.values:
        errors["channel"] = _("Choose a channel from the list.")
    latitude, longitude, coordinate_system = _point(latitude, longitude, coordinate_system, errors)
    if patrol is not None and (patrol.grid_id != grid.pk or channel != Channel.PATROL):
        errors["grid"] = _("A problem found on a patrol is registered on the patrol's grid.")
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
        channel=channel,
        place=(place or "").strip(),
        latitude=latitude,
        longitude=longitude,
        coordinate_system=coordinate_system,
        patrol=patrol,
        registered_by=actor,
        registered_at=timezone.now(),
    )
    try:
        petition.full_clean(exclude=["registered_by", "grid", "category", "household", "patrol"])
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            errors.setdefault(field, messages[0])
    if errors:
        raise ValidationError(errors)
    resolve = working_days_deadline(petition.registered_at, _resolve_days(petition))
    petition.resolve_due, petition.due_provisional = resolve.at, resolve.provisional
    petition.resolve_started_at = petition.registered_at
    return workflow.start(petition=petition, actor=actor)


_SIX_PLACES = Decimal("0.000001")


def _point(
    latitude: float | Decimal | None, longitude: float | Decimal | None, system: str, errors: dict[str, str]
) -> tuple[Decimal | None, Decimal | None, str]:
    """The point as stored (six decimals, about 0.1 m), or the errors naming each field.

    Both coordinates or neither; latitude within ±90, longitude within ±180; the coordinate system
    it came in is required with a point (a phone's browser reports WGS-84, Chinese map apps GCJ-02).
    Without a point a coordinate system means nothing and is not kept.
    """
    if latitude is None and longitude is None:
        return None, None, ""
    if latitude is None:
        errors["latitude"] = _("Give the latitude with the longitude, or neither.")
    elif not -90 <= latitude <= 90:
        errors["latitude"] = _("The latitude lies between -90 and 90 degrees.")
    if longitude is None:
        errors["longitude"] = _("Give the longitude with the latitude, or neither.")
    elif not -180 <= longitude <= 180:
        errors["longitude"] = _("The longitude lies between -180 and 180 degrees.")
    if system not in CoordinateSystem.values:
        errors["coordinate_system"] = _("Say which coordinate system the point is in (GCJ-02, WGS-84 or BD-09).")
    if latitude is None or longitude is None or "latitude" in errors or "longitude" in errors:
        return None, None, system
    return Decimal(str(latitude)).quantize(_SIX_PLACES), Decimal(str(longitude)).quantize(_SIX_PLACES), system


def petition_register_from_patrol(
    *,
    actor: User,
    patrol_id: int,
    category: Category,
    title: str,
    description: str,
    priority: str = Priority.NORMAL,
    household: Household | None = None,
    reporter_name: str = "",
    reporter_phone: str = "",
) -> Petition:
    """A problem found on a patrol becomes a petition in one step (巡查发现): on the patrol's grid,
    channel ``patrol``, the patrol's place copied, linked back to the patrol. 404 for a patrol the
    actor may not see."""
    patrol = get_visible_or_404(actor, Patrol.objects.select_related("grid"), pk=patrol_id)
    return petition_register(
        actor=actor,
        grid=patrol.grid,
        category=category,
        title=title,
        description=description,
        priority=priority,
        household=household,
        reporter_name=reporter_name,
        reporter_phone=reporter_phone,
        channel=Channel.PATROL,
        place=patrol.problem_place,
        patrol=patrol,
    )


def petition_report(*, actor: User, petition_id: int, note: str) -> Petition:
    """The worker's whistle (吹哨): the grid cannot handle it, so it goes up to the street with a note.

    It waits in the street's dispatch queue (status ``reported``) with its own deadline, the
    category's ``dispatch_working_days`` on the working-day calendar; the grid may still resolve it.
    """
    note = _required(note, "note", _("the note"))

    def change(p: Petition, now: dt.datetime) -> None:
        dispatch = working_days_deadline(now, p.category.dispatch_working_days)
        p.dispatch_due = dispatch.at
        p.due_provisional = p.due_provisional or dispatch.provisional

    return workflow.apply(petition_id=petition_id, action="report", actor=actor, note=note, change=change)


def petition_dispatch(*, actor: User, petition_id: int, department: Department, note: str = "") -> Petition:
    """Send the petition to the department responsible (整理上报); the accept clock starts."""
    if not department.is_active:
        raise ValidationError({"department": _("This department is not active.")})

    def change(p: Petition, now: dt.datetime) -> None:
        p.department = department
        p.dispatched_at = now
        accept = _accept_deadline(p, now)
        p.accept_due = accept.at
        p.due_provisional = p.due_provisional or accept.provisional

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
            follow_up = working_days_deadline(now, p.category.follow_up_working_days)
            p.follow_up_due, p.due_provisional = follow_up.at, follow_up.provisional

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
            resolve = working_days_deadline(now, _resolve_days(p))
            p.resolve_due, p.due_provisional = resolve.at, resolve.provisional
            p.resolve_started_at = now
            if action == "reopen":
                p.dispatched_at = now
                p.accepted_at = None
                accept = _accept_deadline(p, now)
                p.accept_due = accept.at
                p.due_provisional = p.due_provisional or accept.provisional

    return workflow.apply(petition_id=petition_id, action=action, actor=actor, note=note, change=change)


def petition_cancel(*, actor: User, petition_id: int, reason: str) -> Petition:
    """Cancel a duplicate or withdrawn petition, with the reason."""
    reason = _required(reason, "reason", _("the reason"))
    return workflow.apply(petition_id=petition_id, action="cancel", actor=actor, note=reason)


def _day(value: dt.datetime | None) -> str:
    return f"{timezone.localtime(value):%Y-%m-%d %H:%M}" if value else "—"


def petition_request_extension(*, actor: User, petition_id: int, reason: str, proposed_due: dt.date) -> Petition:
    """The department asks for more time (延期申请), with the reason and the date it proposes."""
    reason = _required(reason, "reason", _("the reason"))

    def change(p: Petition, now: dt.datetime) -> None:
        if p.resolve_due is not None and proposed_due <= timezone.localtime(p.resolve_due).date():
            message = _("Propose a date after the current deadline (%(due)s).") % {"due": _day(p.resolve_due)}
            raise ValidationError({"proposed_due": message})
        Extension.objects.create(petition=p, reason=reason, proposed_due=proposed_due, requested_by=actor,
                                 requested_at=now)

    note = _("%(reason)s (proposed deadline %(date)s)") % {"reason": reason, "date": f"{proposed_due:%Y-%m-%d}"}
    return workflow.apply(petition_id=petition_id, action="request_extension", actor=actor, note=note, change=change)


def _decide_extension(p: Petition, actor: User, now: dt.datetime, decision: str) -> Extension:
    extension = p.extensions.select_for_update().get(decision=Extension.Decision.PENDING)
    extension.decision, extension.decided_by, extension.decided_at = decision, actor, now
    extension.previous_due = p.resolve_due
    extension.save()
    return extension


def petition_approve_extension(*, actor: User, petition_id: int, note: str = "") -> Petition:
    """The street approves: the resolve deadline moves to the proposed date (same time of day), recorded;
    on-time then counts against it (``resolve_due``), and ``extension_count`` says it was extended."""

    def change(p: Petition, now: dt.datetime) -> str:
        extension = _decide_extension(p, actor, now, Extension.Decision.APPROVED)
        before = timezone.localtime(p.resolve_due) if p.resolve_due else timezone.localtime(now)
        day = extension.proposed_due
        p.resolve_due = before.replace(year=day.year, month=day.month, day=day.day)
        p.extension_count += 1
        return f"{_DEADLINE_LABELS['resolve_due']}: {_day(extension.previous_due)} → {_day(p.resolve_due)}"

    return workflow.apply(petition_id=petition_id, action="approve_extension", actor=actor, note=note, change=change)


def petition_refuse_extension(*, actor: User, petition_id: int, reason: str) -> Petition:
    """The street refuses the extension, with the reason; the deadline stays."""
    reason = _required(reason, "reason", _("the reason"))

    def change(p: Petition, now: dt.datetime) -> None:
        _decide_extension(p, actor, now, Extension.Decision.REFUSED)

    return workflow.apply(petition_id=petition_id, action="refuse_extension", actor=actor, note=reason, change=change)


def petition_pause(*, actor: User, petition_id: int, reason: str) -> Petition:
    """Pause the resolve clock while waiting on the resident (挂起), at most the category's days in all."""
    reason = _required(reason, "reason", _("the reason"))

    def change(p: Petition, now: dt.datetime) -> None:
        allowance = dt.timedelta(days=p.category.max_pause_days) - p.paused_total
        if allowance <= dt.timedelta(0):
            raise TransitionNotAllowed(
                _("The clock has been paused for the %(days)d days the category allows.")
                % {"days": p.category.max_pause_days}
            )
        p.paused_at, p.pause_until = now, now + allowance

    return workflow.apply(petition_id=petition_id, action="pause", actor=actor, note=reason, change=change)


def petition_resume(*, actor: User, petition_id: int, note: str = "") -> Petition:
    """Start the clock again: the resolve deadline moves on by the time paused (up to the limit)."""

    def change(p: Petition, now: dt.datetime) -> None:
        assert p.paused_at is not None and p.pause_until is not None  # the transition's guard
        used = min(now, p.pause_until) - p.paused_at
        if p.resolve_due is not None:
            p.resolve_due += used
        p.paused_total += used
        p.paused_at = p.pause_until = None

    return workflow.apply(petition_id=petition_id, action="resume", actor=actor, note=note, change=change)


RECOMPUTE = "recompute_deadlines"
CLOCK_FIELDS = ("current_due", "warn_yellow_at", "warn_red_at")
_DEADLINE_LABELS = {
    "resolve_due": gettext_lazy("resolve by"),
    "accept_due": gettext_lazy("accept by"),
    "follow_up_due": gettext_lazy("follow up by"),
}


def petition_recompute_deadlines(*, actor: User, now: dt.datetime | None = None) -> int:
    """Recompute, once, the future deadlines of open petitions set on a guessed calendar.

    Run after a year's schedule is entered (the admin button, ``manage.py recompute_deadlines``). Each
    deadline is counted again from the moment it was first counted from, on the calendar as it is now;
    each change is recorded in the petition's timeline. Returns how many petitions changed.
    """
    now = now or timezone.now()
    changed = 0
    ids = list(Petition.objects.filter(due_provisional=True, current_due__isnull=False).values_list("id", flat=True))
    for petition_id in ids:
        with transaction.atomic():
            p = Petition.objects.select_for_update(of=("self",)).select_related("category").get(pk=petition_id)
            if not p.due_provisional or not p.is_open:
                continue
            fresh: dict[str, Deadline] = {}
            if p.resolve_due and not p.extension_count:  # an approved extension set it by hand
                fresh["resolve_due"] = working_days_deadline(p.resolve_started_at or p.registered_at, _resolve_days(p))
            if p.accept_due and p.dispatched_at:
                fresh["accept_due"] = _accept_deadline(p, p.dispatched_at)
            if p.follow_up_due and p.resolved_at:
                fresh["follow_up_due"] = working_days_deadline(p.resolved_at, p.category.follow_up_working_days)
            notes = []
            for field, deadline in fresh.items():
                old = getattr(p, field)
                if old > now and deadline.at != old:
                    setattr(p, field, deadline.at)
                    notes.append(
                        f"{_DEADLINE_LABELS[field]}: "
                        f"{timezone.localtime(old):%Y-%m-%d %H:%M} → {timezone.localtime(deadline.at):%Y-%m-%d %H:%M}"
                    )
            p.due_provisional = any(d.provisional for d in fresh.values())
            p.set_clock()
            p.save(update_fields=["resolve_due", "accept_due", "follow_up_due", "due_provisional", *CLOCK_FIELDS])
            p.save_reminder_schedule()
            if notes:
                changed += 1
                PetitionEvent.objects.create(
                    petition=p, action=RECOMPUTE, from_status=p.status, to_status=p.status, actor=actor, at=now,
                    note="; ".join(notes),
                )
    return changed
