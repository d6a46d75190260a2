"""The state machine of the closed loop 网格吹哨 → 部门报到 → 办结反馈 → 回访.

One table of transitions, one function that applies them, one that starts a petition. Nothing
else writes ``Petition.status`` (the field refuses it) or ``current_due`` (derived from the status).

    registered ──report──▶ reported ──dispatch──▶ dispatched (the worker's whistle, 吹哨)
    registered ──dispatch──▶ dispatched ──accept──▶ accepted ──resolve──▶ resolved ──follow_up──▶ closed
        │                       │                                            │
        │                       └──return──▶ registered                      └─reopen─▶ dispatched (重办)
        ├──resolve_on_grid──▶ resolved                                       └─reopen_on_grid─▶ registered
        └──cancel──▶ cancelled

While accepted, the clock itself has steps that keep the status (guarded by the petition's own state):
request_extension (延期申请, the department) → approve_extension / refuse_extension (the street);
pause (挂起, waiting on the resident) → resume.
"""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from governance.access import get_visible_or_404, records_on_chain
from governance.exceptions import TransitionNotAllowed
from governance.models import User

from .models import Extension, Petition, PetitionEvent, Status

R = User.Role


Guard = Callable[[Petition], bool]


@dataclass(frozen=True)
class Transition:
    action: str
    sources: frozenset[str]
    target: str
    roles: frozenset[str]
    label: object
    # A condition beyond the status (a pending extension, a paused clock), and what to say if unmet.
    guard: Guard | None = None
    refusal: object = None


def _t(
    action: str, sources: set[str], target: str, roles: set[str], label: object,
    guard: Guard | None = None, refusal: object = None,
) -> Transition:
    return Transition(action, frozenset(sources), target, frozenset(roles), label, guard, refusal)


def _pending_extension(p: Petition) -> bool:
    return p.extensions.filter(decision=Extension.Decision.PENDING).exists()


def _may_ask_extension(p: Petition) -> bool:
    return not p.is_paused and not _pending_extension(p)


# Leadership (and superusers) may take any step; the table names who else may.
TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in (
        # The worker's whistle (吹哨): the grid cannot handle it, the street is to dispatch it.
        _t("report", {Status.REGISTERED}, Status.REPORTED, {R.WORKER}, gettext_lazy("report to the street")),
        _t("dispatch", {Status.REGISTERED, Status.REPORTED}, Status.DISPATCHED, {R.OFFICIAL},
           gettext_lazy("dispatch")),
        _t("cancel", {Status.REGISTERED, Status.REPORTED}, Status.CANCELLED, {R.OFFICIAL}, gettext_lazy("cancel")),
        # Reported up or not, the grid still resolves what it can.
        _t("resolve_on_grid", {Status.REGISTERED, Status.REPORTED}, Status.RESOLVED, {R.WORKER, R.OFFICIAL},
           gettext_lazy("resolve on the grid")),
        _t("accept", {Status.DISPATCHED}, Status.ACCEPTED, {R.DEPARTMENT}, gettext_lazy("accept")),
        _t("return", {Status.DISPATCHED}, Status.REGISTERED, {R.DEPARTMENT}, gettext_lazy("return")),
        _t("resolve", {Status.ACCEPTED}, Status.RESOLVED, {R.DEPARTMENT}, gettext_lazy("resolve")),
        _t("follow_up", {Status.RESOLVED}, Status.CLOSED, {R.WORKER, R.OFFICIAL}, gettext_lazy("follow up")),
        _t("follow_up_unreached", {Status.RESOLVED}, Status.RESOLVED, {R.WORKER, R.OFFICIAL},
           gettext_lazy("follow-up call, resident not reached")),
        _t("reopen", {Status.RESOLVED}, Status.DISPATCHED, {R.WORKER, R.OFFICIAL},
           gettext_lazy("reopen for re-handling")),
        _t("reopen_on_grid", {Status.RESOLVED}, Status.REGISTERED, {R.WORKER, R.OFFICIAL},
           gettext_lazy("reopen on the grid")),
        _t("request_extension", {Status.ACCEPTED}, Status.ACCEPTED, {R.DEPARTMENT},
           gettext_lazy("request an extension"), _may_ask_extension,
           gettext_lazy("An extension is already waiting for a decision, or the clock is paused.")),
        _t("approve_extension", {Status.ACCEPTED}, Status.ACCEPTED, {R.OFFICIAL},
           gettext_lazy("approve the extension"), _pending_extension,
           gettext_lazy("No extension is waiting for a decision.")),
        _t("refuse_extension", {Status.ACCEPTED}, Status.ACCEPTED, {R.OFFICIAL},
           gettext_lazy("refuse the extension"), _pending_extension,
           gettext_lazy("No extension is waiting for a decision.")),
        _t("pause", {Status.ACCEPTED}, Status.ACCEPTED, {R.DEPARTMENT, R.OFFICIAL},
           gettext_lazy("pause the clock"), lambda p: not p.is_paused,
           gettext_lazy("The clock is paused already.")),
        _t("resume", {Status.ACCEPTED}, Status.ACCEPTED, {R.DEPARTMENT, R.OFFICIAL},
           gettext_lazy("resume the clock"), lambda p: p.is_paused,
           gettext_lazy("The clock is not paused.")),
    )
}

