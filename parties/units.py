"""双报到: in-service members report to the community where they live, and serve there.

A co-building unit (``CoUnit``) is paired with communities (``Pairing``); its in-service members
(``Member.unit``) report to the community they live in (``MemberReport``, confirmed by it). The
community posts services (``ServiceActivity``: activities, patrol duty; a fulfilled micro-wish
becomes one by itself); a member signs up, and the community confirms attendance, which awards the
points of the rule for that kind of service (``parties.points``).

A service record's status changes only here, through one transition table (the shape of
``parties.wishes``): the row is locked, who may act and from which status re-checked, 409 when the
status does not allow the step.

    (none) ──sign_up──▶ signed_up ──confirm──▶ attended
    cancelled ─sign_up─▶    │ ├────absent────▶ absent
                            └──cancel──▶ cancelled

The two rules of seed 001 are one function each (``unit_flagged``, ``member_flagged``), their
thresholds settings (``UNIT_REPORTING_RATE_MIN``, ``MEMBER_SERVICES_MIN``).
"""

import datetime as dt
from dataclasses import dataclass
from fractions import Fraction

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from governance.access import Viewer, covers, restrict, subtree_q
from governance.exceptions import TransitionNotAllowed
from governance.models import User

from .models import (
    COMMUNITY_KINDS,
    CoUnit,
    Deliberation,
    EntryKind,
    Member,
    MemberReport,
    Organization,
    Pairing,
    PointsEntry,
    PointsRule,
    ServiceActivity,
    ServiceKind,
    ServiceRecord,
    ServiceStatus,
)
from .wishes import community_of, member_of

S = ServiceStatus
STAFF = "staff"  # the community's workers and officials (their scope covers the activity)
MEMBER = "member"  # the Party member the record is (signed in with their linked account)
NEW = ""  # no record yet


@dataclass(frozen=True)
class Transition:
    action: str
    sources: frozenset[str]
    target: str
    actor: str
    label: object


TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in (
        Transition("sign_up", frozenset({NEW, S.CANCELLED}), S.SIGNED_UP, MEMBER, gettext_lazy("sign up")),
        Transition("cancel", frozenset({S.SIGNED_UP}), S.CANCELLED, MEMBER, gettext_lazy("cancel")),
        Transition("confirm", frozenset({S.SIGNED_UP}), S.ATTENDED, STAFF, gettext_lazy("confirm attendance")),
        Transition("absent", frozenset({S.SIGNED_UP}), S.ABSENT, STAFF, gettext_lazy("mark absent")),
    )
}


# ------------------------------------------------------------------------------------- the rules


def unit_flagged(members: int, reported: int) -> bool:
    """Seed 001: a unit whose members' reporting rate is below ``UNIT_REPORTING_RATE_MIN`` % may not be
    rated excellent (不得评优评先). Exactly the threshold is not flagged; a unit with no in-service
    members has no rate and is not flagged."""
    return members > 0 and reported * 100 < settings.UNIT_REPORTING_RATE_MIN * members


def member_flagged(services: int) -> bool:
    """Seed 001: a member with fewer than ``MEMBER_SERVICES_MIN`` confirmed services in the year may not
    be rated excellent in the annual assessment (年度考核不得评为优秀)."""
    return services < settings.MEMBER_SERVICES_MIN


def reporting_rate(members: int, reported: int) -> Fraction | None:
    """Reported ÷ in-service members, exactly (the page and the export round it once)."""
    return Fraction(reported, members) if members else None


# ------------------------------------------------------------------------------------ who may act


def is_staff_for(user: Viewer, obj: object) -> bool:
    """The community's staff: a chain account whose scope covers ``obj`` (not department staff)."""
    if not isinstance(user, User) or not user.is_active:
        return False
    return user.sees_everything or (not user.is_department_staff and covers(user, obj))  # type: ignore[arg-type]


def _may_sign_up(member: Member, activity: ServiceActivity) -> bool:
    """A member may serve in the community they reported to, or the one their own node is in."""
    if MemberReport.objects.filter(member=member, community_id=activity.community_id).exists():
        return True
    return community_of(member.organization) == activity.community


