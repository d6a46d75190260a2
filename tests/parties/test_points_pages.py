"""The pages for what was admin-only: recording a member's 报到 (by the community, or by the member from
their phone), proposing and deciding manual points awards, reversing an entry; and the 五议 meeting as a
service that earns the members who took part their points."""

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from governance.models import User
from parties import deliberations, points, units
from parties.models import (
    AwardStatus,
    EntryKind,
    Member,
    MemberReport,
    PointsAward,
    PointsEntry,
    ServiceActivity,
    ServiceKind,
    ServiceRecord,
    ServiceStatus,
)

from ..conftest import World
from ..factories import UserFactory
from .units_world import Units, make_units

TODAY = timezone.localdate()


@pytest.fixture
def u(world: World) -> Units:
    return make_units(world)


def as_user(client: Client, user: User) -> Client:
    client.force_login(user)
    return client


def html(response: Any) -> str:
    return response.content.decode()


@pytest.mark.django_db
class TestReports:
    def test_the_community_records_a_report_then_confirms_it_and_the_rate_moves(self, u: Units, client: Client) -> None:
        member = u.member("李明", reported=False)
        page = as_user(client, u.community_staff).get(reverse("units:community", args=[u.world.community.pk]))
        assert member in page.context["report_form"].fields["member"].queryset
        response = client.post(reverse("units:report-record", args=[u.world.community.pk]),
                               {"member": member.pk, "reported_on": "2026-03-01"})
        assert response.status_code == 302
        report = MemberReport.objects.get(member=member, community=u.world.community)
        assert (report.reported_on, report.confirmed_at) == (dt.date(2026, 3, 1), None)
        client.post(reverse("units:report-confirm", args=[report.pk]))
        unit = units.with_unit_figures(units.units_for(u.community_staff).filter(pk=u.unit.pk)).get()
        assert (unit.in_service, unit.reported) == (1, 1)  # type: ignore[attr-defined]
        # Reported: no longer offered.
        page = client.get(reverse("units:community", args=[u.world.community.pk]))
        assert member not in page.context["report_form"].fields["member"].queryset

    def test_a_future_date_or_no_member_is_refused_naming_the_field_and_nothing_is_written(
        self, u: Units, client: Client
    ) -> None:
        member = u.member("李明", reported=False)
        url = reverse("units:report-record", args=[u.world.community.pk])
        as_user(client, u.community_staff)
        tomorrow = (TODAY + dt.timedelta(days=1)).isoformat()
        response = client.post(url, {"member": member.pk, "reported_on": tomorrow})
        assert response.status_code == 400
        assert 'data-field="reported_on"' in html(response) and "已经" in html(response)
        response = client.post(url, {"reported_on": "2026-03-01"})
        assert response.status_code == 400 and 'data-field="member"' in html(response)
        assert not MemberReport.objects.exists()

    def test_another_street_and_a_department_cannot_record(self, u: Units, client: Client) -> None:
        member = u.member("李明", reported=False)
        url = reverse("units:report-record", args=[u.world.community.pk])
        for user in (u.world.foreign_worker, u.world.dept):
            response = as_user(client, user).post(url, {"member": member.pk, "reported_on": "2026-03-01"})
            assert response.status_code == 404
        assert not MemberReport.objects.exists()

    def test_a_member_reports_from_their_phone_once_and_the_community_confirms(self, u: Units, client: Client) -> None:
        member = u.member("李明", reported=False)
        assert member.account is not None
        home = html(as_user(client, member.account).get(reverse("home")))
        assert 'data-count="report_home"' in home and "向磷肥厂社区报到" in home
        overview = client.get(reverse("units:overview"))
        assert overview.context["report_home"] == u.world.community
        assert 'id="report-self"' in html(overview)
        client.post(reverse("units:report-self"))
        client.post(reverse("units:report-self"))  # a second tap adds nothing
        report = MemberReport.objects.get(member=member)
        assert (report.community, report.confirmed_at) == (u.world.community, None)
        assert 'id="report-self"' not in html(client.get(reverse("units:overview")))
        assert 'data-count="report_home"' not in html(client.get(reverse("home")))
        staff_page = as_user(client, u.community_staff).get(reverse("units:community", args=[u.world.community.pk]))
        assert f'data-report="{report.pk}"' in html(staff_page)

    def test_someone_not_in_service_cannot_report_themselves(self, u: Units, client: Client) -> None:
        user = UserFactory.create(username="retired", role=User.Role.WORKER)
        Member.objects.create(name="退休党员", organization=u.world.branch, account=user)
        response = as_user(client, user).post(reverse("units:report-self"), follow=True)
        assert "在职党员" in html(response)
        assert not MemberReport.objects.exists()


