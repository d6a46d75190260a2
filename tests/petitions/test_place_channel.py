"""Place and channel: registered on the page and through the API, shown, filtered, counted; grid boundaries."""

import csv
import io
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from grids.geo import contains
from petitions import metrics
from petitions.models import Petition
from tests.api.conftest import row_counts, token_client

from ..conftest import World
from .test_pages import form_data

pytestmark = pytest.mark.django_db

# A square around the world's grid, and one with a hole (a school that is its own dedicated grid).
def polygon(*corners: tuple[float, float]) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": [[list(c) for c in corners]]}


SQUARE = polygon((126.0, 45.0), (126.1, 45.0), (126.1, 45.1), (126.0, 45.1), (126.0, 45.0))
WITH_HOLE = {
    "type": "MultiPolygon",
    "coordinates": [
        [
            [[127.0, 46.0], [127.2, 46.0], [127.2, 46.2], [127.0, 46.2], [127.0, 46.0]],
            [[127.05, 46.05], [127.1, 46.05], [127.1, 46.1], [127.05, 46.1], [127.05, 46.05]],
        ]
    ],
}


def test_the_page_registers_channel_place_and_point_and_shows_them(world: World, client: Client) -> None:
    client.force_login(world.worker)
    data = form_data(
        world, channel="hotline", place="3栋北门",
        latitude="45.0512345678", longitude="126.05", coordinate_system="wgs84",
    )
    response = client.post(reverse("petitions:register"), data, follow=True)
    petition = Petition.objects.get(title=data["title"])
    assert (petition.channel, petition.place, petition.coordinate_system) == ("hotline", "3栋北门", "wgs84")
    assert petition.latitude == Decimal("45.051235") and petition.longitude == Decimal("126.050000")
    html = response.content.decode()
    assert 'data-channel="hotline"' in html and "12345热线" in html.replace(" ", "")
    assert "3栋北门" in html and 'data-system="wgs84"' in html
    # The form offers the phone's position (a button wangge.js shows where the browser can locate).
    assert 'id="locate"' in client.get(reverse("petitions:register")).content.decode()


@pytest.mark.parametrize(
    ("point", "field", "message"),
    [
        ({"latitude": "45.05"}, "longitude", "填写纬度时请同时填写经度"),
        ({"longitude": "126.05", "coordinate_system": "gcj02"}, "latitude", "填写经度时请同时填写纬度"),
        ({"latitude": "95", "longitude": "126.05", "coordinate_system": "gcj02"}, "latitude", "纬度应在 -90 到 90"),
        ({"latitude": "45", "longitude": "-181", "coordinate_system": "gcj02"}, "longitude", "经度应在 -180 到 180"),
        ({"latitude": "45.05", "longitude": "126.05"}, "coordinate_system", "请选择位置所用的坐标系"),
        ({"channel": "pigeon"}, "channel", "受理渠道"),
    ],
)
def test_a_bad_point_is_refused_naming_the_field(
    world: World, client: Client, point: dict[str, str], field: str, message: str
) -> None:
    client.force_login(world.worker)
    before = row_counts()
    response = client.post(reverse("petitions:register"), form_data(world, **point))
    assert response.status_code == 400
    html = response.content.decode()
    assert f'data-field="{field}"' in html and message in html
    assert row_counts() == before
    api = token_client(world.worker).post(
        "/api/v1/petitions/", {**form_data(world), **point}, format="json", HTTP_ACCEPT_LANGUAGE="zh-hans"
    )
    assert api.status_code == 400 and field in api.json(), api.json()
    assert row_counts() == before


def test_the_api_takes_and_gives_back_the_channel_place_and_point(world: World) -> None:
    api = token_client(world.worker)
    body = {
        **form_data(world), "channel": "phone", "place": "菜市场后巷",
        "latitude": 45.05, "longitude": 126.05, "coordinate_system": "gcj02",
    }
    created = api.post("/api/v1/petitions/", body, format="json")
    assert created.status_code == 201, created.json()
    read = api.get(f"/api/v1/petitions/{created.json()['id']}/").json()
    for answer in (created.json(), read):
        assert answer["channel"] == "phone" and answer["place"] == "菜市场后巷"
        assert (answer["latitude"], answer["longitude"], answer["coordinate_system"]) == (45.05, 126.05, "gcj02")
    plain = api.post("/api/v1/petitions/", form_data(world, title="无位置"), format="json").json()
    assert (plain["channel"], plain["latitude"], plain["coordinate_system"]) == ("visit", None, None)


