"""双报到: the service records' state machine (every step allowed and refused), the two rules of seed 001
on known data, and the fulfilled micro-wish counting as a service."""

import datetime as dt
import threading

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.http import Http404
from django.test import override_settings

from governance.exceptions import TransitionNotAllowed
from parties import units, wishes
from parties.models import CoUnit, EntryKind, PointsEntry, ServiceKind, ServiceRecord, ServiceStatus

from ..conftest import World
from .units_world import Units, make_units


@pytest.fixture
def u(world: World) -> Units:
    return make_units(world)


def signed_up(u: Units) -> tuple[int, ServiceRecord]:
    member = u.member("李明")
    activity = u.activity()
    assert member.account is not None
    return activity.pk, units.service_sign_up(actor=member.account, activity_id=activity.pk)


@pytest.mark.django_db
class TestServiceSteps:
    def test_sign_up_then_confirm_awards_the_rules_points(self, u: Units) -> None:
        activity_id, record = signed_up(u)
        assert record.status == ServiceStatus.SIGNED_UP
        record = units.service_confirm(actor=u.community_staff, activity_id=activity_id, record_id=record.pk)
        assert (record.status, record.decided_by) == (ServiceStatus.ATTENDED, u.community_staff)
        assert list(PointsEntry.objects.values_list("member_id", "points", "kind")) == [
            (record.member_id, 5, EntryKind.SERVICE)
        ]

    def test_the_community_marks_absent_and_no_points_are_given(self, u: Units) -> None:
        activity_id, record = signed_up(u)
        record = units.service_absent(actor=u.community_staff, activity_id=activity_id, record_id=record.pk)
        assert record.status == ServiceStatus.ABSENT
        assert not PointsEntry.objects.exists()

    def test_a_member_cancels_and_may_sign_up_again(self, u: Units) -> None:
        activity_id, record = signed_up(u)
        account = record.member.account
        assert account is not None
        record = units.service_cancel(actor=account, activity_id=activity_id, record_id=record.pk)
        assert record.status == ServiceStatus.CANCELLED
        again = units.service_sign_up(actor=account, activity_id=activity_id)
        assert (again.pk, again.status) == (record.pk, ServiceStatus.SIGNED_UP)

    @pytest.mark.parametrize(
        ("done", "then"),
        # After cancelling, signing up again is allowed (tested above); every other pair is refused.
        [(d, t) for d in ("confirm", "absent", "cancel") for t in ("confirm", "absent", "cancel", "sign_up")
         if (d, t) != ("cancel", "sign_up")],
    )
    def test_no_step_after_a_decision_is_409_and_changes_nothing(self, u: Units, done: str, then: str) -> None:
        activity_id, record = signed_up(u)
        account = record.member.account
        assert account is not None
        actor = account if done == "cancel" else u.community_staff
        units.apply(activity_id=activity_id, action=done, actor=actor, record_id=record.pk)
        before = ServiceRecord.objects.get(pk=record.pk).status
        entries = PointsEntry.objects.count()
        actor = account if then in ("cancel", "sign_up") else u.community_staff
        with pytest.raises(TransitionNotAllowed):
            units.apply(activity_id=activity_id, action=then, actor=actor, record_id=record.pk)
        assert ServiceRecord.objects.get(pk=record.pk).status == before
        assert PointsEntry.objects.count() == entries

    def test_a_member_may_not_confirm_and_staff_may_not_sign_up_for_a_member(self, u: Units) -> None:
        activity_id, record = signed_up(u)
        account = record.member.account
        assert account is not None
        with pytest.raises(PermissionDenied):
            units.service_confirm(actor=account, activity_id=activity_id, record_id=record.pk)
        with pytest.raises(PermissionDenied):
            units.service_absent(actor=account, activity_id=activity_id, record_id=record.pk)
        with pytest.raises(PermissionDenied):
            units.service_sign_up(actor=u.community_staff, activity_id=activity_id)
        assert ServiceRecord.objects.get(pk=record.pk).status == ServiceStatus.SIGNED_UP

    def test_another_member_may_not_cancel_someone_elses_record(self, u: Units) -> None:
        activity_id, record = signed_up(u)
        other = u.member("王芳")
        assert other.account is not None
        with pytest.raises(PermissionDenied):
            units.service_cancel(actor=other.account, activity_id=activity_id, record_id=record.pk)

    def test_staff_of_another_street_and_a_member_elsewhere_get_404(self, u: Units, world: World) -> None:
        activity_id, record = signed_up(u)
        with pytest.raises(Http404):
            units.service_confirm(actor=world.foreign_worker, activity_id=activity_id, record_id=record.pk)
        from parties.models import Member

        stranger = Member.objects.create(
            name="外人", organization=world.foreign_grid.branch, account=world.foreign_worker
        )
        assert stranger.pk
        with pytest.raises(Http404):
            units.service_sign_up(actor=world.foreign_worker, activity_id=activity_id)

    def test_posting_names_the_bad_field(self, u: Units, world: World) -> None:
        with pytest.raises(ValidationError) as exc:
            units.activity_post(actor=u.community_staff, community=world.community, title=" ",
                                held_on=dt.date(2026, 5, 1))
        assert "title" in exc.value.message_dict
        with pytest.raises(ValidationError) as exc:
            units.activity_post(actor=world.foreign_worker, community=world.community, title="巡逻",
                                held_on=dt.date(2026, 5, 1), kind=ServiceKind.PATROL)
        assert "community" in exc.value.message_dict