@pytest.mark.django_db
class TestAwards:
    def test_one_proposes_another_approves_and_the_ledger_shows_both(self, u: Units, client: Client) -> None:
        member = u.member("李明")
        url = reverse("units:points", args=[u.world.community.pk])
        as_user(client, u.community_staff).post(
            reverse("units:points-propose", args=[u.world.community.pk]),
            {"member": member.pk, "points": 20, "reason": "防汛值守表现突出"},
        )
        award = PointsAward.objects.get()
        page = client.get(url)
        assert f'data-award="{award.pk}"' in html(page)
        assert reverse("units:award-approve", args=[award.pk]) not in html(page)  # not for the proposer
        response = client.post(reverse("units:award-approve", args=[award.pk]))
        assert response.status_code == 403 and PointsEntry.objects.count() == 0
        page = as_user(client, u.second_staff).get(url)
        assert reverse("units:award-approve", args=[award.pk]) in html(page)
        client.post(reverse("units:award-approve", args=[award.pk]))
        entry = PointsEntry.objects.get()
        assert (entry.kind, entry.points, entry.granted_by, entry.approved_by) == (
            EntryKind.MANUAL, 20, u.community_staff, u.second_staff)
        page = client.get(url)
        assert f'data-entry="{entry.pk}"' in html(page) and "+20" in html(page)
        assert points.balance(member) == 20
        # Decided: a second decision changes nothing.
        response = client.post(reverse("units:award-reject", args=[award.pk]), follow=True)
        assert "该积分奖励已审批" in html(response) and PointsAward.objects.get().status == AwardStatus.APPROVED

    def test_the_home_page_tells_the_other_colleague_an_award_waits(self, u: Units, client: Client) -> None:
        member = u.member("李明")
        points.points_propose(actor=u.community_staff, member=member, community=u.world.community, points=10,
                              reason="协助调解")
        mine = html(as_user(client, u.community_staff).get(reverse("home")))
        assert 'data-count="awards"' not in mine
        theirs = html(as_user(client, u.second_staff).get(reverse("home")))
        assert 'data-count="awards"' in theirs and "1 项积分奖励待您审批" in theirs
        assert reverse("units:points", args=[u.world.community.pk]) in theirs

    def test_a_turned_down_award_writes_no_entry(self, u: Units, client: Client) -> None:
        member = u.member("李明")
        award = points.points_propose(actor=u.community_staff, member=member, community=u.world.community,
                                      points=10, reason="协助调解")
        as_user(client, u.second_staff).post(reverse("units:award-reject", args=[award.pk]))
        award.refresh_from_db()
        assert (award.status, award.decided_by) == (AwardStatus.REJECTED, u.second_staff)
        assert not PointsEntry.objects.exists()

    def test_bad_input_names_the_field_and_a_member_of_another_community_is_refused(
        self, u: Units, client: Client, world: World
    ) -> None:
        url = reverse("units:points-propose", args=[world.community.pk])
        member = u.member("李明")
        as_user(client, u.community_staff)
        response = client.post(url, {"member": member.pk, "points": 0, "reason": "x"})
        assert response.status_code == 400 and 'data-field="points"' in html(response)
        response = client.post(url, {"member": member.pk, "points": 5, "reason": ""})
        assert response.status_code == 400 and 'data-field="reason"' in html(response)
        stranger = Member.objects.create(name="外街党员", organization=world.foreign_grid.branch)
        response = client.post(url, {"member": stranger.pk, "points": 5, "reason": "x"})
        assert response.status_code == 400 and 'data-field="member"' in html(response)
        assert not PointsAward.objects.exists()

    def test_an_entry_is_reversed_from_the_page_once_with_a_reason(self, u: Units, client: Client) -> None:
        member = u.member("李明")
        u.served(member, 1)
        entry = PointsEntry.objects.get()
        as_user(client, u.community_staff)
        client.post(reverse("units:entry-reverse", args=[entry.pk]), {"reason": ""})
        assert PointsEntry.objects.count() == 1
        client.post(reverse("units:entry-reverse", args=[entry.pk]), {"reason": "活动取消"})
        reversal = PointsEntry.objects.get(kind=EntryKind.REVERSAL)
        assert (reversal.reverses, reversal.points, reversal.reason) == (entry, -5, "活动取消")
        page = client.get(reverse("units:points", args=[u.world.community.pk]))
        assert reverse("units:entry-reverse", args=[entry.pk]) not in html(page)
        assert points.balance(member) == 0

    def test_others_cannot_see_or_decide(self, u: Units, client: Client) -> None:
        member = u.member("李明")
        award = points.points_propose(actor=u.community_staff, member=member, community=u.world.community,
                                      points=10, reason="协助调解")
        for user in (u.world.foreign_worker, u.world.dept):
            as_user(client, user)
            assert client.get(reverse("units:points", args=[u.world.community.pk])).status_code == 404
            assert client.post(reverse("units:award-approve", args=[award.pk])).status_code == 404
        assert PointsAward.objects.get().status == AwardStatus.PROPOSED

    def test_the_ledger_page_runs_a_constant_number_of_queries(
        self, u: Units, client: Client, django_assert_max_num_queries: Any
    ) -> None:
        for name in ("甲", "乙", "丙", "丁"):
            u.served(u.member(name), 2)
            points.points_propose(actor=u.community_staff, member=Member.objects.get(name=name),
                                  community=u.world.community, points=3, reason="好")
        as_user(client, u.second_staff)
        with django_assert_max_num_queries(16):
            response = client.get(reverse("units:points", args=[u.world.community.pk]))
        assert len(response.context["entries"]) == 8 and len(response.context["waiting"]) == 4