def test_the_list_filters_by_channel(world: World, client: Client) -> None:
    hotline = world.petition(channel="hotline")
    world.petition(channel="visit")
    client.force_login(world.official)
    html = client.get(reverse("petitions:list"), {"channel": "hotline"}).content.decode()
    assert html.count("<li data-number=") == 1 and hotline.number in html
    api = token_client(world.official).get("/api/v1/petitions/", {"channel": "hotline"}).json()
    assert [p["number"] for p in api["results"]] == [hotline.number]


def test_the_dashboard_counts_by_channel_and_exports_it(world: World, client: Client) -> None:
    for channel in ("hotline", "hotline", "patrol"):
        world.petition(channel=channel)
    world.petition("closed", channel="hotline")
    world.petition(channel="hotline", grid=world.foreign_grid, actor=world.foreign_worker)  # another street
    by_channel = {row["channel"]: row for row in metrics.dashboard_for(world.official)["channels"]}
    assert list(by_channel) == ["visit", "phone", "hotline", "patrol", "card", "other"]
    assert (by_channel["hotline"]["registered"], by_channel["hotline"]["open"]) == (3, 2)
    assert by_channel["patrol"]["registered"] == 1 and by_channel["visit"]["registered"] == 0
    client.force_login(world.official)
    assert 'id="channels"' in client.get(reverse("petitions:dashboard")).content.decode()
    response = client.get(reverse("petitions:dashboard_export", args=["channels", "csv"]))
    lines = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    hotline_row = next(line for line in lines if line and line[0].replace(" ", "") == "12345热线")
    assert hotline_row[1:] == ["3", "2", "0"]
    api = token_client(world.official).get("/api/v1/dashboard/").json()
    assert {row["channel"]: row["registered"] for row in api["channels"]}["hotline"] == 3


def test_even_odd_point_in_boundary_with_a_hole() -> None:
    assert contains(SQUARE, 45.05, 126.05)
    assert not contains(SQUARE, 45.2, 126.05)
    assert contains(WITH_HOLE, 46.01, 127.01)
    assert not contains(WITH_HOLE, 46.07, 127.07)  # in the hole
    assert not contains(None, 45.05, 126.05)


@pytest.mark.parametrize(
    ("boundary", "message"),
    [
        ({"type": "Point", "coordinates": [126.0, 45.0]}, "Polygon 或 MultiPolygon"),
        (polygon((126.0, 45.0), (126.1, 45.0), (126.1, 45.1), (126.0, 45.2)), "没有闭合"),
        (polygon((45.0, 126.0), (45.1, 126.0), (45.1, 126.1), (45.0, 126.0)), "[经度, 纬度]"),
        (polygon((126.0, 45.0), (126.1, 45.0), (126.0, 45.0)), "至少需要四个"),
    ],
)
def test_a_broken_boundary_is_refused_with_a_clear_message(world: World, boundary: Any, message: str) -> None:
    world.grid.boundary = boundary
    with pytest.raises(ValidationError) as refused:
        world.grid.full_clean()
    assert "boundary" in refused.value.message_dict
    assert message in " ".join(refused.value.message_dict["boundary"])


def test_admin_edits_the_boundary_as_text(world: World, client: Client) -> None:
    client.force_login(world.admin)
    url = reverse("admin:grids_grid_change", args=[world.grid.pk])
    page = client.get(url).content.decode()
    assert 'name="boundary"' in page and "<textarea" in page


def test_a_point_suggests_the_grid_whose_boundary_holds_it(world: World, client: Client) -> None:
    world.grid.boundary = SQUARE
    world.grid.save()
    api = token_client(world.official)
    found = api.get("/api/v1/grids/", {"point": "45.05,126.05"}).json()
    assert [g["code"] for g in found["results"]] == [world.grid.code]
    assert api.get("/api/v1/grids/", {"point": "45.5,126.05"}).json()["results"] == []
    bad = api.get("/api/v1/grids/", {"point": "north"})
    assert bad.status_code == 400 and "point" in bad.json()
    # Outside the user's scope, a grid holding the point is not named.
    assert token_client(world.foreign_worker).get("/api/v1/grids/", {"point": "45.05,126.05"}).json()["results"] == []
    # Logged on the neighbouring grid with a point inside this one: the petition's page says so.
    petition = world.petition(
        grid=world.other_grid_same_street, actor=world.official,
        latitude=45.05, longitude=126.05, coordinate_system="gcj02",
    )
    client.force_login(world.official)
    html = client.get(petition.get_absolute_url()).content.decode()
    assert f'data-grid="{world.grid.code}"' in html
    on_its_own = world.petition(latitude=45.05, longitude=126.05, coordinate_system="gcj02")
    assert 'id="point-grid"' not in client.get(on_its_own.get_absolute_url()).content.decode()
