"""Dashboard metrics on a small history built by hand, so every expected figure can be counted on paper."""

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any, cast
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils import timezone

from governance.models import Department, User
from grids.models import Grid
from parties.models import Kind, Organization
from petitions import services
from petitions.metrics import _overdue_rows, dashboard_for
from petitions.models import (
    AreaDailyFigure,
    Category,
    DailyFigureRefresh,
    FollowUp,
    Petition,
    PetitionEvent,
    ServiceArea,
    Status,
    WorkerDailyFigure,
    overdue_q,
)

from ..conftest import World
from ..factories import CategoryFactory, GridFactory, node

SHANGHAI = ZoneInfo("Asia/Shanghai")
SINCE, UNTIL = dt.date(2026, 3, 2), dt.date(2026, 3, 15)  # ISO weeks 2026-W10 and 2026-W11



def t(when: str) -> dt.datetime:
    """'03-02 09:00' → that moment of 2026 in Beijing."""
    return dt.datetime.strptime(f"2026-{when}", "%Y-%m-%d %H:%M").replace(tzinfo=SHANGHAI)


def make(
    world: World,
    grid: Grid,
    category: Category,
    status: str,
    registered: str,
    resolve_due: str,
    *,
    department: Department | None = None,
    dispatched: str | None = None,
    accept_due: str | None = None,
    accepted: str | None = None,
    resolved: str | None = None,
    on_grid: bool = False,
    current_due: str | None = None,
    follow_ups: tuple[tuple[str, bool, bool | None, str], ...] = (),
    rehandled: int = 0,
) -> Petition:
    """A petition as the services would have left it at that point of its history."""
    p = Petition.objects.create(
        grid=grid,
        category=category,
        title="诉求",
        description="内容",
        status=status,
        department=department,
        registered_by=world.worker,
        registered_at=t(registered),
        dispatched_at=t(dispatched) if dispatched else None,
        accept_due=t(accept_due) if accept_due else None,
        accepted_at=t(accepted) if accepted else None,
        resolve_due=t(resolve_due),
        resolved_at=t(resolved) if resolved else None,
        resolved_on_grid=on_grid,
        current_due=t(current_due) if current_due else None,
        rehandle_count=rehandled,
    )
    # Its timeline, as the workflow writes it: metrics count the steps from here.
    steps: list[tuple[str, str, str, str, str | None, Department | None]] = [
        ("register", "", Status.REGISTERED, registered, None, None)
    ]
    if dispatched:
        if rehandled:  # re-dispatched when the resident was dissatisfied (重办)
            steps.append(("reopen", Status.RESOLVED, Status.DISPATCHED, dispatched, None, department))
        else:
            steps.append(("dispatch", Status.REGISTERED, Status.DISPATCHED, dispatched, None, department))
    if accepted:
        steps.append(("accept", Status.DISPATCHED, Status.ACCEPTED, accepted, accept_due, department))
    if resolved:
        resolution: tuple[str, str] = ("resolve", Status.ACCEPTED)
        if on_grid:
            resolution = ("resolve_on_grid", Status.REGISTERED)
        steps.append((*resolution, Status.RESOLVED, resolved, resolve_due, department))
    if status == Status.CANCELLED:
        steps.append(("cancel", Status.REGISTERED, Status.CANCELLED, registered, None, None))
    for step, source, target, at, due, dept in steps:
        PetitionEvent.objects.create(
            petition=p, action=step, from_status=source, to_status=target, actor=world.worker, at=t(at),
            due=t(due) if due else None, department=dept,
        )
    for at, reached, solved, satisfaction in follow_ups:
        FollowUp.objects.create(
            petition=p, at=t(at), reached=reached, solved=solved, satisfaction=satisfaction, by=world.worker
        )
    return p


@dataclass
class History:
    world: World
    community2: Organization
    grid_c: Grid
    disputes: Category


