"""红细胞党员积分 (seed 003): the members' points ledger.

A ledger, not a counter: a member's points are the sum of their entries, and an entry is never
edited or deleted. Confirming a service awards the points of its kind's rule (``PointsRule``), once
per service record (a unique constraint, so a retry or a second click adds nothing); a manual award
is proposed by one of the community's staff and approved by another; a mistake is undone by a
reversal entry that references the entry it undoes (one reversal each).
"""

import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet, Sum
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from governance.exceptions import TransitionNotAllowed
from governance.models import User

from .models import (
    COMMUNITY_KINDS,
    AwardStatus,
    CoUnit,
    EntryKind,
    Member,
    Organization,
    PointsAward,
    PointsEntry,
)
from .units import community_members, is_staff_for


def points_propose(
    *, actor: User, member: Member, community: Organization, points: int, reason: str
) -> PointsAward:
    """One of the community's staff proposes a manual award (or deduction); another approves it."""
    errors: dict[str, str] = {}
    if community.kind not in COMMUNITY_KINDS or not is_staff_for(actor, community):
        errors["community"] = _("This place is not in your area.")
    elif not community_members(community).filter(pk=member.pk).exists():
        errors["member"] = _("Choose a Party member of this community.")
    if not points:
        errors["points"] = _("Give a number of points other than zero.")
    if not (reason or "").strip():
        errors["reason"] = _("This field is required.")
    if errors:
        raise ValidationError(errors)
    return PointsAward.objects.create(
        member=member, community=community, points=points, reason=reason.strip(), proposed_by=actor,
        proposed_at=timezone.now(),
    )


def points_approve(*, actor: User, award_id: int) -> PointsEntry:
    """The second person approves: the award becomes an entry naming both."""
    with transaction.atomic():
        award = PointsAward.objects.select_for_update().filter(pk=award_id).first()
        if award is None or not is_staff_for(actor, award):
            raise Http404
        if award.proposed_by_id == actor.pk:
            raise PermissionDenied(_("An award is approved by someone other than who proposed it."))
        if award.status != AwardStatus.PROPOSED:
            raise TransitionNotAllowed(_("This award was decided already."))
        now = timezone.now()
        award.status, award.decided_by, award.decided_at = AwardStatus.APPROVED, actor, now
        award.save(update_fields=["status", "decided_by", "decided_at"])
        return PointsEntry.objects.create(
            member_id=award.member_id, community_id=award.community_id, kind=EntryKind.MANUAL, points=award.points,
            reason=award.reason, on=timezone.localdate(now), award=award, granted_by_id=award.proposed_by_id,
            approved_by=actor, created_at=now,
        )


def points_reject(*, actor: User, award_id: int) -> PointsAward:
    """The second person turns the proposal down: no entry is written."""
    with transaction.atomic():
        award = PointsAward.objects.select_for_update().filter(pk=award_id).first()
        if award is None or not is_staff_for(actor, award):
            raise Http404
        if award.proposed_by_id == actor.pk:
            raise PermissionDenied(_("An award is decided by someone other than who proposed it."))
        if award.status != AwardStatus.PROPOSED:
            raise TransitionNotAllowed(_("This award was decided already."))
        award.status, award.decided_by, award.decided_at = AwardStatus.REJECTED, actor, timezone.now()
        award.save(update_fields=["status", "decided_by", "decided_at"])
    return award


def points_reverse(*, actor: User, entry_id: int, reason: str) -> PointsEntry:
    """Undo an entry with a new one of the opposite sign that references it (once; never a reversal)."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("This field is required.")})
    with transaction.atomic():
        entry = PointsEntry.objects.select_for_update().filter(pk=entry_id).first()
        if entry is None or not is_staff_for(actor, entry):
            raise Http404
        if entry.kind == EntryKind.REVERSAL or PointsEntry.objects.filter(reverses=entry).exists():
            raise TransitionNotAllowed(_("This entry cannot be reversed (again)."))
        now = timezone.now()
        return PointsEntry.objects.create(
            member_id=entry.member_id, community_id=entry.community_id, kind=EntryKind.REVERSAL,
            points=-entry.points, reason=reason, on=timezone.localdate(now), reverses=entry, granted_by=actor,
            created_at=now,
        )


def balance(member: Member, *, since: dt.date | None = None, until: dt.date | None = None) -> int:
    """A member's points: the sum of their entries (in a period when given)."""
    entries = PointsEntry.objects.filter(member=member)
    if since:
        entries = entries.filter(on__gte=since)
    if until:
        entries = entries.filter(on__lte=until)
    return int(entries.aggregate(total=Sum("points"))["total"] or 0)


@dataclass(frozen=True)
class Rank:
    place: int
    member_id: int
    name: str
    unit: str
    points: int


def ranking(
    *, since: dt.date, until: dt.date, community: Organization | None = None, unit: CoUnit | None = None
) -> list[Rank]:
    """Members by points in a period, in one query: a community's ledger, or a unit's members' (all
    communities). Ties share a place (1, 2, 2, 4)."""
    entries: QuerySet[PointsEntry] = PointsEntry.objects.filter(on__range=(since, until))
    if community is not None:
        entries = entries.filter(community=community)
    if unit is not None:
        entries = entries.filter(member__unit=unit)
    if community is None and unit is None:
        entries = entries.filter(Q(pk__in=[]))
    rows = (
        entries.order_by().values("member_id", "member__name", "member__unit__name")
        .annotate(total=Sum("points")).order_by("-total", "member__name", "member_id")
    )
    ranks: list[Rank] = []
    for i, row in enumerate(rows):
        place = ranks[-1].place if ranks and ranks[-1].points == row["total"] else i + 1
        ranks.append(Rank(place, row["member_id"], row["member__name"], row["member__unit__name"] or "",
                          row["total"]))
    return ranks


def ledger(community: Organization) -> QuerySet[PointsEntry]:
    """A community's ledger, newest first, each entry with who granted and approved it and its reversal."""
    return (
        PointsEntry.objects.filter(community=community)
        .select_related("member", "granted_by", "approved_by", "reversed_by")
        .order_by("-on", "-id")
    )


def awards_waiting(community: Organization) -> QuerySet[PointsAward]:
    """Manual awards proposed and waiting for a second person's decision."""
    return (
        PointsAward.objects.filter(community=community, status=AwardStatus.PROPOSED)
        .select_related("member", "proposed_by").order_by("proposed_at", "id")
    )


def may_reverse(entry: PointsEntry) -> bool:
    """An entry that is not a reversal and was not reversed yet (``ledger`` fetched its reversal)."""
    if entry.kind == EntryKind.REVERSAL:
        return False
    return not hasattr(entry, "reversed_by")  # the reverse one-to-one: absent until it is reversed