def _role_allows(user: User, activity: ServiceActivity, record: ServiceRecord | None, transition: Transition) -> bool:
    if transition.actor == STAFF:
        return is_staff_for(user, activity)
    member = member_of(user)
    if member is None:
        return False
    if record is not None:
        return record.member_id == member.pk
    return _may_sign_up(member, activity)


def _may_see(user: User, activity: ServiceActivity, record: ServiceRecord | None) -> bool:
    """The community's staff, the record's member, and the members who may sign up (others: 404)."""
    if is_staff_for(user, activity):
        return True
    member = member_of(user)
    if member is None:
        return False
    return (record is not None and record.member_id == member.pk) or _may_sign_up(member, activity)


def may(user: Viewer, activity: ServiceActivity, record: ServiceRecord | None, action: str) -> bool:
    """Whether ``user`` may take ``action`` now (for showing buttons)."""
    transition = TRANSITIONS[action]
    status = record.status if record is not None else NEW
    return (
        isinstance(user, User) and status in transition.sources and _role_allows(user, activity, record, transition)
    )


def apply(*, activity_id: int, action: str, actor: User, record_id: int | None = None) -> ServiceRecord:
    """Take ``action`` in one transaction: lock, re-check who and from which status, write.

    ``sign_up`` names the activity (the record is the actor's own, made or re-opened); the other
    steps name the record. ``Http404`` when missing or not visible, ``PermissionDenied`` when the
    actor may not take this step, ``TransitionNotAllowed`` (409) when the status does not allow it.
    Confirming attendance awards the rule's points in the same transaction.
    """
    transition = TRANSITIONS[action]
    with transaction.atomic():
        activity = ServiceActivity.objects.select_for_update().filter(pk=activity_id).first()
        if activity is None:
            raise Http404
        record: ServiceRecord | None
        if action == "sign_up":
            member = member_of(actor)
            record = (
                ServiceRecord.objects.select_for_update().filter(activity=activity, member=member).first()
                if member is not None else None
            )
        else:
            record = (
                ServiceRecord.objects.select_for_update().filter(pk=record_id, activity=activity).first()
                if record_id is not None else None
            )
            if record is None:
                raise Http404
        if not _may_see(actor, activity, record):
            raise Http404
        if not _role_allows(actor, activity, record, transition):
            raise PermissionDenied(_("You may not %(action)s here.") % {"action": transition.label})
        status = record.status if record is not None else NEW
        if status not in transition.sources:
            raise TransitionNotAllowed(
                _("Cannot %(action)s: the service record is %(status)s.")
                % {"action": transition.label, "status": record.get_status_display() if record else "—"}
            )
        now = timezone.now()
        if record is None:
            record = ServiceRecord(activity=activity, member=member_of(actor))
        record.status = transition.target
        if action == "sign_up":
            record.signed_up_at, record.decided_at, record.decided_by = now, None, None
        elif transition.actor == STAFF:
            record.decided_at, record.decided_by = now, actor
        record.save()
        if action == "confirm":
            award_for_service(record=record, actor=actor)
    return record


# -------------------------------------------------------------------------------------- services


def award_for_service(*, record: ServiceRecord, actor: User) -> PointsEntry | None:
    """The rule's points for a confirmed service, once: the same record never earns twice."""
    rule = PointsRule.objects.filter(kind=record.activity.kind, is_active=True).first()
    if rule is None or rule.points == 0:
        return None
    entry, _created = PointsEntry.objects.get_or_create(
        service=record,
        member_id=record.member_id,
        kind=EntryKind.SERVICE,
        defaults={
            "community_id": record.activity.community_id,
            "points": rule.points,
            "reason": record.activity.title,
            "on": record.activity.held_on,
            "granted_by": actor,
            "created_at": timezone.now(),
        },
    )
    return entry