@pytest.fixture
def history(world: World) -> History:
    """Grids A (world.grid) and B (the other grid) in community 1, grid C in community 2 of the street.

    P1  A housing  registered 03-02, accepted on time, resolved on time, followed up: solved, satisfied
    P2  A housing  registered 03-03, accepted late, resolved late 03-11, follow-up 03-12 did not reach
                   the resident; still waiting for a follow-up (overdue)
    P3  B grid     registered 03-04, resolved on the grid on time, followed up 03-09: solved, basically
    P4  C police   dispatched 03-09, never accepted (overdue)
    P5  C police   dispatched 03-10, accepted on time, still being handled, resolve deadline passed (overdue)
    P6  A housing  registered and dispatched 02-20 (before the period), resolved late on 03-03, followed
                   up 03-04: solved, satisfied
    P7  B housing  first resolution rejected on 03-10 (solved no, dissatisfied): reopened, dispatched
                   again 03-10, not accepted (overdue)
    P8  the other street, housing: everything in the period — outside the street's subtree
    P9  A          resolved and followed up in January — outside the period
    P10 A          registered 03-13, cancelled
    P11 C          registered 03-14, resolved on the grid (on time) and followed up after the period
    """
    w = world
    community2 = node(Kind.COMMUNITY, w.street, name="第二社区")
    grid_c = cast(Grid, GridFactory(branch=node(Kind.GRID_BRANCH, community2), name="第二社区第一网格"))
    disputes = cast(
        Category, CategoryFactory(code="neighbours", service_area=ServiceArea.DISPUTE, default_department=w.police)
    )
    a, b, c1 = w.grid, w.other_grid_same_street, w.category
    make(w, a, c1, Status.CLOSED, "03-02 09:00", "03-09 09:00", department=w.housing,
         dispatched="03-02 10:00", accept_due="03-02 12:00", accepted="03-02 11:00", resolved="03-05 15:00",
         follow_ups=(("03-06 10:00", True, True, "satisfied"),))
    make(w, a, c1, Status.RESOLVED, "03-03 09:00", "03-10 09:00", department=w.housing,
         dispatched="03-03 10:00", accept_due="03-03 12:00", accepted="03-03 14:00", resolved="03-11 10:00",
         current_due="03-12 10:00", follow_ups=(("03-12 09:00", False, None, ""),))
    make(w, b, c1, Status.CLOSED, "03-04 09:00", "03-11 09:00", resolved="03-04 11:00", on_grid=True,
         follow_ups=(("03-09 09:00", True, True, "basically_satisfied"),))
    make(w, grid_c, disputes, Status.DISPATCHED, "03-09 09:00", "03-16 09:00", department=w.police,
         dispatched="03-09 10:00", accept_due="03-09 12:00", current_due="03-09 12:00")
    make(w, grid_c, disputes, Status.ACCEPTED, "03-10 09:00", "03-17 09:00", department=w.police,
         dispatched="03-10 10:00", accept_due="03-10 12:00", accepted="03-10 10:30", current_due="03-17 09:00")
    make(w, a, c1, Status.CLOSED, "02-20 09:00", "02-27 09:00", department=w.housing,
         dispatched="02-20 10:00", accept_due="02-20 12:00", accepted="02-20 11:00", resolved="03-03 10:00",
         follow_ups=(("03-04 10:00", True, True, "satisfied"),))
    make(w, b, c1, Status.DISPATCHED, "03-05 09:00", "03-17 09:00", department=w.housing,
         dispatched="03-10 09:00", accept_due="03-10 11:00", current_due="03-10 11:00", rehandled=1,
         follow_ups=(("03-10 09:00", True, False, "dissatisfied"),))
    make(w, w.foreign_grid, c1, Status.CLOSED, "03-02 09:00", "03-09 09:00", department=w.housing,
         dispatched="03-02 10:00", accept_due="03-02 12:00", accepted="03-02 10:30", resolved="03-03 10:00",
         follow_ups=(("03-04 10:00", True, True, "very_satisfied"),))
    make(w, a, c1, Status.CLOSED, "01-10 09:00", "01-17 09:00", resolved="01-12 09:00", on_grid=True,
         follow_ups=(("01-13 09:00", True, True, "satisfied"),))
    make(w, a, c1, Status.CANCELLED, "03-13 09:00", "03-20 09:00")
    make(w, grid_c, disputes, Status.CLOSED, "03-14 09:00", "03-20 09:00", resolved="03-16 09:00", on_grid=True,
         follow_ups=(("03-17 09:00", True, True, "satisfied"),))
    return History(world=w, community2=community2, grid_c=grid_c, disputes=disputes)


def totals(registered: int, dispatched: int, accepted_on_time: int, resolved: int, resolved_on_time: int,
           resolved_on_grid: int, overdue: int | None, follow_up_calls: int, reached: int, solved: int,
           satisfied: int, returned: int = 0, rehandled: int = 0, extended: int = 0) -> dict[str, int]:
    figures = {
        "registered": registered,
        "dispatched": dispatched,
        "awaiting_acceptance": 0,
        "accepted_on_time": accepted_on_time,
        "resolved": resolved,
        "resolved_on_time": resolved_on_time,
        "resolved_on_grid": resolved_on_grid,
        "overdue": overdue,
        "follow_up_calls": follow_up_calls,
        "reached": reached,
        "solved": solved,
        "satisfied": satisfied,
        "returned": returned,
        "rehandled": rehandled,
        "extended": extended,
    }
    return {k: v for k, v in figures.items() if v is not None}


def rates(response: float | None, on_time: float | None, resolution: float | None, satisfaction: float | None,
          on_grid: float | None) -> Any:
    """The rates as exact fractions (rounded once, only where shown): compare to 1/3, not 1 / 3."""
    return pytest.approx({
        "response_rate": response,
        "on_time_rate": on_time,
        "resolution_rate": resolution,
        "satisfaction_rate": satisfaction,
        "on_grid_rate": on_grid,
    }, abs=1e-12)


