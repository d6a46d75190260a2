"""Deliberation (五议): 居民提议 → 两委审议 → 民主商议 → 协同决议 → 公示 → 实施 → 大众评议.

The shape of ``parties.wishes`` and ``petitions.workflow``: one table of transitions, one ``apply``
that locks the row, checks who may act and from which status, writes the fields and an append-only
event. The services below are the only writers; pages and admin call them. Recording the meeting
(民主商议) makes it a confirmed service of each Party member who took part, with the points of the
deliberation rule (``parties.units.services_for_meeting``).

    proposed ──accept──▶ accepted ──discuss──▶ discussed ──decide──▶ decided ──publish──▶ noticed
        └──reject──▶ rejected                                                               │
                     evaluated ◀──evaluate (each resident)── carried_out ◀──carry_out───────┘
                        └──evaluate──┘      (only once the public notice has ended)

Who acts: the staff whose scope holds the community (its workers and two committees, the street's
officials above it) and district leadership; department staff and grid workers below it do not.
"""

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from governance.access import Viewer, covers, restrict, subtree_q
from governance.exceptions import TransitionNotAllowed
from governance.models import SATISFIED_LEVELS, Satisfaction, User

from .models import (
    COMMUNITY_KINDS,
    Deliberation,
    DeliberationEvaluation,
    DeliberationEvent,
    DeliberationSource,
    DeliberationStatus,
    Member,
    Organization,
)
from .units import services_for_meeting

S = DeliberationStatus
PROPOSE = "propose"


@dataclass(frozen=True)
class Transition:
    action: str
    sources: frozenset[str]
    target: str
    label: Any


TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in (
        Transition("accept", frozenset({S.PROPOSED}), S.ACCEPTED, gettext_lazy("accept for deliberation")),
        Transition("reject", frozenset({S.PROPOSED}), S.REJECTED, gettext_lazy("turn down")),
        Transition("discuss", frozenset({S.ACCEPTED}), S.DISCUSSED, gettext_lazy("record the meeting")),
        Transition("decide", frozenset({S.DISCUSSED}), S.DECIDED, gettext_lazy("record the resolution")),
        Transition("publish", frozenset({S.DECIDED}), S.NOTICED, gettext_lazy("post the public notice")),
        Transition("carry_out", frozenset({S.NOTICED}), S.CARRIED_OUT, gettext_lazy("record it as carried out")),
        Transition(
            "evaluate", frozenset({S.CARRIED_OUT, S.EVALUATED}), S.EVALUATED, gettext_lazy("record an evaluation")
        ),
    )
}
# The step that waits on the staff in each status (the home panel counts these).
NEXT_STEP: dict[str, str] = {
    S.PROPOSED: "accept", S.ACCEPTED: "discuss", S.DISCUSSED: "decide", S.DECIDED: "publish",
    S.NOTICED: "carry_out", S.CARRIED_OUT: "evaluate",
}


def _may_act(user: Viewer, deliberation: Deliberation) -> bool:
    if not isinstance(user, User) or not user.is_active:
        return False
    return user.sees_everything or (not user.is_department_staff and covers(user, deliberation))


def _guard(action: str, deliberation: Deliberation, now: dt.datetime) -> str | None:
    """Why ``action`` cannot be taken now although the status allows it (None when it can)."""
    if action == "carry_out" and deliberation.notice_ends_at and now < deliberation.notice_ends_at:
        return _("The resolution is on public notice until %(date)s; carry it out after that.") % {
            "date": date_format(timezone.localtime(deliberation.notice_ends_at), "SHORT_DATETIME_FORMAT")
        }
    return None


def may(user: Viewer, deliberation: Deliberation, action: str, now: dt.datetime | None = None) -> bool:
    """Whether ``user`` may take ``action`` now (for showing the step's form)."""
    transition = TRANSITIONS[action]
    return (
        deliberation.status in transition.sources
        and _guard(action, deliberation, now or timezone.now()) is None
        and _may_act(user, deliberation)
    )


Change = Callable[[Deliberation, dt.datetime], None]