@pytest.mark.django_db
class TestRulesOfSeed001:
    def _unit_with(self, u: Units, members: int, reported: int) -> CoUnit:
        unit = CoUnit.objects.create(name=f"单位{members}-{reported}", party_organisation="党支部",
                                     located_in=u.world.street)
        for i in range(members):
            u.member(f"{unit.name}-{i}", account=False, reported=i < reported, unit=unit)
        return units.flag_units(list(units.with_unit_figures(CoUnit.objects.filter(pk=unit.pk))))[0]

    def test_exactly_80_percent_is_not_flagged_79_is(self, u: Units) -> None:
        assert (units.unit_flagged(100, 80), units.unit_flagged(100, 79)) == (False, True)
        at_80 = self._unit_with(u, 5, 4)
        below = self._unit_with(u, 5, 3)
        assert (at_80.in_service, at_80.reported, at_80.flagged) == (5, 4, False)  # type: ignore[attr-defined]
        assert (below.reported, below.flagged) == (3, True)  # type: ignore[attr-defined]

    def test_an_unconfirmed_report_does_not_count(self, u: Units, world: World) -> None:
        unit = self._unit_with(u, 1, 0)
        member = unit.members.get()
        units.report_record(actor=u.community_staff, member=member, community=world.community,
                            reported_on=dt.date(2026, 4, 1))
        again = units.with_unit_figures(CoUnit.objects.filter(pk=unit.pk)).get()
        assert (again.reported, units.unit_flagged(again.in_service, again.reported)) == (0, True)  # type: ignore[attr-defined]

    def test_the_threshold_is_a_setting(self, u: Units) -> None:
        with override_settings(UNIT_REPORTING_RATE_MIN=60):
            assert self._unit_with(u, 5, 3).flagged is False  # type: ignore[attr-defined]

    def test_fewer_than_two_confirmed_services_in_the_year_is_flagged(self, u: Units) -> None:
        none, one, two = u.member("甲"), u.member("乙"), u.member("丙")
        u.served(one, 1)
        u.served(two, 2)
        u.served(none, 3, year=2025)  # last year's do not count for 2026
        figures = {m.name: (m.services, m.flagged) for m in units.flag_members(  # type: ignore[attr-defined]
            list(units.with_member_figures(u.unit.members.all(), 2026)))}
        assert figures == {"甲": (0, True), "乙": (1, True), "丙": (2, False)}
        with override_settings(MEMBER_SERVICES_MIN=1):
            assert units.member_flagged(1) is False

    def test_absent_and_unconfirmed_services_do_not_count(self, u: Units) -> None:
        member = u.member("丁")
        assert member.account is not None
        for action in ("absent", None):
            activity = u.activity(held_on=dt.date(2026, 7, 1))
            record = units.service_sign_up(actor=member.account, activity_id=activity.pk)
            if action:
                units.apply(activity_id=activity.pk, action=action, actor=u.community_staff, record_id=record.pk)
        assert units.with_member_figures(u.unit.members.filter(pk=member.pk), 2026).get().services == 0  # type: ignore[attr-defined]


@pytest.mark.django_db
def test_a_fulfilled_wish_is_a_service_waiting_for_confirmation(u: Units, world: World) -> None:
    member = u.member("周建华")
    assert member.account is not None
    wish = wishes.wish_record(actor=world.worker, place=world.branch, title="帮老人取药")
    wishes.wish_publish(actor=world.worker, wish_id=wish.pk)
    wishes.wish_claim(actor=member.account, wish_id=wish.pk)
    wishes.wish_fulfil(actor=member.account, wish_id=wish.pk, fulfilment="已送到")
    record = ServiceRecord.objects.select_related("activity").get(member=member)
    assert (record.activity.kind, record.activity.wish_id, record.status) == (
        ServiceKind.WISH, wish.pk, ServiceStatus.SIGNED_UP
    )
    units.service_confirm(actor=u.community_staff, activity_id=record.activity_id, record_id=record.pk)
    assert PointsEntry.objects.get(member=member).points == 10


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_confirming_at_once_from_two_screens_awards_once(world: World, needs_postgres: None) -> None:
    u = make_units(world)
    activity_id, record = signed_up(u)
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def confirm(actor: object) -> None:
        barrier.wait()
        try:
            units.service_confirm(actor=actor, activity_id=activity_id, record_id=record.pk)  # type: ignore[arg-type]
            outcomes.append("confirmed")
        except TransitionNotAllowed:
            outcomes.append("409")
        finally:
            connection.close()

    threads = [threading.Thread(target=confirm, args=(a,)) for a in (u.community_staff, u.second_staff)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["409", "confirmed"]
    assert PointsEntry.objects.filter(service=record).count() == 1