@pytest.mark.django_db
def test_street_dashboard_gives_the_figures_counted_by_hand(history: History) -> None:
    w = history.world
    d = dashboard_for(w.official, since=SINCE, until=UNTIL)

    assert d["node"] == {"id": w.street.pk, "code": w.street.code, "name": "交通街道", "kind": "street"}
    assert (d["since"], d["until"]) == ("2026-03-02", "2026-03-15")
    # registered P1 P2 P3 P4 P5 P7 P10 P11; dispatched P1 P2 P4 P5 P7, on time P1 P5; resolved P1 P2 P3 P6,
    # on time P1 P3, on the grid P3; overdue P2 P4 P5 P7; follow-ups P1 P2 P3 P6 P7, reached all but P2,
    # solved P1 P3 P6, satisfied P1 P3 P6.
    assert d["totals"] == totals(8, 5, 2, 4, 2, 1, 4, 5, 4, 3, 3, rehandled=1)
    assert d["rates"] == rates(0.4, 0.5, 0.75, 0.75, 0.25)

    children = {c["code"]: c for c in d["children"]}
    assert list(children) == [w.community.code, history.community2.code]
    one, two = children[w.community.code], children[history.community2.code]
    assert one["totals"] == totals(5, 3, 1, 4, 2, 1, 2, 5, 4, 3, 3, rehandled=1)
    assert one["rates"] == rates(1 / 3, 0.5, 0.75, 0.75, 0.25)
    assert two["totals"] == totals(3, 2, 1, 0, 0, 0, 2, 0, 0, 0, 0)
    # Nothing resolved or followed up there: no figure, not a 0 %.
    assert two["rates"] == rates(0.5, None, None, None, None)

    # Red and black list: housing resolved 1 of 3 on time; the police resolved nothing yet, so it has no
    # on-time figure and comes last. P8 (the other street) is not counted for this street.
    assert [r["code"] for r in d["departments"]] == ["housing", "police"]
    housing, police = d["departments"]
    # A department's row counts the steps that concerned it: registering concerns none.
    assert housing["totals"] == totals(0, 3, 1, 3, 1, 0, 2, 4, 3, 2, 2, rehandled=1)
    assert housing["rates"] == rates(1 / 3, 1 / 3, 2 / 3, 2 / 3, 0.0)
    assert police["totals"] == totals(0, 2, 1, 0, 0, 0, 2, 0, 0, 0, 0)

    assert [(c["code"], c["service_area"]) for c in d["categories"]] == [
        ("neighbours", "dispute"),
        ("roof-leak", "safety"),
    ]
    assert d["categories"][0]["totals"] == two["totals"]
    assert d["categories"][1]["totals"] == one["totals"]

    assert [(wk["week"], wk["start"], wk["end"]) for wk in d["weekly"]] == [
        ("2026-W10", "2026-03-02", "2026-03-08"),
        ("2026-W11", "2026-03-09", "2026-03-15"),
    ]
    w10, w11 = d["weekly"]
    assert w10["totals"] == totals(4, 2, 1, 3, 2, 1, None, 2, 2, 2, 2)
    assert w10["rates"] == rates(0.5, 2 / 3, 1.0, 1.0, 1 / 3)
    assert w11["totals"] == totals(4, 3, 1, 1, 0, 0, None, 3, 2, 1, 1, rehandled=1)
    assert w11["rates"] == rates(1 / 3, 0.0, 0.5, 0.5, 0.0)


@pytest.mark.django_db
def test_the_answer_is_json_with_the_agreed_keys(history: History) -> None:
    d = dashboard_for(history.world.official, since=SINCE, until=UNTIL)
    assert set(d) == {
        "node", "since", "until", "totals", "rates", "children", "departments", "categories", "weekly",
        # added by issue 13; the first nine keep their meaning
        "previous", "grid", "trail", "status_by_area", "channels", "overdue_list", "warnings", "workers", "as_of",
    }
    assert json.loads(json.dumps(d)) == d


@pytest.mark.django_db
@pytest.mark.parametrize("level", ["street", "community"])
def test_drill_down_children_add_up_to_the_parent(history: History, level: str) -> None:
    w = history.world
    target = w.street if level == "street" else w.community
    d = dashboard_for(w.official, node=target.pk, since=SINCE, until=UNTIL)
    assert len(d["children"]) == 2
    summed = {k: sum(c["totals"][k] for c in d["children"]) for k in d["totals"]}
    assert summed == d["totals"]
    assert sum(wk["totals"]["registered"] for wk in d["weekly"]) == d["totals"]["registered"]


@pytest.mark.django_db
def test_community_drills_down_to_its_grids(history: History) -> None:
    w = history.world
    d = dashboard_for(w.official, node=w.community.pk, since=SINCE, until=UNTIL)
    rows = {c["code"]: c for c in d["children"]}
    assert {c["level"] for c in d["children"]} == {"grid"}
    a, b = rows[w.grid.code], rows[w.other_grid_same_street.code]
    assert a["totals"] == totals(3, 2, 1, 3, 1, 0, 1, 3, 2, 2, 2)
    assert b["totals"] == totals(2, 1, 0, 1, 1, 1, 1, 2, 2, 1, 1, rehandled=1)
    assert b["rates"] == rates(0.0, 1.0, 0.5, 0.5, 1.0)
    # A branch lists its grid; the grid is the bottom of the drill-down, with a breadcrumb back up.
    branch = dashboard_for(w.official, node=w.branch.pk, since=SINCE, until=UNTIL)
    assert [c["code"] for c in branch["children"]] == [w.grid.code]
    leaf = dashboard_for(w.official, grid=w.grid.pk, since=SINCE, until=UNTIL)
    assert leaf["children"] == [] and leaf["totals"] == a["totals"]
    assert leaf["grid"]["code"] == w.grid.code
    assert [n["id"] for n in leaf["trail"]] == [w.street.pk, w.community.pk, w.branch.pk]


@pytest.mark.django_db
def test_grid_worker_sees_their_grid_by_default(history: History) -> None:
    w = history.world
    d = dashboard_for(w.worker, since=SINCE, until=UNTIL)
    assert d["node"]["id"] == w.branch.pk
    assert d["totals"]["registered"] == 3  # P1 P2 P10


@pytest.mark.django_db
def test_department_staff_see_only_their_department_across_the_district(history: History) -> None:
    w = history.world
    d = dashboard_for(w.dept, since=SINCE, until=UNTIL)
    assert d["node"]["id"] is None and d["node"]["name"] == w.housing.name
    # P1 P2 P6 P7 on this street and P8 on the other one; nothing of the police's.
    assert d["totals"] == totals(4, 4, 2, 4, 2, 0, 2, 5, 4, 3, 3, rehandled=1)
    assert [r["code"] for r in d["departments"]] == ["housing"]
    assert {c["code"] for c in d["children"]} == {w.street.code, w.other_street.code}
    assert sum(c["totals"]["registered"] for c in d["children"]) == 4
    assert {c["code"]: c["totals"]["registered"] for c in d["children"]}[w.other_street.code] == 1
    police = dashboard_for(w.police_staff, since=SINCE, until=UNTIL)
    assert police["totals"]["dispatched"] == 2 and [r["code"] for r in police["departments"]] == ["police"]
    # Not a row for every street: the police have nothing on the other street, which is not listed.
    assert {c["code"] for c in police["children"]} == {w.street.code}


