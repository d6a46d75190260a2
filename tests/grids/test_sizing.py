"""The grid list shows each grid's households and warns (never blocks) when an urban grid is far from ~300."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from grids.models import Building, Grid, Household

from ..conftest import World
from ..factories import BuildingFactory, GridFactory


def fill(grid: Grid, households: int) -> Building:
    building = BuildingFactory.create(grid=grid)
    Household.objects.bulk_create(Household(building=building, room=f"{n:04d}") for n in range(households))
    return building


def row_of(html: str, grid: Grid) -> str:
    """The changelist table row that shows ``grid``."""
    rows = [r for r in re.findall(r"<tr[^>]*>.*?</tr>", html, re.S) if f">{grid.code}<" in r]
    assert len(rows) == 1, f"{grid.code} is not listed once"
    return rows[0]


def cells(row: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.S)]


@pytest.mark.django_db
def test_grid_list_shows_household_counts_and_sizing_warnings(world: World, client: Client) -> None:
    sized = GridFactory.create(code="sized", kind=Grid.Kind.URBAN)
    small = GridFactory.create(code="small", kind=Grid.Kind.URBAN)
    crowded = GridFactory.create(code="crowded", kind=Grid.Kind.URBAN)
    village = GridFactory.create(code="village", kind=Grid.Kind.RURAL)
    fill(sized, 300)
    fill(small, 40)
    fill(crowded, 480)
    fill(village, 40)
    client.force_login(world.admin)

    html = client.get(reverse("admin:grids_grid_changelist")).content.decode()

    assert "40" in cells(row_of(html, small))
    assert "300" in cells(row_of(html, sized)) and "480" in cells(row_of(html, crowded))
    assert "⚠" not in row_of(html, sized)
    sizing = re.search(r'<td class="field-sizing">(.*?)</td>', row_of(html, small), re.S)
    assert sizing and "⚠" in sizing.group(1) and "300" in sizing.group(1)
    assert "⚠" in row_of(html, crowded)
    # A rural grid has no household standard: no warning, whatever its size.
    assert "⚠" not in row_of(html, village)
    assert "0" in cells(row_of(html, world.grid))


@pytest.mark.django_db
def test_a_grid_far_from_the_standard_can_still_be_edited(world: World, client: Client) -> None:
    small = GridFactory.create(code="small", kind=Grid.Kind.URBAN)
    fill(small, 10)
    client.force_login(world.admin)

    response = client.post(
        reverse("admin:grids_grid_change", args=[small.pk]),
        {
            "code": "small",
            "name": "改名的网格",
            "kind": Grid.Kind.URBAN,
            "branch": small.branch_id,
            "assignments-TOTAL_FORMS": "0",
            "assignments-INITIAL_FORMS": "0",
            "assignments-MIN_NUM_FORMS": "0",
            "assignments-MAX_NUM_FORMS": "1000",
        },
    )

    assert response.status_code == 302
    small.refresh_from_db()
    assert small.name == "改名的网格"


@pytest.mark.django_db
def test_grid_list_runs_a_constant_number_of_queries(
    world: World, client: Client, django_assert_max_num_queries: object
) -> None:
    for n in range(12):
        fill(GridFactory.create(code=f"g{n:02d}"), 5)
    client.force_login(world.admin)
    with django_assert_max_num_queries(12):  # type: ignore[operator]
        assert client.get(reverse("admin:grids_grid_changelist")).status_code == 200
