"""The read-only API of 双报到: units with their rates, and the points rankings, scoped like the pages."""

from typing import Any

import pytest
from rest_framework.test import APIClient

from ..conftest import World
from .units_world import Units, make_units


@pytest.fixture
def u(world: World) -> Units:
    units_world = make_units(world)
    for name, services in (("甲", 2), ("乙", 1)):
        units_world.served(units_world.member(name), services)
    units_world.member("丙", reported=False)
    return units_world


def api(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.mark.django_db
def test_units_with_their_rate_for_the_street_the_unit_and_not_another_street(u: Units) -> None:
    body = api(u.world.official).get("/api/v1/units/").json()
    assert [(r["name"], r["in_service"], r["reported"], round(r["reporting_rate"], 3), r["flagged"])
            for r in body["results"]] == [("区教育局", 3, 2, 0.667, True)]
    assert [r["id"] for r in api(u.unit_account).get("/api/v1/units/").json()["results"]] == [u.unit.pk]
    assert api(u.world.foreign_worker).get("/api/v1/units/").json()["results"] == []


@pytest.mark.django_db
def test_the_ranking_of_a_community_and_of_a_unit(u: Units) -> None:
    body = api(u.community_staff).get("/api/v1/points/ranking/", {"community": u.world.community.pk}).json()
    assert [(r["place"], r["name"], r["points"]) for r in body["ranks"]] == [(1, "甲", 10), (2, "乙", 5)]
    by_unit = api(u.unit_account).get("/api/v1/points/unit-ranking/", {"unit": u.unit.pk}).json()
    assert [r["points"] for r in by_unit["ranks"]] == [10, 5]


@pytest.mark.django_db
def test_the_ranking_refuses_what_is_not_visible_and_bad_input(u: Units) -> None:
    foreign = api(u.world.foreign_worker)
    assert foreign.get("/api/v1/points/ranking/", {"community": u.world.community.pk}).status_code == 404
    assert foreign.get("/api/v1/points/unit-ranking/", {"unit": u.unit.pk}).status_code == 404
    assert api(u.unit_account).get("/api/v1/points/ranking/", {"community": u.world.community.pk}).status_code == 404
    bad = api(u.community_staff).get("/api/v1/points/ranking/", {"year": "abc"})
    assert bad.status_code == 400 and "year" in bad.json()
    missing = api(u.community_staff).get("/api/v1/points/ranking/")
    assert missing.status_code == 400 and "community" in missing.json()