@pytest.mark.django_db
def test_leadership_sees_the_whole_district_by_street(history: History) -> None:
    w = history.world
    d = dashboard_for(w.admin, since=SINCE, until=UNTIL)
    assert d["node"]["id"] is None
    assert d["totals"]["registered"] == 9  # the street's 8 and P8
    children = {c["code"]: c["totals"]["registered"] for c in d["children"]}
    assert children == {w.street.code: 8, w.other_street.code: 1}
    assert dashboard_for(w.admin, node=w.other_street.pk, since=SINCE, until=UNTIL)["totals"]["registered"] == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("who", "where"),
    [
        ("worker", "street"),  # above their grid
        ("worker", "other_branch"),  # the neighbouring grid
        ("official", "other_street"),
        ("dept", "street"),  # department staff have no chain scope
        ("official", "missing"),
        ("official", "garbage"),
    ],
)
def test_a_node_outside_the_scope_is_a_404_like_a_missing_one(history: History, who: str, where: str) -> None:
    w = history.world
    node_id: Any = {
        "street": w.street.pk,
        "other_branch": w.other_grid_same_street.branch.pk,
        "other_street": w.other_street.pk,
        "missing": 999_999,
        "garbage": "1 or 1=1",
    }[where]
    with pytest.raises(Http404):
        dashboard_for(getattr(w, who), node=node_id, since=SINCE, until=UNTIL)


@pytest.mark.django_db
def test_nobody_without_a_scope_gets_a_dashboard(world: World) -> None:
    from django.contrib.auth.models import AnonymousUser

    for user in (
        AnonymousUser(),
        User.objects.create_user("gone", role=User.Role.OFFICIAL, scope_node=world.street, is_active=False),
        User.objects.create_user("nowhere", role=User.Role.WORKER),
    ):
        with pytest.raises(Http404):
            dashboard_for(user, since=SINCE, until=UNTIL)


@pytest.mark.django_db
def test_a_period_ending_before_it_starts_is_refused(world: World) -> None:
    with pytest.raises(ValidationError) as err:
        dashboard_for(world.official, since=UNTIL, until=SINCE)
    assert "until" in err.value.message_dict


@pytest.mark.django_db
def test_an_empty_period_has_no_rates_rather_than_zero(history: History) -> None:
    d = dashboard_for(history.world.official, since=dt.date(2025, 6, 2), until=dt.date(2025, 6, 8))
    assert d["rates"] == rates(None, None, None, None, None)
    assert d["totals"]["registered"] == 0
    assert d["totals"]["overdue"] == 4  # a snapshot of now, whatever the period


@pytest.mark.django_db
def test_a_petition_still_within_its_accept_deadline_is_not_counted_as_late(world: World) -> None:
    p = world.petition(stage="dispatched", title="路灯", description="不亮")
    today = timezone.localdate()
    d = dashboard_for(world.official, since=today, until=today)
    assert (d["totals"]["dispatched"], d["totals"]["awaiting_acceptance"]) == (1, 1)
    assert d["rates"]["response_rate"] is None
    services.petition_accept(actor=world.dept, petition_id=p.pk)
    d = dashboard_for(world.official, since=today, until=today)
    assert d["totals"]["awaiting_acceptance"] == 0
    assert d["rates"]["response_rate"] == 1.0


# Every figure of the page, its previous period, breadcrumb, charts, overdue list, warnings and the
# workers' assessment: the same number for 10 petitions and for 200, for 2 communities and for 12.
QUERIES = 25
TARGET = {"register": Status.REGISTERED, "dispatch": Status.DISPATCHED, "accept": Status.ACCEPTED,
          "resolve": Status.RESOLVED}


def _bulk(world: World, grids: list[Grid], n: int) -> None:
    """``n`` petitions spread over the grids and the stages, with follow-ups."""
    statuses = [Status.DISPATCHED, Status.ACCEPTED, Status.RESOLVED, Status.CLOSED]
    petitions = []
    for i in range(n):
        day = f"03-{2 + i % 12:02d}"
        resolved = i % 4 >= 2
        petitions.append(
            Petition(
                grid=grids[i % len(grids)],
                category=world.category,
                title=f"诉求{i}",
                description="内容",
                status=statuses[i % 4],
                department=world.housing if i % 3 else world.police,
                registered_by=world.worker,
                registered_at=t(f"{day} 08:00"),
                dispatched_at=t(f"{day} 09:00"),
                accept_due=t(f"{day} 11:00"),
                accepted_at=t(f"{day} 10:00") if i % 4 else None,
                resolve_due=t(f"{day} 18:00"),
                resolved_at=t(f"{day} 17:00") if resolved else None,
                current_due=None if i % 4 == 3 else t(f"{day} 18:00"),
            )
        )
    Petition.objects.bulk_create(petitions)
    events = []
    for p in petitions:
        steps: list[tuple[str, Any, Any]] = [("register", p.registered_at, None), ("dispatch", p.dispatched_at, None)]
        steps += [("accept", p.accepted_at, p.accept_due)] if p.accepted_at else []
        steps += [("resolve", p.resolved_at, p.resolve_due)] if p.resolved_at else []
        events += [
            PetitionEvent(
                petition=p, action=a, to_status=TARGET[a], at=at, due=due, department=p.department, actor=world.worker
            )
            for a, at, due in steps
        ]
    PetitionEvent.objects.bulk_create(events)
    FollowUp.objects.bulk_create(
        FollowUp(petition=p, at=p.resolved_at, reached=True, solved=True, satisfaction="satisfied", by=world.worker)
        for p in petitions
        if p.resolved_at
    )


