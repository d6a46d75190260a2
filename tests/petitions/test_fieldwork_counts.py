"""Officials' patrol and visit counts per grid and per worker over a period (the assessment)."""

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from governance.models import User
from grids import fieldwork
from petitions.fieldwork import fieldwork_counts

from ..conftest import World
from ..factories import BuildingFactory, HouseholdFactory, UserFactory

pytestmark = pytest.mark.django_db


def patrol(actor: Any, grid: Any, days_ago: int, problem: bool = False) -> None:
    start = timezone.now() - dt.timedelta(days=days_ago, hours=2)
    fieldwork.patrol_record(
        actor=actor, grid=grid, started_at=start, ended_at=start + dt.timedelta(hours=1), route="楼道",
        findings="占道" if problem else "", problem_found=problem,
    )


def visit(actor: Any, grid: Any, days_ago: int, follow_up: bool = False) -> None:
    household = HouseholdFactory.create(building=BuildingFactory.create(grid=grid))
    fieldwork.visit_record(
        actor=actor, household=household, visited_at=timezone.now() - dt.timedelta(days=days_ago), learned="好",
        follow_up_needed=follow_up, follow_up="协助申请低保" if follow_up else "",
    )


@pytest.fixture
def known(world: World) -> dict[str, Any]:
    other = UserFactory.create(
        username="worker2", role=User.Role.WORKER, scope_node=world.other_grid_same_street.branch
    )
    idle = UserFactory.create(username="worker3", role=User.Role.WORKER, scope_node=world.branch)
    patrol(world.worker, world.grid, 1, problem=True)
    patrol(world.worker, world.grid, 3)
    patrol(world.worker, world.grid, 40)  # before the period
    visit(world.worker, world.grid, 2, follow_up=True)
    patrol(other, world.other_grid_same_street, 5)
    visit(other, world.other_grid_same_street, 6)
    visit(other, world.other_grid_same_street, 7)
    patrol(world.foreign_worker, world.foreign_grid, 1)  # another street
    return {"other": other, "idle": idle}


def test_counts_per_grid_and_worker_match_what_was_recorded(world: World, known: dict[str, Any]) -> None:
    today = timezone.localdate()
    data = fieldwork_counts(world.official, today - dt.timedelta(days=30), today)
    grids = {row["code"]: row for row in data["grids"]}
    assert set(grids) == {world.grid.code, world.other_grid_same_street.code}
    keys = ("patrols", "problems", "visits", "follow_ups")
    assert [grids[world.grid.code][k] for k in keys] == [2, 1, 1, 1]
    assert [grids[world.other_grid_same_street.code][k] for k in keys] == [1, 0, 2, 0]
    workers = {row["code"]: row for row in data["workers"]}
    assert [workers["worker"][k] for k in keys] == [2, 1, 1, 1]
    assert [workers["worker2"][k] for k in keys] == [1, 0, 2, 0]
    assert [workers["worker3"][k] for k in keys] == [0, 0, 0, 0]  # listed: nothing recorded is what counts
    assert "foreign" not in workers
    assert data["totals"] == {"patrols": 3, "problems": 1, "visits": 3, "follow_ups": 1}
    # A longer period takes in the old patrol.
    longer = fieldwork_counts(world.official, today - dt.timedelta(days=60), today)
    assert longer["totals"]["patrols"] == 4


def test_the_page_shows_them_and_a_bad_period_names_the_field(
    world: World, known: dict[str, Any], client: Client
) -> None:
    client.force_login(world.official)
    page = client.get(reverse("petitions:fieldwork")).content.decode()
    assert f'data-grid="{world.grid.code}"' in page and 'data-worker="worker2"' in page
    assert 'data-grid="' + world.foreign_grid.code + '"' not in page
    bad = client.get(reverse("petitions:fieldwork"), {"since": "2026-02-30"})
    assert bad.status_code == 400 and 'data-field="since"' in bad.content.decode()
    backwards = client.get(reverse("petitions:fieldwork"), {"since": "2026-03-01", "until": "2026-02-01"})
    assert backwards.status_code == 400 and 'data-field="until"' in backwards.content.decode()
    client.force_login(world.dept)
    assert client.get(reverse("petitions:fieldwork")).status_code == 404


def test_the_counts_run_a_constant_number_of_queries(
    world: World, known: dict[str, Any], client: Client, django_assert_max_num_queries: Any
) -> None:
    client.force_login(world.official)
    with django_assert_max_num_queries(20) as few:
        client.get(reverse("petitions:fieldwork"))
    for days in range(10):
        patrol(known["other"], world.other_grid_same_street, days)
        visit(world.worker, world.grid, days)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(reverse("petitions:fieldwork"))
