"""红细胞积分: the ledger's totals are the sum of its entries, reversals, two-person awards, rankings."""

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from governance.exceptions import TransitionNotAllowed
from parties import points, units
from parties.models import EntryKind, PointsEntry, ServiceRecord

from ..conftest import World
from .units_world import Units, make_units


@pytest.fixture
def u(world: World) -> Units:
    return make_units(world)


@pytest.mark.django_db
def test_the_balance_is_the_sum_of_the_entries_including_reversals(u: Units) -> None:
    member = u.member("李明")
    u.served(member, 3)  # 3 × 5
    award = points.points_propose(actor=u.community_staff, member=member, community=u.world.community, points=20,
                                  reason="防汛值守表现突出")
    points.points_approve(actor=u.second_staff, award_id=award.pk)
    first = PointsEntry.objects.filter(member=member, kind=EntryKind.SERVICE).order_by("id").first()
    assert first is not None
    points.points_reverse(actor=u.community_staff, entry_id=first.pk, reason="重复登记")
    entries = list(PointsEntry.objects.filter(member=member).values_list("points", flat=True))
    assert sorted(entries) == [-5, 5, 5, 5, 20]
    assert points.balance(member) == sum(entries) == 30


@pytest.mark.django_db
def test_a_reversal_references_the_entry_and_happens_once(u: Units) -> None:
    member = u.member("李明")
    u.served(member, 1)
    entry = PointsEntry.objects.get(member=member)
    reversal = points.points_reverse(actor=u.community_staff, entry_id=entry.pk, reason="活动取消")
    assert (reversal.reverses_id, reversal.points, reversal.kind) == (entry.pk, -5, EntryKind.REVERSAL)
    with pytest.raises(TransitionNotAllowed):
        points.points_reverse(actor=u.community_staff, entry_id=entry.pk, reason="again")
    with pytest.raises(TransitionNotAllowed):
        points.points_reverse(actor=u.community_staff, entry_id=reversal.pk, reason="undo the undo")
    with pytest.raises(ValidationError) as exc:
        points.points_reverse(actor=u.community_staff, entry_id=entry.pk, reason=" ")
    assert "reason" in exc.value.message_dict
    assert PointsEntry.objects.count() == 2


@pytest.mark.django_db
def test_confirming_again_or_retrying_the_award_gives_no_second_entry(u: Units) -> None:
    member = u.member("李明")
    u.served(member, 1)
    record = ServiceRecord.objects.get(member=member)
    units.award_for_service(record=record, actor=u.community_staff)  # a retried task, say
    assert PointsEntry.objects.filter(service=record).count() == 1
    with pytest.raises(IntegrityError), transaction.atomic():
        PointsEntry.objects.create(
            member=member, community=u.world.community, kind=EntryKind.SERVICE, points=5, reason="x",
            on=dt.date(2026, 1, 1), service=record, granted_by=u.community_staff, created_at=timezone.now(),
        )


@pytest.mark.django_db
def test_a_manual_award_needs_a_second_person(u: Units) -> None:
    member = u.member("李明")
    award = points.points_propose(actor=u.community_staff, member=member, community=u.world.community, points=10,
                                  reason="义务献血")
    with pytest.raises(PermissionDenied):
        points.points_approve(actor=u.community_staff, award_id=award.pk)
    assert not PointsEntry.objects.exists()
    entry = points.points_approve(actor=u.second_staff, award_id=award.pk)
    assert (entry.granted_by, entry.approved_by, entry.points) == (u.community_staff, u.second_staff, 10)
    with pytest.raises(TransitionNotAllowed):
        points.points_approve(actor=u.world.official, award_id=award.pk)
    with pytest.raises(IntegrityError), transaction.atomic():  # the database holds the rule too
        PointsEntry.objects.create(
            member=member, community=u.world.community, kind=EntryKind.MANUAL, points=5, reason="x",
            on=dt.date(2026, 1, 1), granted_by=u.community_staff, approved_by=u.community_staff,
            created_at=timezone.now(),
        )


@pytest.mark.django_db
@pytest.mark.parametrize(("fields", "field"), [({"points": 0}, "points"), ({"reason": " "}, "reason")])
def test_a_bad_award_names_the_field(u: Units, fields: dict[str, Any], field: str) -> None:
    member = u.member("李明")
    data: dict[str, Any] = {"points": 5, "reason": "好人好事", **fields}
    with pytest.raises(ValidationError) as exc:
        points.points_propose(actor=u.community_staff, member=member, community=u.world.community, **data)
    assert field in exc.value.message_dict


@pytest.mark.django_db
def test_rankings_per_community_and_unit_for_a_period(u: Units, django_assert_num_queries: Any) -> None:
    a, b, c = u.member("甲"), u.member("乙"), u.member("丙")
    u.served(a, 3)
    u.served(b, 1)
    u.served(c, 3)
    u.served(b, 4, year=2025)  # outside the period
    since, until = units.year_bounds(2026)
    with django_assert_num_queries(1):
        ranks = points.ranking(since=since, until=until, community=u.world.community)
    assert [(r.place, r.name, r.points) for r in ranks] == [(1, "丙", 15), (1, "甲", 15), (3, "乙", 5)] or [
        (r.place, r.name, r.points) for r in ranks
    ] == [(1, "甲", 15), (1, "丙", 15), (3, "乙", 5)]
    by_unit = points.ranking(since=since, until=until, unit=u.unit)
    assert sum(r.points for r in by_unit) == sum(
        PointsEntry.objects.filter(on__year=2026).values_list("points", flat=True)
    )
    last_year = points.ranking(since=dt.date(2025, 1, 1), until=dt.date(2025, 12, 31), unit=u.unit)
    assert [(r.name, r.points) for r in last_year] == [("乙", 20)]


@pytest.mark.django_db
def test_the_ledger_is_read_only_in_admin(u: Units, client: Client) -> None:
    member = u.member("李明")
    u.served(member, 1)
    entry = PointsEntry.objects.get(member=member)
    client.force_login(u.world.admin)
    assert client.get(reverse("admin:parties_pointsentry_changelist")).status_code == 200
    assert client.post(reverse("admin:parties_pointsentry_delete", args=[entry.pk]), {"post": "yes"}).status_code == 403
    client.post(reverse("admin:parties_pointsentry_change", args=[entry.pk]), {"points": 500})
    assert PointsEntry.objects.get(pk=entry.pk).points == 5
    assert client.get(reverse("admin:parties_pointsentry_add")).status_code == 403