@pytest.mark.django_db
@pytest.mark.parametrize(("petitions", "communities"), [(10, 2), (200, 12)])
def test_query_count_is_constant(
    world: World, petitions: int, communities: int, django_assert_max_num_queries: Any
) -> None:
    grids = [world.grid, world.other_grid_same_street]
    for _ in range(communities - 1):
        grids.append(cast(Grid, GridFactory(branch=node(Kind.GRID_BRANCH, node(Kind.COMMUNITY, world.street)))))
    _bulk(world, grids, petitions)
    official = User.objects.get(pk=world.official.pk)
    with django_assert_max_num_queries(QUERIES):
        d = dashboard_for(official, since=SINCE, until=UNTIL)
    assert d["totals"]["registered"] == petitions
    assert len(d["children"]) == communities
    assert sum(c["totals"]["registered"] for c in d["children"]) == petitions
    dept = User.objects.get(pk=world.dept.pk)
    with django_assert_max_num_queries(QUERIES):
        dashboard_for(dept, since=SINCE, until=UNTIL)


@pytest.mark.django_db
def test_a_reopen_never_takes_a_resolution_out_of_its_period(world: World) -> None:
    """Counted from the event log: the row's resolved_at is cleared by the reopen, the step is not."""
    p = world.petition(stage="resolved")
    today = timezone.localdate()
    before = dashboard_for(world.official, since=today, until=today)
    assert (before["totals"]["resolved"], before["totals"]["dispatched"]) == (1, 1)
    services.petition_follow_up(
        actor=world.worker, petition_id=p.pk, reached=True, solved=False, satisfaction="dissatisfied"
    )
    p.refresh_from_db()
    assert p.resolved_at is None and p.status == Status.DISPATCHED
    after = dashboard_for(world.official, since=today, until=today)
    # The resolution stays; the re-dispatch (重办) is a second dispatch, and a re-handle.
    assert after["totals"]["resolved"] == 1 and after["totals"]["resolved_on_time"] == 1
    assert (after["totals"]["dispatched"], after["totals"]["rehandled"]) == (2, 1)
    assert after["totals"]["satisfied"] == 0 and after["totals"]["reached"] == 1


@pytest.mark.django_db
def test_rates_are_rounded_once_where_they_are_shown(world: World) -> None:
    from petitions.metrics import percent

    assert percent(0.927461) == "92.7%"  # rounding to 0.9275 first would show 92.8 %
    assert percent(None) == "—"


@pytest.mark.parametrize(
    ("since", "until", "previous"),
    [
        ("2026-03-01", "2026-03-31", ("2026-02-01", "2026-02-28")),  # a month against the month before
        ("2026-03-01", "2026-03-10", ("2026-02-01", "2026-02-10")),  # this month so far: the same days
        ("2026-04-01", "2026-06-30", ("2026-01-01", "2026-03-31")),  # a quarter
        ("2026-01-01", "2026-12-31", ("2025-01-01", "2025-12-31")),  # a year
        ("2026-03-02", "2026-03-08", ("2026-02-23", "2026-03-01")),  # a week
    ],
)
def test_the_previous_period_is_the_one_just_before(since: str, until: str, previous: tuple[str, str]) -> None:
    from petitions.metrics import previous_period

    got = previous_period(dt.date.fromisoformat(since), dt.date.fromisoformat(until))
    assert tuple(d.isoformat() for d in got) == previous


@pytest.mark.django_db
def test_a_joint_branch_shows_each_of_its_grids(world: World) -> None:
    """联建: one branch leads two grids; the community lists both grids, not the branch, and so does the branch."""
    joint = node(Kind.GRID_BRANCH, world.community, name="联建党支部")
    east = cast(Grid, GridFactory(branch=joint, name="东网格"))
    west = cast(Grid, GridFactory(branch=joint, name="西网格"))
    world.petition(grid=east, actor=world.official)
    world.petition(grid=west, actor=world.official)
    world.petition(grid=west, actor=world.official)
    today = timezone.localdate()
    for where in (world.community, joint):
        d = dashboard_for(world.official, node=where.pk, since=today, until=today)
        rows = {c["code"]: c["totals"]["registered"] for c in d["children"]}
        assert rows[east.code] == 1 and rows[west.code] == 2
        assert joint.code not in rows


def _without_as_of(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if k != "as_of"}


