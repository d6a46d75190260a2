"""Property-based runs of the API against its own OpenAPI schema (schemathesis, in-process over WSGI).

Stateless: every operation, as district leadership, a grid worker and department staff. Checks: no
server error, every status code documented, every answer matching its schema, input that breaks the
schema refused with a 4xx (``negative_data_rejection``), and input the schema allows accepted or
refused only for state, role or scope (``positive_data_acceptance``: 2xx, 403, 404, 409; never a
400). After every refused request the rows of petitions, events and follow-ups are as they were.

Random codes and ids almost never name a real grid or petition, so *positive* cases are pointed at
the test's world (``_point_at_world``): real grid, category and department codes, a household of the grid
(or none), a well-formed phone (or none), a petition in a status the step can start from, sign-in
with the role's real password. Text, priorities, notes and filters stay as generated. Negative cases
are left exactly as generated.

Each example runs in a savepoint that is rolled back: the world is built once per operation and
role, and every example starts from it unchanged (Hypothesis' ``function_scoped_fixture`` health
check is the one check silenced, for that reason; the others stay on). Successes are counted per
operation and role, printed, and held to a floor: an operation the role may take must succeed.

Stateful: schemathesis infers links between the operations from the schema (a registered petition's
``id`` feeds dispatch, accept, resolve, follow-up …) and chains real calls; the runs must succeed at
every step of the loop.
"""

import datetime as dt
import random
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from django.utils import timezone
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    negative_data_rejection,
    positive_data_acceptance,
    response_schema_conformance,
    status_code_conformance,
)

from governance.models import User
from parties import deliberations
from parties.models import CoUnit
from petitions import metrics, services
from petitions.models import Petition, Status