def services_for_meeting(*, deliberation: Deliberation, members: list[Member], actor: User) -> list[ServiceRecord]:
    """民主商议 counts as a service of each Party member who took part (seed 000 and 003): one service per
    matter, a confirmed record per member (the staff who record the meeting are the community confirming
    it), and the rule's points once each. Called by ``deliberation_discuss`` in its transaction."""
    now = timezone.now()
    assert deliberation.meeting_on is not None  # the meeting's date is recorded in the same step
    activity, _created = ServiceActivity.objects.get_or_create(
        deliberation=deliberation,
        defaults={"community_id": deliberation.community_id, "kind": ServiceKind.DELIBERATION,
                  "title": deliberation.title, "held_on": deliberation.meeting_on, "posted_by": actor,
                  "posted_at": now},
    )
    records = []
    for member in members:
        record, _created = ServiceRecord.objects.get_or_create(
            activity=activity, member=member,
            defaults={"status": S.ATTENDED, "signed_up_at": now, "decided_at": now, "decided_by": actor},
        )
        award_for_service(record=record, actor=actor)
        records.append(record)
    return records


def service_sign_up(*, actor: User, activity_id: int) -> ServiceRecord:
    """A member signs up for a service the community posted."""
    return apply(activity_id=activity_id, action="sign_up", actor=actor)


def service_cancel(*, actor: User, activity_id: int, record_id: int) -> ServiceRecord:
    return apply(activity_id=activity_id, action="cancel", actor=actor, record_id=record_id)


def service_confirm(*, actor: User, activity_id: int, record_id: int) -> ServiceRecord:
    """The community confirms the member took part; the rule's points are awarded once."""
    return apply(activity_id=activity_id, action="confirm", actor=actor, record_id=record_id)


def service_absent(*, actor: User, activity_id: int, record_id: int) -> ServiceRecord:
    return apply(activity_id=activity_id, action="absent", actor=actor, record_id=record_id)


def activity_post(
    *, actor: User, community: Organization, title: str, held_on: dt.date, kind: str = ServiceKind.ACTIVITY,
    place: str = "",
) -> ServiceActivity:
    """The community posts a service (an activity or a patrol duty) for members to sign up to."""
    errors: dict[str, str] = {}
    if community.kind not in COMMUNITY_KINDS:
        errors["community"] = _("Choose a community or a village.")
    elif not is_staff_for(actor, community):
        errors["community"] = _("This place is not in your area.")
    if not (title or "").strip():
        errors["title"] = _("This field is required.")
    if kind not in ServiceKind.posted():
        errors["kind"] = _("A micro-wish's or a meeting's service is made by its own workflow.")
    if errors:
        raise ValidationError(errors)
    return ServiceActivity.objects.create(
        community=community, kind=kind, title=title.strip(), held_on=held_on, place=(place or "").strip(),
        posted_by=actor, posted_at=timezone.now(),
    )


def community_members(community: Organization) -> QuerySet[Member]:
    """The Party members of a community: those whose node lies in it and the in-service members who reported
    to it (whose points it keeps and whom it may award)."""
    return Member.objects.filter(
        Q(pk__in=Member.objects.filter(subtree_q(community, "organization")).values("pk"))
        | Q(pk__in=MemberReport.objects.filter(community=community).values("member_id"))
    )


def is_reporting_member(member: Member) -> bool:
    """Who reports (报到) to a community: an in-service member of a co-building unit
    (``reportable_members`` asks the same of the database)."""
    return member.in_service and member.unit_id is not None


def reportable_members(community: Organization) -> QuerySet[Member]:
    """Who may report (报到) to a community and has not yet: in-service members of a co-building unit who
    live in it or whose unit is paired with it."""
    return Member.objects.filter(
        Q(subtree_q(community, "organization")) | Q(unit__pairings__community=community),
        in_service=True, unit__isnull=False,
    ).exclude(reports__community=community).distinct().order_by("name", "pk")


def report_record(*, actor: User, member: Member, community: Organization, reported_on: dt.date) -> MemberReport:
    """An in-service member reports (报到) to the community where they live; the community records it."""
    if community.kind not in COMMUNITY_KINDS:
        raise ValidationError({"community": _("Choose a community or a village.")})
    if not is_staff_for(actor, community):
        raise ValidationError({"community": _("This place is not in your area.")})
    if not is_reporting_member(member):
        raise ValidationError({"member": _("Only an in-service member of a co-building unit reports.")})
    if reported_on > timezone.localdate():
        raise ValidationError({"reported_on": _("Record a report that has been made.")})
    report, _created = MemberReport.objects.get_or_create(
        member=member, community=community, defaults={"reported_on": reported_on}
    )
    return report


