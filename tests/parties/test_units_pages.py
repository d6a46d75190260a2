"""双报到 pages: who sees which community and unit, the XLSX assessment's figures, constant queries."""

import datetime as dt
import io
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from governance.models import User
from parties.models import CoUnit, Pairing, ServiceActivity, ServiceRecord, ServiceStatus

from ..conftest import World
from ..factories import UserFactory
from .units_world import Units, make_units


@pytest.fixture
def u(world: World) -> Units:
    units_world = make_units(world)
    for name, services in (("甲", 2), ("乙", 1)):
        units_world.served(units_world.member(name), services)
    units_world.member("丙", reported=False)
    return units_world


def get(client: Client, user: User, url: str) -> Any:
    client.force_login(user)
    return client.get(url)


@pytest.mark.django_db
class TestScope:
    def test_the_community_sees_its_page_with_units_members_and_flags(self, u: Units, client: Client) -> None:
        url = reverse("units:community", args=[u.world.community.pk]) + "?year=2026"
        response = get(client, u.community_staff, url)
        assert response.status_code == 200
        html = response.content.decode()
        assert "区教育局" in html and 'data-flagged="true"' in html
        members = {m.name: (m.services, m.flagged) for m in response.context["members"]}
        assert members == {"甲": (2, False), "乙": (1, True)}  # 丙 has not reported here
        unit = response.context["paired"][0]
        assert (unit.in_service, unit.reported, unit.flagged) == (3, 2, True)  # 67 % < 80 %

    def test_the_street_sees_its_communities_and_units(self, u: Units, client: Client) -> None:
        assert get(client, u.world.official, reverse("units:community", args=[u.world.community.pk])).status_code == 200
        assert get(client, u.world.official, reverse("units:unit", args=[u.unit.pk])).status_code == 200
        overview = client.get(reverse("units:overview"))
        assert u.world.community in overview.context["communities"]
        assert [x.pk for x in overview.context["units"]] == [u.unit.pk]

    def test_the_units_account_sees_its_unit_and_no_community(self, u: Units, client: Client) -> None:
        response = get(client, u.unit_account, reverse("units:unit", args=[u.unit.pk]) + "?year=2026")
        assert response.status_code == 200
        assert {m.name: m.reported_to for m in response.context["members"]} == {
            "甲": "磷肥厂社区", "乙": "磷肥厂社区", "丙": None,
        }
        assert client.get(reverse("units:community", args=[u.world.community.pk])).status_code == 404
        other = CoUnit.objects.create(name="某企业", party_organisation="党支部", located_in=u.world.street)
        assert client.get(reverse("units:unit", args=[other.pk])).status_code == 404

    def test_another_street_gets_404_for_the_community_the_unit_and_the_export(self, u: Units, client: Client) -> None:
        for url in (
            reverse("units:community", args=[u.world.community.pk]),
            reverse("units:unit", args=[u.unit.pk]),
            reverse("units:unit-export", args=[u.unit.pk]),
        ):
            assert get(client, u.world.foreign_worker, url).status_code == 404
        assert get(client, u.world.dept, reverse("units:community", args=[u.world.community.pk])).status_code == 404

    def test_a_community_paired_with_a_unit_elsewhere_sees_it(self, u: Units, client: Client) -> None:
        elsewhere = CoUnit.objects.create(name="外区医院", party_organisation="党委", located_in=u.world.other_street)
        Pairing.objects.create(unit=elsewhere, community=u.world.community, started_on=dt.date(2026, 1, 1))
        assert get(client, u.community_staff, reverse("units:unit", args=[elsewhere.pk])).status_code == 200


@pytest.mark.django_db
def test_the_xlsx_assessment_has_the_pages_figures(u: Units, client: Client) -> None:
    response = get(client, u.unit_account, reverse("units:unit-export", args=[u.unit.pk]) + "?year=2026")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet is not None
    rows = [tuple(row) for row in sheet.iter_rows(values_only=True)]
    assert "区教育局" in str(rows[0][0]) and "2026" in str(rows[0][0])
    unit_row = next(r for r in rows if r[0] == "区教育局")
    assert unit_row[1:5] == (3, 2, pytest.approx(2 / 3), "是")
    members = {r[0]: r[1:5] for r in rows if r[0] in ("甲", "乙", "丙")}
    assert members == {"甲": ("磷肥厂社区", 2, 10, "否"), "乙": ("磷肥厂社区", 1, 5, "是"), "丙": ("—", 0, 0, "是")}


@pytest.mark.django_db
def test_a_bad_year_is_400_naming_the_field(u: Units, client: Client) -> None:
    response = get(client, u.unit_account, reverse("units:unit", args=[u.unit.pk]) + "?year=abc")
    assert response.status_code == 400
    assert 'data-field="year"' in response.content.decode()


@pytest.mark.django_db
def test_posting_a_service_and_confirming_attendance_on_the_page(u: Units, client: Client) -> None:
    client.force_login(u.community_staff)
    url = reverse("units:activity-post", args=[u.world.community.pk])
    before = ServiceActivity.objects.count()
    bad = client.post(url, {"title": "", "kind": "patrol", "held_on": "2026-08-01"})
    assert bad.status_code == 400 and 'data-field="title"' in bad.content.decode()
    assert ServiceActivity.objects.count() == before
    assert client.post(url, {"title": "夜间巡逻", "kind": "patrol", "held_on": "2099-08-01"}).status_code == 302
    activity = ServiceActivity.objects.get(title="夜间巡逻")
    member = u.members[0]
    assert member.account is not None
    client.force_login(member.account)
    overview = client.get(reverse("units:overview"))
    assert activity in overview.context["open_activities"]
    client.post(reverse("units:sign_up", args=[activity.pk]))
    record = ServiceRecord.objects.get(activity=activity, member=member)
    assert client.post(reverse("units:confirm", args=[activity.pk, record.pk])).status_code == 403
    client.force_login(u.community_staff)
    client.post(reverse("units:confirm", args=[activity.pk, record.pk]), {"back": "community"})
    assert ServiceRecord.objects.get(pk=record.pk).status == ServiceStatus.ATTENDED
    home = client.get(reverse("home"))
    assert 'id="units-panel"' in home.content.decode()


@pytest.mark.django_db
def test_the_pages_run_a_constant_number_of_queries(
    u: Units, client: Client, django_assert_max_num_queries: Any
) -> None:
    urls = [
        reverse("units:community", args=[u.world.community.pk]),
        reverse("units:unit", args=[u.unit.pk]),
        reverse("units:overview"),
        reverse("units:unit-export", args=[u.unit.pk]),
    ]
    client.force_login(u.world.official)
    few = {}
    for url in urls:
        with django_assert_max_num_queries(25) as captured:
            assert client.get(url).status_code == 200
        few[url] = len(captured.captured_queries)
    for i in range(6):
        u.served(u.member(f"新{i}"), 2)
        CoUnit.objects.create(name=f"单位{i}", party_organisation="党支部", located_in=u.world.street)
    UserFactory.create(username="spare")
    for url in urls:
        with django_assert_max_num_queries(few[url]) as many:
            client.get(url)
        print(f"\n  queries {url:40} before {few[url]:3} after {len(many.captured_queries):3}")