def apply(
    *, deliberation_id: int, action: str, actor: User, note: str = "", change: Change | None = None
) -> Deliberation:
    """Take ``action`` in one transaction: lock, re-check who and from which status, write, log.

    ``Http404`` when the matter is missing or outside the actor's scope (the same answer),
    ``PermissionDenied`` when the actor's role takes no steps, ``TransitionNotAllowed`` (409) when
    the status (or the public notice still running) does not allow it. Nothing is written then.
    """
    transition = TRANSITIONS[action]
    with transaction.atomic():
        deliberation = Deliberation.objects.select_for_update().filter(pk=deliberation_id).first()
        if deliberation is None or not covers(actor, deliberation):
            raise Http404
        if not _may_act(actor, deliberation):
            raise PermissionDenied(_("You may not %(action)s this matter.") % {"action": transition.label})
        if deliberation.status not in transition.sources:
            raise TransitionNotAllowed(
                _("Cannot %(action)s a matter that is %(status)s.")
                % {"action": transition.label, "status": deliberation.get_status_display()}
            )
        now = timezone.now()
        refusal = _guard(action, deliberation, now)
        if refusal:
            raise TransitionNotAllowed(refusal)
        from_status = deliberation.status
        if change is not None:
            change(deliberation, now)
        deliberation.status = transition.target
        deliberation.save()
        DeliberationEvent.objects.create(
            deliberation=deliberation, action=action, from_status=from_status, to_status=deliberation.status,
            actor=actor, at=now, note=note,
        )
    return deliberation


# -------------------------------------------------------------------------------------- services


def _text(value: str | None) -> str:
    return (value or "").strip()


def _raise(errors: dict[str, str]) -> None:
    if errors:
        raise ValidationError(errors)


def deliberation_propose(
    *,
    actor: User,
    community: Organization,
    title: str,
    description: str = "",
    proposer_name: str = "",
    source: str = DeliberationSource.RESIDENTS,
) -> Deliberation:
    """居民提议: a community worker records a matter residents raise (or one from recurring petitions)."""
    errors: dict[str, str] = {}
    if community.kind not in COMMUNITY_KINDS:
        errors["community"] = _("Choose a community or a village.")
    elif not isinstance(actor, User) or actor.is_department_staff or not covers(actor, community):
        errors["community"] = _("This community is not in your area.")
    deliberation = Deliberation(
        community=community, title=_text(title), description=_text(description), source=source,
        proposer_name=_text(proposer_name), recorded_by=actor, proposed_at=timezone.now(),
    )
    try:
        deliberation.full_clean(exclude=["community", "recorded_by"])
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            errors.setdefault(field, messages[0])
    _raise(errors)
    with transaction.atomic():
        deliberation.save()
        DeliberationEvent.objects.create(
            deliberation=deliberation, action=PROPOSE, from_status="", to_status=deliberation.status,
            actor=actor, at=deliberation.proposed_at, note=deliberation.title,
        )
    return deliberation


def deliberation_accept(*, actor: User, deliberation_id: int, opinion: str = "") -> Deliberation:
    """两委审议: the two committees take the matter up for deliberation."""
    opinion = _text(opinion)

    def change(d: Deliberation, now: dt.datetime) -> None:
        d.review_note = opinion

    return apply(deliberation_id=deliberation_id, action="accept", actor=actor, note=opinion, change=change)


def deliberation_reject(*, actor: User, deliberation_id: int, reason: str) -> Deliberation:
    """两委审议: the two committees do not take it up, and say why (the proposer is told)."""
    reason = _text(reason)
    _raise({"reason": _("Say why the matter is not taken up.")} if not reason else {})

    def change(d: Deliberation, now: dt.datetime) -> None:
        d.review_note = reason

    return apply(deliberation_id=deliberation_id, action="reject", actor=actor, note=reason, change=change)