def report_home(member: Member) -> Organization | None:
    """The community an in-service member reports to by themselves: the one where they live, unless they have
    reported there already (None then, and for members who are not in service with a unit)."""
    community = community_of(member.organization) if is_reporting_member(member) else None
    if community is None or MemberReport.objects.filter(member=member, community=community).exists():
        return None
    return community


def report_self(*, actor: User) -> MemberReport:
    """The member reports (报到) to the community where they live; the community confirms it."""
    member = member_of(actor)
    if member is None or not is_reporting_member(member):
        raise ValidationError({"member": _("Only an in-service member of a co-building unit reports.")})
    community = community_of(member.organization)
    if community is None:
        raise ValidationError({"member": _("Your Party organisation is not in a community.")})
    report, _created = MemberReport.objects.get_or_create(
        member=member, community=community, defaults={"reported_on": timezone.localdate()}
    )
    return report


def report_confirm(*, actor: User, report_id: int) -> MemberReport:
    """The community confirms a member's report (the reporting rate counts confirmed reports)."""
    with transaction.atomic():
        report = MemberReport.objects.select_for_update().filter(pk=report_id).first()
        if report is None or not is_staff_for(actor, report):
            raise Http404
        if report.confirmed_at is not None:
            raise TransitionNotAllowed(_("This report is confirmed already."))
        report.confirmed_by, report.confirmed_at = actor, timezone.now()
        report.save(update_fields=["confirmed_by", "confirmed_at"])
    return report


# ------------------------------------------------------------------------------------- selectors


def year_bounds(year: int) -> tuple[dt.date, dt.date]:
    return dt.date(year, 1, 1), dt.date(year, 12, 31)


def with_unit_figures(units: QuerySet[CoUnit]) -> QuerySet[CoUnit]:
    """Each unit with ``in_service`` and ``reported`` (members with a confirmed report), in the same query."""
    return units.annotate(
        in_service=Count("members", filter=Q(members__in_service=True), distinct=True),
        reported=Count(
            "members",
            filter=Q(members__in_service=True, members__reports__confirmed_at__isnull=False),
            distinct=True,
        ),
    )


def with_member_figures(members: QuerySet[Member], year: int) -> QuerySet[Member]:
    """Each member with ``services`` (confirmed in ``year``) and ``points`` (earned in ``year``)."""
    since, until = year_bounds(year)
    services = (
        ServiceRecord.objects.filter(
            member=OuterRef("pk"), status=S.ATTENDED, activity__held_on__range=(since, until)
        ).order_by().values("member").annotate(n=Count("pk")).values("n")
    )
    points = (
        PointsEntry.objects.filter(member=OuterRef("pk"), on__range=(since, until))
        .order_by().values("member").annotate(total=Sum("points")).values("total")
    )
    return members.annotate(
        services=Coalesce(Subquery(services, output_field=IntegerField()), 0),
        points=Coalesce(Subquery(points, output_field=IntegerField()), 0),
    )


def flag_units(units: list[CoUnit]) -> list[CoUnit]:
    for unit in units:
        unit.rate = reporting_rate(unit.in_service, unit.reported)  # type: ignore[attr-defined]
        unit.flagged = unit_flagged(unit.in_service, unit.reported)  # type: ignore[attr-defined]
    return units


def flag_members(members: list[Member]) -> list[Member]:
    for member in members:
        member.flagged = member_flagged(member.services)  # type: ignore[attr-defined]
    return members


def units_for(user: Viewer) -> QuerySet[CoUnit]:
    """The units ``user`` sees: those in their scope (where they sit or a community they pair with),
    and the units whose account they are."""
    if not isinstance(user, User) or not user.is_active:
        return CoUnit.objects.none()
    if user.sees_everything:
        return CoUnit.objects.all()
    ids = CoUnit.objects.filter(accounts=user).values("pk")
    if user.scope_node_id is not None and not user.is_department_staff:
        located = restrict(user, CoUnit.objects.all()).values("pk")
        paired = Pairing.objects.filter(subtree_q(user.scope_node_id, "community")).values("unit_id")
        return CoUnit.objects.filter(Q(pk__in=ids) | Q(pk__in=located) | Q(pk__in=paired))
    return CoUnit.objects.filter(pk__in=ids)


