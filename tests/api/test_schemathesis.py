"""Property-based run of every operation in /api/schema/ (schemathesis, in-process over WSGI).

Checks: no server error, every status code documented, every answer matching its schema, and
schema-violating input refused with a 4xx. After every refused (4xx) request the rows of petitions,
events and follow-ups are as they were. Run as district leadership (every step allowed by role), a
grid worker and department staff (refusals by role and scope).

Random codes and ids almost never name a real grid or petition, so half of the *positive* cases are
pointed at real ones (a hook below): the happy paths, 409s and 403s get exercised too. Negative
cases are left as generated.
"""

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from petitions import services
from petitions.models import Petition

from ..conftest import World
from ..factories import BuildingFactory, HouseholdFactory
from .conftest import register, row_counts

CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance, negative_data_rejection]
# Per operation, role and phase; the whole run stays well under 3 minutes on 2 cores.
MAX_EXAMPLES = 40

# Loaded at collection, like any WSGI app's schema (building it touches no database).
schema = schemathesis.openapi.from_wsgi("/api/schema/", WSGIHandler())
schema.config.generation.update(max_examples=MAX_EXAMPLES)

# Real codes and petition ids of the test's world, filled in by the ``token`` fixture.
REAL: dict[str, Any] = {}


@schema.hook
def flatmap_case(context: Any, case: Any) -> Any:
    meta = case.meta
    if not REAL or meta is None or not meta.generation.mode.is_positive:
        return st.just(case)
    real = case.derive(keep_auth=True)
    if "id" in (real.path_parameters or {}):
        return st.sampled_from(REAL["petitions"]).map(lambda pk: _with_id(real, pk)) | st.just(case)
    if isinstance(real.body, dict) and real.method == "POST" and "grid" in real.body:
        real.body.update(grid=REAL["grid"], category=REAL["category"])
        real.body.pop("household", None)
        real.body.pop("reporter_phone", None)
        return st.sampled_from([case, real])
    return st.just(case)


def _with_id(case: Any, pk: int) -> Any:
    case = case.derive(keep_auth=True)
    case.path_parameters["id"] = pk
    if isinstance(case.body, dict) and "department" in case.body:
        case.body["department"] = REAL["department"]
    return case


@pytest.fixture
def in_process(world: World) -> Iterator[None]:
    # Requests run in this thread, inside the test's transaction, as with Django's test client (a
    # handler closing "old" connections would end the transaction under the test's feet).
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
        REAL.clear()


@pytest.fixture(params=["admin", "worker", "dept"])
def token(request: pytest.FixtureRequest, world: World, in_process: None) -> str:
    # Petitions at every stage on the worker's grid, one about a household.
    household = HouseholdFactory.create(building=BuildingFactory.create(grid=world.grid))
    petitions: list[Petition] = [register(world, household=household), register(world), register(world)]
    for _ in range(6):
        p = register(world)
        services.petition_dispatch(actor=world.official, petition_id=p.pk, department=world.housing)
        petitions.append(p)
    for p in petitions[3:7]:
        services.petition_accept(actor=world.dept, petition_id=p.pk)
    for p in petitions[5:7]:
        services.petition_resolve(actor=world.dept, petition_id=p.pk, result="已修复")
    REAL.update(
        grid=world.grid.code,
        category=world.category.code,
        department=world.housing.code,
        petitions=[p.pk for p in petitions],
    )
    return Token.objects.create(user=getattr(world, request.param)).key


@pytest.mark.django_db
@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_api(case: Any, token: str) -> None:
    before = row_counts()
    response = case.call_and_validate(headers={"Authorization": f"Token {token}"}, checks=CHECKS)
    if 400 <= response.status_code < 500:
        assert row_counts() == before, f"{case.method} {case.formatted_path} answered {response.status_code} but wrote"