# Actions recorded in the timeline that are not status transitions.
REGISTER = "register"


def action_label(action: str) -> object:
    """How a step of the timeline reads on screen (pages and admin alike), not its code."""
    if action == REGISTER:
        return gettext_lazy("registered")
    transition = TRANSITIONS.get(action)
    return transition.label if transition else action


def may_register(user: User) -> bool:
    """Whether ``user`` may log petitions: those with a place on the chain or the whole district.

    Not department staff (they receive petitions), and not an account with no scope at all (a party
    member signed in for the micro-wishes): no grid lies in its area.
    """
    return records_on_chain(user)


def refusal_to_register(user: User) -> str:
    """Why ``user`` may not log petitions (``may_register`` said no)."""
    if user.is_department_staff:
        return _("Department staff cannot register petitions.")
    return _("Your account has no area on the chain, so it cannot register petitions.")


def may(user: User, petition: Petition, action: str) -> bool:
    """Whether ``user`` may take ``action`` on ``petition`` now (for showing buttons)."""
    transition = TRANSITIONS[action]
    return (
        petition.status in transition.sources
        and _role_allows(user, petition, transition)
        and (transition.guard is None or transition.guard(petition))
    )


def _role_allows(user: User, petition: Petition, transition: Transition) -> bool:
    if user.sees_everything:
        return True
    if user.role not in transition.roles:
        return False
    if user.role == R.DEPARTMENT:
        return petition.department_id is not None and petition.department_id == user.department_id
    return True


# Changes the locked petition's fields; may return a line for the event's note (what moved).
Change = Callable[[Petition, dt.datetime], str | None]


def apply(
    *,
    petition_id: int,
    action: str,
    actor: User,
    note: str = "",
    change: Change | None = None,
) -> Petition:
    """Apply ``action`` in one transaction: lock the row, re-check state and permission, write, log.

    Raises ``Http404`` when the petition is missing or outside the actor's scope,
    ``PermissionDenied`` when the actor's role may not take this step, and ``TransitionNotAllowed``
    when the current status does not allow it. Nothing is written in any of these cases.
    """
    transition = TRANSITIONS[action]
    with transaction.atomic():
        # The category comes with the row: most steps' deadlines read it (one query less each).
        locked = Petition.objects.select_for_update(of=("self",)).select_related("category")
        petition = get_visible_or_404(actor, locked, pk=petition_id)
        if not _role_allows(actor, petition, transition):
            raise PermissionDenied(_("You may not %(action)s this petition.") % {"action": transition.label})
        if petition.status not in transition.sources:
            raise TransitionNotAllowed(
                _("Cannot %(action)s a petition that is %(status)s.")
                % {"action": transition.label, "status": petition.get_status_display()}
            )
        if transition.guard is not None and not transition.guard(petition):
            raise TransitionNotAllowed(str(transition.refusal))
        now = timezone.now()
        from_status = petition.status
        department_before = petition.department_id
        due_before = petition.current_due
        if change is not None:
            note = "\n".join(filter(None, [note, change(petition, now)]))
        petition._move_to(transition.target)
        petition.save()
        petition.save_reminder_schedule()
        PetitionEvent.objects.create(
            petition=petition,
            action=action,
            from_status=from_status,
            to_status=petition.status,
            actor=actor,
            at=now,
            note=note,
            # The department concerned: the one it is with now, or the one that just sent it back.
            department_id=petition.department_id or department_before,
            due=due_before,
        )
    return petition


def start(*, petition: Petition, actor: User) -> Petition:
    """Save a new, checked petition as registered, with the first event of its timeline.

    Inside a caller's transaction (the API's idempotent create) the writes join it without a
    savepoint of their own: nothing here recovers from a failed insert, and a savepoint costs two
    round trips.
    """
    petition._move_to(Status.REGISTERED)
    with transaction.atomic(savepoint=False):
        petition.save()
        petition.save_reminder_schedule()
        PetitionEvent.objects.create(
            petition=petition,
            action=REGISTER,
            from_status="",
            to_status=Status.REGISTERED,
            actor=actor,
            at=petition.registered_at,
            note="",
        )
    return petition


__all__ = [
    "REGISTER", "TRANSITIONS", "Transition", "TransitionNotAllowed",
    "action_label", "apply", "may", "may_register", "refusal_to_register", "start",
]