@pytest.mark.django_db
def test_the_fast_path_gives_exactly_the_plain_aggregate(history: History) -> None:
    """The daily figures (refreshed from the event log) give the same answer as counting the log."""
    from petitions.metrics import refresh_daily_figures

    w = history.world
    views = [
        (w.official, {}),
        (w.official, {"node": w.community.pk}),
        (w.official, {"node": history.community2.pk}),
        (w.official, {"grid": w.grid.pk}),
        (w.admin, {}),
        (w.worker, {}),
    ]
    periods = [
        (SINCE, UNTIL),
        (dt.date(2026, 3, 1), dt.date(2026, 3, 31)),
        (dt.date(2026, 2, 16), dt.date(2026, 3, 4)),
        (dt.date(2026, 3, 3), dt.date(2026, 3, 15)),  # the workers read W10 less Monday 03-02
    ]
    plain = [dashboard_for(u, since=s, until=e, **where) for u, where in views for s, e in periods]
    assert all(d["as_of"] is None for d in plain)
    refresh_daily_figures(full=True)
    # The wide scopes read the areas' rows: the district's, the street's, each community's.
    areas = set(AreaDailyFigure.objects.values_list("node_id", flat=True))
    assert {None, w.street.pk, w.community.pk, history.community2.pk, w.other_street.pk} <= areas
    # So do the grid workers' figures.
    assert set(WorkerDailyFigure.objects.values_list("node_id", flat=True)) == areas
    # Whole weeks are read from their week rows (the periods hold weeks 2026-W08 to W13, and parts).
    assert AreaDailyFigure.objects.filter(span=7).exists() and WorkerDailyFigure.objects.filter(span=7).exists()
    fast = [dashboard_for(u, since=s, until=e, **where) for u, where in views for s, e in periods]
    assert all(d["as_of"] is not None for d in fast)
    assert [_without_as_of(d) for d in fast] == [_without_as_of(d) for d in plain]
    assert any(row["own_follow_ups"] for d in fast for row in d["workers"])


def test_the_signed_covering_counts_each_day_of_the_period_once_and_reads_no_more_rows() -> None:
    """Every period of up to seven weeks from every weekday, and every "today" around it: the weeks' rows
    and the days' rows, added and taken away, hold each day of the period that can have figures (up to
    today) exactly once, and never more rows than the weeks and leftover days."""
    from collections import Counter

    from petitions.metrics import DAY, WEEK, _covering_ranges, _signed_covering

    start = dt.date(2026, 3, 2)
    for offset in range(7):
        since = start + dt.timedelta(days=offset)
        for length in range(50):
            until = since + dt.timedelta(days=length)
            for ahead in (-3, 0, 3, 60):
                today = until + dt.timedelta(days=ahead)
                held: Counter[dt.date] = Counter()
                rows = 0
                for sign, span, first, last in _signed_covering(since, until, today):
                    assert span in (DAY, WEEK) and first <= last
                    step = 7 if span == WEEK else 1
                    for n in range(0, (last - first).days + 1, step):
                        row = first + dt.timedelta(days=n)
                        if row > today:
                            continue
                        rows += 1
                        for d in range(span):
                            if row + dt.timedelta(days=d) <= today:
                                held[row + dt.timedelta(days=d)] += sign
                expected = {since + dt.timedelta(days=n): 1 for n in range(length + 1)}
                expected = {d: 1 for d in expected if d <= today}
                assert {d: n for d, n in held.items() if n} == expected, (since, until, today)
                plain = sum(
                    len([n for n in range(0, (last - first).days + 1, 7 if span == WEEK else 1)
                         if first + dt.timedelta(days=n) <= today])
                    for span, first, last in _covering_ranges(since, until)
                )
                assert rows <= plain, (since, until, today)


@pytest.mark.django_db
def test_a_refresh_brings_in_every_step_since_the_last_one(world: World) -> None:
    """Incremental refreshes: new steps, an acceptance that settles a dispatch's response, a reopen."""
    from petitions.metrics import refresh_daily_figures

    today = timezone.localdate()
    first = world.petition(stage="dispatched")
    refresh_daily_figures()
    services.petition_accept(actor=world.dept, petition_id=first.pk)
    services.petition_resolve(actor=world.dept, petition_id=first.pk, result="已修")
    second = world.petition(stage="resolved")
    services.petition_follow_up(
        actor=world.worker, petition_id=second.pk, reached=True, solved=False, satisfaction="dissatisfied"
    )
    world.petition(stage="dispatched")  # awaiting acceptance: counted live, on both paths
    assert dashboard_for(world.official, since=today, until=today)["as_of"] is not None
    stale = dashboard_for(world.official, since=today, until=today)["totals"]
    assert stale["resolved"] == 0  # not refreshed yet: the steps since are not in the daily figures
    refresh_daily_figures()
    fast = dashboard_for(world.official, since=today, until=today)
    plain_answer = _plain(world.official, today)
    assert _without_as_of(fast) == _without_as_of(plain_answer)
    # This whole week is read from its week row, refreshed with today's: the same figures.
    monday = today - dt.timedelta(days=today.weekday())
    sunday = monday + dt.timedelta(days=6)
    week = dashboard_for(world.official, since=monday, until=sunday)
    assert _without_as_of(week) == _without_as_of(_plain(world.official, monday, sunday))
    assert week["totals"]["resolved"] == 2
    # Awaiting: the last one, and the reopened one (re-dispatched, 重办), both within their deadline.
    assert fast["totals"]["resolved"] == 2 and fast["totals"]["awaiting_acceptance"] == 2
    assert fast["totals"]["rehandled"] == 1 and fast["totals"]["accepted_on_time"] == 2