from ..conftest import World
from ..factories import PASSWORD, BuildingFactory, HouseholdFactory
from .conftest import row_counts

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    response_schema_conformance,
    negative_data_rejection,
    positive_data_acceptance,
]
STATEFUL_CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]
# Per operation, role and phase; the whole run stays within a few minutes on 2 cores.
MAX_EXAMPLES = 40
# Each example is a fresh savepoint of the same world: sharing the fixture is what we mean to do.
PER_EXAMPLE = settings(
    max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

# Loaded at collection, like any WSGI app's schema (building it touches no database).
schema = schemathesis.openapi.from_wsgi("/api/schema/", WSGIHandler())
# No NUL characters: PostgreSQL text cannot hold them, so the API refuses them with a 400 naming the
# field (tests/api/test_text_input.py), which positive_data_acceptance would count against it.
schema.config.generation.update(max_examples=MAX_EXAMPLES, allow_x00=False)

# Stateful runs of 100 scenarios each, at most, to see every step of the loop chained at least once.
STATEFUL_RUNS = 6

# Which operations each role must be able to take (at least one 2xx answer in its run); the others
# must never succeed for that role.
READS = {
    "GET /api/v1/chain/", "GET /api/v1/grids/", "GET /api/v1/categories/", "GET /api/v1/departments/",
    "GET /api/v1/petitions/", "GET /api/v1/petitions/{id}/", "GET /api/v1/dashboard/", "POST /api/v1/auth/token/",
    "GET /api/v1/units/", "GET /api/v1/patrols/", "GET /api/v1/visits/",  # lists: an empty page out of scope
    "GET /api/v1/deliberations/",  # an empty page for those whose scope holds no community
}
# The points rankings (issue 9) are of a community or a unit the district sees; a grid worker's or a
# department's scope holds neither.
RANKINGS = {"GET /api/v1/points/ranking/", "GET /api/v1/points/unit-ranking/"}
STEPS = {
    f"POST /api/v1/petitions/{{id}}/{step}/"
    for step in ("report", "dispatch", "accept", "return", "resolve", "follow-up", "cancel")
}
CLOCK = {
    f"POST /api/v1/petitions/{{id}}/{step}/"
    for step in ("pause", "resume", "request-extension", "approve-extension", "refuse-extension")
}
SUCCEEDS = {
    "admin": READS | STEPS | CLOCK | RANKINGS | {"POST /api/v1/petitions/", "GET /api/v1/deliberations/{id}/"},
    "worker": READS | {"POST /api/v1/petitions/", "POST /api/v1/petitions/{id}/resolve/",
                       "POST /api/v1/petitions/{id}/follow-up/", "POST /api/v1/petitions/{id}/report/"},
    "dept": READS | {"POST /api/v1/petitions/{id}/accept/", "POST /api/v1/petitions/{id}/return/",
                     "POST /api/v1/petitions/{id}/resolve/", "POST /api/v1/petitions/{id}/pause/",
                     "POST /api/v1/petitions/{id}/resume/", "POST /api/v1/petitions/{id}/request-extension/"},
}
# The statuses each step can start from, for pointing positive cases at a petition it applies to.
STEP_SOURCES = {
    "report": {Status.REGISTERED},
    "dispatch": {Status.REGISTERED, Status.REPORTED}, "cancel": {Status.REGISTERED, Status.REPORTED},
    "accept": {Status.DISPATCHED}, "return": {Status.DISPATCHED},
    "resolve": {Status.REGISTERED, Status.REPORTED, Status.ACCEPTED}, "follow-up": {Status.RESOLVED},
}


@dataclass
class Real:
    """The test world's real codes, ids and credentials, for pointing positive cases at them."""

    username: str = ""
    grid: str = ""
    category: str = ""
    department: str = ""
    households: list[int] = field(default_factory=list)
    community: int = 0
    unit: int = 0
    petitions: dict[str, list[int]] = field(default_factory=dict)
    deliberations: list[int] = field(default_factory=list)


REAL = Real()


def _point_at_world(case: Any, rng: random.Random, *, linked: bool = False) -> None:
    """A positive ``case`` pointed at the world (in place): what the schema allows and the world holds.

    Done in the test, not in a generation hook: hooks reach the fuzzing phase only, and the examples
    and coverage phases generate positive cases too. ``linked``: a stateful step, whose id comes from
    the link (the petition just registered) and whose body the link filled from the last answer
    (a registered petition's ``department`` is null): the id is kept, the rest pointed at the world,
    whatever the generation mode (the stateful run checks chaining, not the rejection of bad input).
    """
    meta = case.meta
    if not linked and (meta is None or not meta.generation.mode.is_positive):
        return  # negative cases stay exactly as generated (in the stateless run)
    path = case.operation.path
    body = case.body if isinstance(case.body, dict) else None
    if "{id}" in path and not linked:
        step = path.rstrip("/").rsplit("/", 1)[-1]
        candidates = REAL.petitions.get(step) or REAL.petitions["any"]
        if path.startswith("/api/v1/deliberations/"):
            candidates = REAL.deliberations
        case.path_parameters["id"] = rng.choice(candidates)
    if body is not None:
        # The whistle's note is required, like a reason (elsewhere a note is optional).
        required = ("title", "description", "result", "reason", *(("note",) if path.endswith("/report/") else ()))
        for name in required:
            if name in body and isinstance(body[name], str) and not body[name].strip():
                body[name] = f"{name} 内容"  # whitespace only is blank once trimmed: a rule, not a type
        if path == "/api/v1/auth/token/":
            body.update(username=REAL.username, password=PASSWORD)
        if path == "/api/v1/petitions/":
            body.update(grid=REAL.grid, category=REAL.category)
            body["household"] = rng.choice([None, *REAL.households])
            body["reporter_phone"] = rng.choice(["", "13812345678", "15900001111"])
            # A point is both coordinates with the system they came in, or neither: a rule, not a type.
            if body.get("latitude") is None or body.get("longitude") is None:
                body.pop("latitude", None)
                body.pop("longitude", None)
            else:
                body["coordinate_system"] = body.get("coordinate_system") or rng.choice(["gcj02", "wgs84"])
        if "department" in body:
            body["department"] = REAL.department
        if "proposed_due" in body:  # after the current deadline: a rule, not a type
            body["proposed_due"] = (timezone.localdate() + dt.timedelta(days=rng.randint(30, 300))).isoformat()
        if path.endswith("/follow-up/") and body.get("reached"):
            body.setdefault("solved", rng.choice([True, False]))
            if body["solved"] is None:
                body["solved"] = rng.choice([True, False])
            if not body.get("satisfaction"):
                body["satisfaction"] = rng.choice(["very_satisfied", "satisfied", "dissatisfied"])
    # The grids' point filter: "latitude,longitude" in range (a rule the string type cannot say).
    if path == "/api/v1/grids/" and case.query and "point" in case.query:
        case.query["point"] = rng.choice(["45.05,126.05", "-33.9,151.2", "0,0"])
    if path == "/api/v1/points/ranking/" and isinstance(case.query, dict):
        case.query["community"] = REAL.community
    if path == "/api/v1/points/unit-ranking/" and isinstance(case.query, dict):
        case.query["unit"] = REAL.unit
    # The list's figure filters (stage, since, until) follow the dashboard's period rules.
    if path in ("/api/v1/dashboard/", "/api/v1/petitions/") and case.method.upper() == "GET" and case.query:
        _a_period_in_order(case.query)


def _a_period_in_order(query: dict[str, Any]) -> None:
    """The documented period: days from 1900 to 2999, the start first, five years at most."""
    days = {}
    for key in ("since", "until"):
        try:
            days[key] = dt.date.fromisoformat(str(query[key]))
        except (KeyError, ValueError):
            query.pop(key, None)
            continue
        if not metrics.FIRST_DAY <= days[key] <= metrics.LAST_DAY:
            query.pop(key)
            del days[key]
    if "since" not in days:
        return
    if "until" in days and days["since"] > days["until"]:
        query["since"], query["until"] = query["until"], query["since"]
        days["since"], days["until"] = days["until"], days["since"]
    until = days.get("until", timezone.localdate())
    if days["since"] > until or (until - days["since"]).days > metrics.MAX_PERIOD_DAYS:
        query.pop("since")


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
        REAL.__init__()  # type: ignore[misc]


def _build_world(world: World, role: str) -> None:
    """Petitions at every stage on the worker's grid, a household to point at, and REAL filled in."""
    household = HouseholdFactory.create(building=BuildingFactory.create(grid=world.grid))
    petitions: list[Petition] = []
    for _ in range(3):
        petitions.append(services.petition_register(
            actor=world.worker, grid=world.grid, category=world.category, title="楼顶漏水", description="三楼漏水",
            household=household,
        ))
    reported = services.petition_register(
        actor=world.worker, grid=world.grid, category=world.category, title="燃气管道", description="需要街道协调"
    )
    petitions.append(services.petition_report(actor=world.worker, petition_id=reported.pk, note="网格无法处理"))
    for i in range(6):
        p = services.petition_register(
            actor=world.worker, grid=world.grid, category=world.category, title=f"诉求{i}", description="内容"
        )
        services.petition_dispatch(actor=world.official, petition_id=p.pk, department=world.housing)
        if i >= 2:
            services.petition_accept(actor=world.dept, petition_id=p.pk)
        if i >= 4:
            services.petition_resolve(actor=world.dept, petition_id=p.pk, result="已修复")
        petitions.append(p)
    # Accepted ones whose clock has a state of its own: an extension waiting, the clock paused.
    clock: dict[str, list[int]] = {"approve-extension": [], "resume": []}
    for i in range(6):
        p = services.petition_register(
            actor=world.worker, grid=world.grid, category=world.category, title=f"计时{i}", description="内容"
        )
        services.petition_dispatch(actor=world.official, petition_id=p.pk, department=world.housing)
        services.petition_accept(actor=world.dept, petition_id=p.pk)
        if i % 2:
            services.petition_pause(actor=world.dept, petition_id=p.pk, reason="等待居民")
            clock["resume"].append(p.pk)
        else:
            due = timezone.localtime(Petition.objects.get(pk=p.pk).resolve_due).date()
            services.petition_request_extension(
                actor=world.dept, petition_id=p.pk, reason="等待配件", proposed_due=due + dt.timedelta(days=5)
            )
            clock["approve-extension"].append(p.pk)
        petitions.append(p)
    by_status: dict[str, list[int]] = {}
    for p in Petition.objects.filter(pk__in=[p.pk for p in petitions]):
        by_status.setdefault(p.status, []).append(p.pk)
    REAL.username = getattr(world, role).username
    REAL.grid, REAL.category, REAL.department = world.grid.code, world.category.code, world.housing.code
    REAL.households = [household.pk]
    REAL.community = world.community.pk
    REAL.unit = CoUnit.objects.create(name="区教育局", party_organisation="机关党委", located_in=world.street).pk
    community = world.grid.branch.parent
    REAL.deliberations = [
        deliberations.deliberation_propose(actor=world.admin, community=community, title="加装电梯").pk
    ]
    REAL.petitions = {
        "any": [p.pk for p in petitions],
        **{step: [pk for s in sources for pk in by_status.get(s, [])] for step, sources in STEP_SOURCES.items()},
        "refuse-extension": clock["approve-extension"],
        **clock,
    }
    REAL.petitions["pause"] = REAL.petitions["request-extension"] = [
        pk for pk in by_status.get(Status.ACCEPTED, []) if pk not in clock["resume"] + clock["approve-extension"]
    ]


@pytest.fixture(params=["admin", "worker", "dept"])
def role(request: pytest.FixtureRequest, world: World, in_process: None) -> str:
    user: User = getattr(world, request.param)
    user.set_password(PASSWORD)
    user.save()
    _build_world(world, request.param)
    return str(request.param)


@pytest.fixture
def outcomes(request: pytest.FixtureRequest, role: str, capsys: pytest.CaptureFixture[str]) -> Iterator[Counter[str]]:
    """Answers by class (2xx, 4xx, …) over the whole run of one operation for one role; held to the floor."""
    counted: Counter[str] = Counter()
    yield counted
    label = _operation_label(request)
    with capsys.disabled():
        print(f"\n  schemathesis {role:6} {label:42} " + " ".join(f"{k}={v}" for k, v in sorted(counted.items())))
    assert sum(counted.values()) > 0, f"no request was made for {label}"
    if label in SUCCEEDS[role]:
        assert counted["2xx"] >= 1, f"{role} never succeeded at {label}: {dict(counted)}"
    else:
        assert counted["2xx"] == 0, f"{role} succeeded at {label}, which the role may not take: {dict(counted)}"


def _operation_label(request: pytest.FixtureRequest) -> str:
    # schemathesis names each parametrized test after its operation, e.g. "test_api[POST /api/v1/petitions/]".
    name = request.node.name
    return name[name.index("[") + 1:].split("][")[0].rstrip("]") if "[" in name else name


@pytest.mark.django_db
@schema.parametrize()
@PER_EXAMPLE
def test_api(case: Any, role: str, outcomes: Counter[str], world: World) -> None:
    token = Token.objects.get_or_create(user=getattr(world, role))[0].key
    _point_at_world(case, random.Random(str(case.id)))
    with transaction.atomic():
        before = row_counts()
        response = case.call(headers={"Authorization": f"Token {token}"})
        if case.method.upper() == case.operation.method.upper():  # not the OPTIONS/TRACE probes of other phases
            outcomes[f"{response.status_code // 100}xx"] += 1
        case.validate_response(response, checks=CHECKS)
        if 400 <= response.status_code < 500:
            wrote = f"{case.method} {case.formatted_path} answered {response.status_code} but wrote"
            assert row_counts() == before, wrote
        transaction.set_rollback(True)  # the next example starts from the same world


# ------------------------------------------------------------------------------------------- stateful


@pytest.mark.django_db
def test_the_loop_chains_through_the_api(world: World, in_process: None, capsys: pytest.CaptureFixture[str]) -> None:
    """Register → dispatch → accept → resolve → follow-up, chained by the links inferred from the schema."""
    _build_world(world, "admin")
    token = Token.objects.get_or_create(user=world.admin)[0].key
    taken: Counter[str] = Counter()

    # The loop's own operations only: with every step of the API in the machine (extensions, pauses,
    # the whistle …) a random walk reaches accept after dispatch too rarely to be evidence.
    loop_schema = schema.include(
        path_regex=r"^/api/v1/petitions/(\{id\}/(dispatch|accept|resolve|follow-up)/)?$", method=["GET", "POST"]
    )

    class Loop(loop_schema.as_state_machine()):  # type: ignore[misc]
        def setup(self) -> None:
            self.savepoint = transaction.savepoint()  # every scenario starts from the same world
            # And from the same choices: Hypothesis replays a scenario's steps and needs each to answer
            # as before. One stream shared by every scenario made a replayed follow-up reopen the petition
            # where it had not (``solved`` drawn anew), and the run failed as FlakyStrategyDefinition.
            self.rng = random.Random(2026)

        def teardown(self) -> None:
            transaction.savepoint_rollback(self.savepoint)

        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"headers": {"Authorization": f"Token {token}"}}

        def before_call(self, case: Any) -> None:
            _point_at_world(case, self.rng, linked=True)
            if case.headers and "Idempotency-Key" in case.headers:
                # A scenario registers several petitions; a key generated twice would be a reuse (422).
                case.headers["Idempotency-Key"] = uuid.uuid4().hex

        def validate_response(self, response: Any, case: Any, **kwargs: Any) -> None:
            # Not ``ignored_auth``, which replays a step with broken credentials but keeps the token this
            # machine adds to every call, and so sees it accepted; and not the positive/negative data
            # checks, which the stateless run makes: here steps are pointed at the world to chain.
            case.validate_response(response, checks=STATEFUL_CHECKS)

        def after_call(self, response: Any, case: Any) -> None:
            if 200 <= response.status_code < 300 and case.method.upper() == case.operation.method.upper():
                taken[f"{case.method} {case.operation.path}"] += 1

    # The machine picks its steps at random; a run that has not yet chained every step of the loop
    # goes on, up to a budget. A broken chain (a step that can never succeed) still fails the test.
    loop = ("dispatch", "accept", "resolve", "follow-up")
    for _run in range(STATEFUL_RUNS):
        Loop.run(settings=settings(max_examples=100, stateful_step_count=10, deadline=None))
        if all(taken[f"POST /api/v1/petitions/{{id}}/{step}/"] for step in loop):
            break
    with capsys.disabled():
        print("\n  schemathesis stateful 2xx: " + ", ".join(f"{k} {v}" for k, v in sorted(taken.items())))
    for step in loop:
        assert taken[f"POST /api/v1/petitions/{{id}}/{step}/"] >= 1, (step, dict(taken))
    assert taken["POST /api/v1/petitions/"] >= 1