def unit_for(user: Viewer, unit_id: int) -> CoUnit:
    unit = units_for(user).filter(pk=unit_id).first()
    if unit is None:
        raise Http404
    return unit


def communities_for(user: Viewer) -> QuerySet[Organization]:
    """The communities (and villages) in ``user``'s scope."""
    return restrict(user, Organization.objects.filter(kind__in=sorted(COMMUNITY_KINDS))).order_by("tree_id", "lft")


def community_for(user: Viewer, community_id: int) -> Organization:
    community = communities_for(user).filter(pk=community_id).first()
    if community is None or (isinstance(user, User) and user.is_department_staff):
        raise Http404
    return community


def unit_page(unit: CoUnit, year: int) -> dict[str, object]:
    """A unit's figures for ``year``: its rate and flag, its members with their services, points and flags."""
    figures = flag_units(list(with_unit_figures(CoUnit.objects.filter(pk=unit.pk))))[0]
    members = flag_members(list(
        with_member_figures(unit.members.filter(in_service=True), year)
        .annotate(reported_to=Subquery(
            MemberReport.objects.filter(member=OuterRef("pk"), confirmed_at__isnull=False)
            .order_by("reported_on").values("community__name")[:1]
        ))
        .order_by("name", "pk")
    ))
    pairings = list(unit.pairings.select_related("community").order_by("started_on"))
    return {"unit": figures, "members": members, "pairings": pairings, "year": year}


def community_page(community: Organization, year: int) -> dict[str, object]:
    """A community's 双报到: its paired units with their rates, the members reported to it with their
    services and flags, and the services waiting for its confirmation."""
    pairings = list(Pairing.objects.filter(community=community).select_related("unit").order_by("unit__name"))
    units = {u.pk: u for u in flag_units(list(with_unit_figures(
        CoUnit.objects.filter(pk__in=[p.unit_id for p in pairings]))))}
    for pairing in pairings:
        pairing.figures = units[pairing.unit_id]  # type: ignore[attr-defined]
    reports = MemberReport.objects.filter(community=community)
    members = flag_members(list(
        with_member_figures(Member.objects.filter(reports__community=community), year)
        .select_related("unit")
        .annotate(
            report_confirmed=Subquery(reports.filter(member=OuterRef("pk")).values("confirmed_at")[:1]),
            report_id=Subquery(reports.filter(member=OuterRef("pk")).values("pk")[:1]),
        )
        .order_by("name", "pk")
    ))
    waiting = list(
        ServiceRecord.objects.filter(activity__community=community, status=S.SIGNED_UP)
        .select_related("activity", "member").order_by("activity__held_on", "id")
    )
    activities = list(
        ServiceActivity.objects.filter(community=community, held_on__year=year)
        .annotate(signed=Count("records", filter=~Q(records__status=S.CANCELLED)))
        .order_by("-held_on", "-id")[:50]
    )
    return {"community": community, "pairings": pairings, "members": members, "waiting": waiting,
            "activities": activities, "year": year}


def open_activities_for(member: Member) -> QuerySet[ServiceActivity]:
    """What a member may sign up for: services, not wishes, from today on, in the communities they report to
    or their own node's community."""
    communities = list(MemberReport.objects.filter(member=member).values_list("community_id", flat=True))
    own = community_of(member.organization)
    if own is not None:
        communities.append(own.pk)
    return (
        ServiceActivity.objects.filter(community_id__in=communities, held_on__gte=timezone.localdate())
        .filter(kind__in=ServiceKind.posted()).select_related("community").order_by("held_on", "id")
    )


def waiting_confirmation_for(user: Viewer) -> QuerySet[ServiceRecord]:
    """Signed-up services in ``user``'s communities waiting for the community to confirm attendance."""
    if isinstance(user, User) and user.is_department_staff:
        return ServiceRecord.objects.none()
    return restrict(user, ServiceRecord.objects.filter(status=S.SIGNED_UP))