def deliberation_discuss(
    *,
    actor: User,
    deliberation_id: int,
    meeting_on: dt.date,
    meeting_place: str,
    attendees: int,
    minutes: str,
    units: str = "",
    members: Iterable[Member] = (),
) -> Deliberation:
    """民主商议: the meeting where residents, units and members discussed it."""
    meeting_place, minutes, members = _text(meeting_place), _text(minutes), list(members)
    errors: dict[str, str] = {}
    if meeting_on > timezone.localdate():
        errors["meeting_on"] = _("Record a meeting that has taken place.")
    if not meeting_place:
        errors["meeting_place"] = _("Say where the meeting was held.")
    if attendees is None or attendees < 1:
        errors["attendees"] = _("At least one person attended.")
    if not minutes:
        errors["minutes"] = _("Write down what was said.")
    _raise(errors)

    def change(d: Deliberation, now: dt.datetime) -> None:
        ours = Member.objects.filter(subtree_q(d.community, "organization"), pk__in=[m.pk for m in members])
        if ours.count() != len({m.pk for m in members}):
            raise ValidationError({"members": _("Choose Party members of this community.")})
        d.meeting_on, d.meeting_place, d.attendees, d.minutes = meeting_on, meeting_place, attendees, minutes
        d.units = _text(units)
        d.members.set(members)
        services_for_meeting(deliberation=d, members=members, actor=actor)

    note = _("%(date)s, %(place)s, %(n)s attended") % {"date": meeting_on, "place": meeting_place, "n": attendees}
    return apply(deliberation_id=deliberation_id, action="discuss", actor=actor, note=note, change=change)


def deliberation_decide(
    *,
    actor: User,
    deliberation_id: int,
    resolution: str,
    votes_for: int,
    votes_against: int,
    votes_abstain: int,
    responsible: str,
    deadline: dt.date,
) -> Deliberation:
    """协同决议: the resolution, its vote tally (no more votes than attendees), who does it and by when."""
    resolution, responsible = _text(resolution), _text(responsible)
    errors: dict[str, str] = {}
    if not resolution:
        errors["resolution"] = _("Write down the resolution.")
    if not responsible:
        errors["responsible"] = _("Say who carries it out.")
    for field, value in (("votes_for", votes_for), ("votes_against", votes_against), ("votes_abstain", votes_abstain)):
        if value is None or value < 0:
            errors[field] = _("A number of votes, zero or more.")
    _raise(errors)

    def change(d: Deliberation, now: dt.datetime) -> None:
        problems: dict[str, str] = {}
        cast = votes_for + votes_against + votes_abstain
        if d.attendees is not None and cast > d.attendees:
            problems["votes_for"] = _(
                "%(cast)s votes for, against and abstaining, but only %(attendees)s attended the meeting."
            ) % {"cast": cast, "attendees": d.attendees}
        if d.meeting_on and deadline < d.meeting_on:
            problems["deadline"] = _("The deadline cannot be before the meeting.")
        _raise(problems)
        d.resolution, d.responsible, d.deadline = resolution, responsible, deadline
        d.votes_for, d.votes_against, d.votes_abstain = votes_for, votes_against, votes_abstain

    note = _("%(for)s for, %(against)s against, %(abstain)s abstaining") % {
        "for": votes_for, "against": votes_against, "abstain": votes_abstain,
    }
    return apply(deliberation_id=deliberation_id, action="decide", actor=actor, note=note, change=change)


def deliberation_publish(*, actor: User, deliberation_id: int) -> Deliberation:
    """公示: the resolution goes on public notice for ``DELIBERATION_NOTICE_DAYS`` days."""

    def change(d: Deliberation, now: dt.datetime) -> None:
        d.notice_starts_at = now
        d.notice_ends_at = now + dt.timedelta(days=settings.DELIBERATION_NOTICE_DAYS)

    return apply(deliberation_id=deliberation_id, action="publish", actor=actor, change=change)


def deliberation_carry_out(*, actor: User, deliberation_id: int, carried_out_note: str) -> Deliberation:
    """实施: what was done, once the public notice has ended."""
    text = _text(carried_out_note)
    _raise({"carried_out_note": _("Say what was done.")} if not text else {})

    def change(d: Deliberation, now: dt.datetime) -> None:
        d.carried_out_note = text

    return apply(deliberation_id=deliberation_id, action="carry_out", actor=actor, note=text, change=change)