@pytest.mark.django_db
def test_overdue_now_on_the_fast_path_is_the_last_refreshs(world: World) -> None:
    """The wide scopes read "overdue now" as the last refresh counted it: a petition whose deadline passes
    after a refresh is overdue on the dashboard from the next one (beat's, within 20 s), in the right
    street, community, grid, department, channel and registrar; a grid the street leads itself counts in
    the street's total and in no community's row, as its other figures."""
    from petitions.metrics import refresh_daily_figures

    street_grid = cast(Grid, GridFactory(branch=world.street, name="街道直管网格"))
    today = timezone.localdate()
    late = world.petition(stage="dispatched")
    own = world.petition(stage="dispatched", grid=street_grid, actor=world.official)
    world.petition(grid=world.foreign_grid, actor=world.foreign_worker)  # another street, within its deadline
    refresh_daily_figures()
    past = timezone.now() - dt.timedelta(hours=1)
    Petition.objects.filter(pk__in=[late.pk, own.pk]).update(current_due=past)  # the clock moved on

    before = dashboard_for(world.admin, since=today, until=today)
    assert before["as_of"] is not None and before["totals"]["overdue"] == 0  # as the refresh counted

    refresh_daily_figures()
    district = dashboard_for(world.admin, since=today, until=today)
    street = dashboard_for(world.official, since=today, until=today)
    community = dashboard_for(world.official, node=world.community.pk, since=today, until=today)
    assert district["as_of"] and street["as_of"] and community["as_of"]
    assert district["totals"]["overdue"] == street["totals"]["overdue"] == 2
    assert {row["id"]: row["totals"]["overdue"] for row in district["children"]} == {
        world.street.pk: 2,
        world.other_street.pk: 0,
    }
    assert {row["id"]: row["totals"]["overdue"] for row in street["children"]}[world.community.pk] == 1
    assert sum(row["totals"]["overdue"] for row in street["children"]) == 1  # the street's own grid: no row
    assert community["totals"]["overdue"] == 1
    assert {row["id"]: row["totals"]["overdue"] for row in community["children"]}[world.grid.pk] == 1
    assert {row["code"]: row["totals"]["overdue"] for row in street["departments"]}[world.housing.code] == 2
    assert {row["channel"]: row["overdue"] for row in street["channels"]}[late.channel] == 2
    assert {row["id"]: row["overdue"] for row in street["workers"]}[world.worker.pk] == 1  # the other: official's
    for user, where in ((world.admin, {}), (world.official, {}), (world.official, {"node": world.community.pk})):
        fast = dashboard_for(user, since=today, until=today, **where)
        DailyFigureRefresh.objects.update(refreshed_at=timezone.now() - dt.timedelta(hours=1))  # too old: plain
        plain = dashboard_for(user, since=today, until=today, **where)
        DailyFigureRefresh.objects.update(refreshed_at=timezone.now())
        assert plain["as_of"] is None
        assert _without_as_of(fast) == _without_as_of(plain)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_beat_vacuums_the_figures_so_that_dashboards_read_their_indexes_alone(world: World) -> None:
    """The dashboards read the figures through covering indexes, which skip the table only for pages
    vacuumed since they were written: after a refresh has rewritten today's rows, reading them visits
    the table until beat's vacuum has run."""
    import re

    from django.db import connection, transaction

    from petitions.metrics import refresh_daily_figures, vacuum_daily_figures
    from petitions.tasks import vacuum_daily_figures as task

    world.petition(stage="resolved")
    refresh_daily_figures()  # the first: built in full, and vacuumed
    world.petition(stage="resolved")
    refresh_daily_figures()  # today's rows rewritten

    def table_pages_read() -> int:
        """The heap fetches of the district's assessment read through its covering index."""
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("SET LOCAL enable_bitmapscan = off")
            cursor.execute(
                "EXPLAIN (ANALYZE) SELECT worker_id, registered FROM petitions_workerdailyfigure"
                " WHERE node_id IS NULL AND span = 1 AND day >= %s",
                [timezone.localdate() - dt.timedelta(days=1)],
            )
            plan = "\n".join(row[0] for row in cursor.fetchall())
        assert "Index Only Scan using worker_figure_node_day" in plan, plan
        return int(re.search(r"Heap Fetches: (\d+)", plan)[1])  # type: ignore[index]

    assert table_pages_read() > 0
    with transaction.atomic():
        assert vacuum_daily_figures() is False  # PostgreSQL refuses VACUUM in a transaction: skipped, said so
    assert task.apply().get() is True
    assert table_pages_read() == 0


@pytest.mark.django_db
def test_an_incremental_refresh_rewrites_only_what_its_steps_touched(world: World) -> None:
    """A refresh recomputes the days of the new steps only for their grids, the areas holding those grids
    and the people who took them: another street's and another worker's rows are left as they were (not
    even rewritten), and every scope's figures still equal the plain aggregate's."""
    from django.db import connection

    from petitions.metrics import REFRESH_SLACK, refresh_daily_figures

    today = timezone.localdate()
    waiting = world.petition(stage="dispatched")
    world.petition(stage="resolved", grid=world.other_grid_same_street, actor=world.official)
    world.petition(grid=world.foreign_grid, actor=world.foreign_worker)
    refresh_daily_figures()
    # As if the last refresh had come after its look-back had passed these steps.
    DailyFigureRefresh.objects.update(refreshed_at=timezone.now() + REFRESH_SLACK)

    def versions(table: str, column: str, value: int) -> set[str]:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT xmin::text FROM {table} WHERE {column} = %s", [value])
            return {row[0] for row in cursor.fetchall()}

    untouched = [
        ("petitions_dailyfigure", "grid_id", world.foreign_grid.pk),
        ("petitions_dailyfigure", "grid_id", world.other_grid_same_street.pk),
        ("petitions_areadailyfigure", "node_id", world.other_street.pk),
        ("petitions_workerdailyfigure", "worker_id", world.foreign_worker.pk),
    ]
    before = [versions(*where) for where in untouched]
    touched_before = versions("petitions_dailyfigure", "grid_id", world.grid.pk)
    assert all(before) and touched_before

    services.petition_accept(actor=world.dept, petition_id=waiting.pk)
    services.petition_resolve(actor=world.dept, petition_id=waiting.pk, result="已修")
    services.petition_follow_up(
        actor=world.worker, petition_id=waiting.pk, reached=True, solved=True, satisfaction="satisfied"
    )
    refresh_daily_figures()

    assert [versions(*where) for where in untouched] == before
    assert versions("petitions_dailyfigure", "grid_id", world.grid.pk) != touched_before
    monday = today - dt.timedelta(days=today.weekday())
    for user, where in (
        (world.admin, {}),
        (world.admin, {"node": world.other_street.pk}),
        (world.official, {}),
        (world.official, {"node": world.community.pk}),
        (world.official, {"grid": world.other_grid_same_street.pk}),
    ):
        for since in (today, monday):
            fast = dashboard_for(user, since=since, until=today, **where)
            DailyFigureRefresh.objects.update(refreshed_at=timezone.now() - dt.timedelta(hours=1))  # plain
            plain = dashboard_for(user, since=since, until=today, **where)
            DailyFigureRefresh.objects.update(refreshed_at=timezone.now())
            assert fast["as_of"] is not None and plain["as_of"] is None
            assert _without_as_of(fast) == _without_as_of(plain), (user.username, where, since)
    district = dashboard_for(world.admin, since=today, until=today)
    assert district["totals"]["resolved"] == 2 and district["totals"]["satisfied"] == 1