@pytest.mark.django_db
def test_the_members_at_a_deliberation_meeting_earn_a_service_and_its_points_once(u: Units, world: World) -> None:
    """五议 as 党员积分 (seed 003): a meeting counts as a confirmed service of each member who took part."""
    first, second = u.member("甲"), u.member("乙")
    committee = u.community_staff
    matter = deliberations.deliberation_propose(
        actor=committee, community=world.community, title="小区增设电动车充电桩", description="楼道充电隐患",
        proposer_name="王建国",
    )
    deliberations.deliberation_accept(actor=committee, deliberation_id=matter.pk, opinion="同意")
    deliberations.deliberation_discuss(
        actor=committee, deliberation_id=matter.pk, meeting_on=TODAY, meeting_place="议事厅", attendees=12,
        minutes="多数赞成", members=[first, second],
    )
    activity = ServiceActivity.objects.get(deliberation=matter)
    assert (activity.kind, activity.community, activity.held_on) == (ServiceKind.DELIBERATION, world.community, TODAY)
    records = ServiceRecord.objects.filter(activity=activity)
    assert {(r.member.name, r.status, r.decided_by) for r in records} == {
        ("甲", ServiceStatus.ATTENDED, committee), ("乙", ServiceStatus.ATTENDED, committee)}
    assert (points.balance(first), points.balance(second)) == (6, 6)
    counted = units.with_member_figures(Member.objects.filter(pk=first.pk), TODAY.year).get()
    assert counted.services == 1  # type: ignore[attr-defined]
    # Not something to sign up for, nor to post.
    assert activity not in units.open_activities_for(first)
