"""GET /api/v1/patrols/ and /api/v1/visits/: scoped, paginated, no visit notes in a list."""

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from grids import fieldwork
from grids.models import Patrol, Visit
from petitions import services

from ..conftest import World
from ..factories import BuildingFactory, HouseholdFactory
from .conftest import token_client

pytestmark = pytest.mark.django_db

PATROLS, VISITS = "/api/v1/patrols/", "/api/v1/visits/"


def patrol(world: World, grid: Any = None, actor: Any = None, **fields: Any) -> Patrol:
    now = timezone.now()
    return fieldwork.patrol_record(
        actor=actor or world.worker, grid=grid or world.grid, started_at=now - dt.timedelta(hours=2),
        ended_at=now - dt.timedelta(hours=1), route="楼道、车库", **fields,
    )


def visit(world: World, grid: Any = None, actor: Any = None) -> Visit:
    household = HouseholdFactory.create(building=BuildingFactory.create(grid=grid or world.grid))
    return fieldwork.visit_record(
        actor=actor or world.worker, household=household, visited_at=timezone.now(), learned="独居，儿子在外地"
    )


def test_patrols_are_listed_with_their_petitions_within_the_scope(world: World) -> None:
    found = patrol(world, findings="井盖缺失", problem_found=True, problem_place="2栋北侧")
    petition = services.petition_register_from_patrol(
        actor=world.worker, patrol_id=found.pk, category=world.category, title="井盖缺失", description="2栋北侧"
    )
    patrol(world, grid=world.foreign_grid, actor=world.foreign_worker)
    body = token_client(world.worker).get(PATROLS).json()
    assert body["count"] == 1
    row = body["results"][0]
    assert (row["id"], row["grid"], row["recorded_by"], row["problem_found"]) == (found.pk, world.grid.code,
                                                                                    "worker", True)
    assert row["petitions"] == [petition.pk] and row["problem_place"] == "2栋北侧"
    assert token_client(world.official).get(PATROLS).json()["count"] == 1
    assert token_client(world.dept).get(PATROLS).json()["count"] == 0
    assert token_client(world.admin).get(PATROLS).json()["count"] == 2


def test_visits_are_listed_without_what_was_learned(world: World) -> None:
    mine = visit(world)
    visit(world, grid=world.foreign_grid, actor=world.foreign_worker)
    body = token_client(world.worker).get(VISITS).json()
    assert body["count"] == 1
    row = body["results"][0]
    assert row["id"] == mine.pk and row["household"] == mine.household_id and row["grid"] == world.grid.code
    assert "learned" not in row and "独居" not in str(body)
    assert token_client(world.foreign_worker).get(VISITS).json()["count"] == 1


def test_without_credentials_401_and_a_bad_page_size_names_it(world: World) -> None:
    assert APIClient().get(PATROLS).status_code == 401
    response = token_client(world.worker).get(f"{VISITS}?page_size=0")
    assert response.status_code == 400 and set(response.json()) == {"page_size"}


def test_the_lists_run_a_constant_number_of_queries(world: World, django_assert_max_num_queries: Any) -> None:
    for _ in range(3):
        patrol(world)
        visit(world)
    client = token_client(world.official)
    counts = {}
    for url in (PATROLS, VISITS):
        with django_assert_max_num_queries(10) as few:
            client.get(url)
        counts[url] = len(few.captured_queries)
    for _ in range(20):
        patrol(world)
        visit(world)
    for url in (PATROLS, VISITS):
        with django_assert_max_num_queries(counts[url]):
            assert len(client.get(f"{url}?page_size=25").json()["results"]) == 23