def _plain(user: User, day: dt.date, until: dt.date | None = None) -> dict[str, Any]:
    from petitions.models import DailyFigureRefresh

    DailyFigureRefresh.objects.update(refreshed_at=timezone.now() - dt.timedelta(hours=1))  # too old: plain
    try:
        answer = dashboard_for(user, since=day, until=until or day)
        assert answer["as_of"] is None
        return answer
    finally:
        DailyFigureRefresh.objects.update(refreshed_at=timezone.now())


@pytest.mark.django_db
def test_grid_workers_assessment_flags_follow_ups_on_their_own_cases(world: World) -> None:
    """背对背: the callback should come from someone other than the one who resolved the petition."""
    own = world.petition(title="楼道堆物", description="清理")
    services.petition_resolve(actor=world.worker, petition_id=own.pk, result="已清理")  # on the grid
    services.petition_follow_up(
        actor=world.worker, petition_id=own.pk, reached=True, solved=True, satisfaction="satisfied"
    )
    other = world.petition(stage="resolved")  # resolved by the department
    services.petition_follow_up(
        actor=world.worker, petition_id=other.pk, reached=True, solved=True, satisfaction="satisfied"
    )
    today = timezone.localdate()
    rows = {r["code"]: r for r in dashboard_for(world.official, since=today, until=today)["workers"]}
    me = rows[world.worker.username]
    assert (me["registered"], me["resolved_on_grid"], me["follow_ups"], me["own_follow_ups"]) == (2, 1, 2, 1)
    assert world.foreign_worker.username not in rows  # another street's worker is outside the scope
    assert dashboard_for(world.dept, since=today, until=today)["workers"] == []


@pytest.mark.django_db
def test_the_warnings_counted_are_the_flags_the_cards_show(world: World) -> None:
    """Yellow and red (DESIGN.md, "The clock"): the dashboard counts the petitions whose card shows the
    flag (``deadline_flag``, from the moments the clock stored), not a rule of its own."""
    import time_machine

    petitions = [world.petition(stage="accepted") for _ in range(3)]
    petitions.append(world.petition(stage="dispatched"))
    start, due = petitions[0].resolve_started_at, petitions[0].resolve_due
    assert start is not None and due is not None
    for moment in (start + (due - start) * 0.55, start + (due - start) * 0.8, due + dt.timedelta(hours=1)):
        with time_machine.travel(moment):
            flags = [Petition.objects.get(pk=p.pk).deadline_flag for p in petitions]
            today = timezone.localdate()
            warnings = dashboard_for(world.official, since=today, until=today)["warnings"]
            assert warnings == {"yellow": flags.count("yellow"), "red": flags.count("red")}, flags
    with time_machine.travel(start + (due - start) * 0.8):
        assert dashboard_for(world.official, since=today, until=today)["warnings"]["red"] == 3


@pytest.mark.django_db
@pytest.mark.parametrize("grouping_sets", [True, False])
def test_overdue_now_is_counted_the_same_in_one_pass_as_by_every_column(history: History, grouping_sets: bool) -> None:
    """The district's overdue figures in one grouping-sets pass (PostgreSQL) and the five-column groups
    added up in Python (the embedded SQLite) give the counts of the history: P2, P7 in community 1's
    grids A and B (housing), P4, P5 in grid C (police, disputes)."""
    w = history.world
    street_grids = [w.grid.pk, w.other_grid_same_street.pk, history.grid_c.pk]
    overdue = Petition.objects.filter(overdue_q(timezone.now()), grid_id__in=street_grids)
    sums: list[dict[Any, int]] = [{}, {}, {}, {}, {}]
    for column, key, n in _overdue_rows(overdue, grouping_sets=grouping_sets):
        sums[column][key] = sums[column].get(key, 0) + n
    grids, departments, categories, channels, registrars = sums
    assert grids == {w.grid.pk: 1, w.other_grid_same_street.pk: 1, history.grid_c.pk: 2}
    assert departments == {w.housing.pk: 2, w.police.pk: 2}
    assert categories == {w.category.pk: 2, history.disputes.pk: 2}
    assert sum(channels.values()) == sum(registrars.values()) == 4