def deliberation_evaluate(
    *, actor: User, deliberation_id: int, satisfaction: str, resident_name: str = "", comment: str = ""
) -> Deliberation:
    """大众评议: one resident's evaluation on the five-level scale; several residents evaluate each matter."""
    if satisfaction not in Satisfaction.values:
        raise ValidationError({"satisfaction": _("Choose the resident's satisfaction.")})
    resident_name, comment = _text(resident_name), _text(comment)

    def change(d: Deliberation, now: dt.datetime) -> None:
        DeliberationEvaluation.objects.create(
            deliberation=d, resident_name=resident_name, satisfaction=satisfaction, comment=comment,
            recorded_by=actor, at=now,
        )

    label = Satisfaction(satisfaction).label
    return apply(deliberation_id=deliberation_id, action="evaluate", actor=actor, note=str(label), change=change)


# ------------------------------------------------------------------------------------- selectors


def deliberations_for(user: Viewer) -> QuerySet[Deliberation]:
    """The matters of the communities in ``user``'s scope, newest first (none for department staff)."""
    if isinstance(user, User) and user.is_department_staff:
        return Deliberation.objects.none()
    return restrict(user, Deliberation.objects.select_related("community")).order_by("-proposed_at", "-id")


def deliberation_for(user: Viewer, deliberation_id: int) -> Deliberation:
    """One matter; 404 when missing or outside the scope (the same answer)."""
    deliberation = deliberations_for(user).select_related("recorded_by").filter(pk=deliberation_id).first()
    if deliberation is None:
        raise Http404
    return deliberation


def waiting_q(now: dt.datetime | None = None) -> Q:
    """Matters waiting on the staff's next step (a resolution on notice waits once the notice ends)."""
    now = now or timezone.now()
    return Q(status__in=[s for s in NEXT_STEP if s != S.NOTICED]) | Q(status=S.NOTICED, notice_ends_at__lte=now)


def waiting_counts(queryset: QuerySet[Deliberation], now: dt.datetime | None = None) -> dict[str, int]:
    """How many matters wait for each step, in one query: ``{"accept": 2, "discuss": 0, …}``."""
    rows = queryset.filter(waiting_q(now)).order_by().values("status").annotate(n=Count("id"))
    by_status = {row["status"]: row["n"] for row in rows}
    return {step: by_status.get(status, 0) for status, step in NEXT_STEP.items()}


@dataclass(frozen=True)
class Share:
    satisfied: int
    total: int

    @property
    def percent(self) -> float | None:
        return round(100 * self.satisfied / self.total, 1) if self.total else None


def satisfaction_share(deliberation: Deliberation) -> Share:
    """The residents' evaluations: how many were satisfied (very, satisfied, basically) of how many."""
    figures = deliberation.evaluations.aggregate(
        total=Count("id"), satisfied=Count("id", filter=Q(satisfaction__in=SATISFIED_LEVELS))
    )
    return Share(satisfied=figures["satisfied"], total=figures["total"])


def public_notice(deliberation_id: int, now: dt.datetime | None = None) -> Deliberation:
    """The resolution on public notice, for anyone (no sign-in); 404 before and after the notice."""
    deliberation = Deliberation.objects.select_related("community").filter(pk=deliberation_id).first()
    if deliberation is None or not deliberation.notice_running(now):
        raise Http404
    return deliberation


# Where a matter came from, as other apps know it (petitions link theirs): each provider gives
# (label, url) pairs for a user and a matter. The chain does not know those apps.
SourceLinks = Callable[[Viewer, Deliberation], list[tuple[str, str]]]
_source_links: list[SourceLinks] = []


def register_source_links(provider: SourceLinks) -> SourceLinks:
    _source_links.append(provider)
    return provider


def source_links(user: Viewer, deliberation: Deliberation) -> list[tuple[str, str]]:
    return [link for provider in _source_links for link in provider(user, deliberation)]
