"""seed_demo: the demo district a new installation shows, and the accounts the README promises."""

import datetime as dt
import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Count
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from governance.models import Department, User
from grids.models import Grid, Household
from parties.models import GRID_LEVEL_KINDS, Kind, Organization
from parties.services import chain_differences

from .conftest import PASSWORD, seed


def counts(output: str) -> dict[str, int]:
    """The "name: number" lines the command prints at the end."""
    lines = (line.rsplit(": ", 1) for line in output.splitlines() if ": " in line)
    return {name: int(n) for name, n in lines if n.isdigit()}


@pytest.fixture
def seeded(demo_district: str, db: None) -> str:
    return demo_district


def test_running_it_twice_gives_the_same_counts(seeded: str) -> None:
    first = counts(seeded)
    assert first["chain nodes"] > 0 and first["residents"] > 0 and first["users"] > 0
    assert counts(seed()) == first


@pytest.mark.parametrize(
    ("username", "role"),
    [
        ("admin", User.Role.LEADER),
        ("official", User.Role.OFFICIAL),
        ("worker", User.Role.WORKER),
        ("dept", User.Role.DEPARTMENT),
    ],
)
def test_demo_accounts_sign_in_with_the_given_password(seeded: str, client: Client, username: str, role: str) -> None:
    assert User.objects.get(username=username).role == role
    response = client.post(reverse("login"), {"username": username, "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert client.session["_auth_user_id"] == str(User.objects.get(username=username).pk)


def test_a_wrong_password_does_not_sign_in(seeded: str, client: Client) -> None:
    response = client.post(reverse("login"), {"username": "worker", "password": "wangge-demo"})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_demo_accounts_have_their_scopes(seeded: str) -> None:
    admin = User.objects.get(username="admin")
    official = User.objects.get(username="official")
    worker = User.objects.get(username="worker")
    dept = User.objects.get(username="dept")

    assert admin.is_superuser and admin.is_staff and admin.sees_everything

    assert official.scope_node is not None and official.scope_node.kind == Kind.STREET
    assert not official.sees_everything

    # the worker looks after a grid (through its grid-level node) inside the official's street
    assert worker.scope_node is not None and worker.scope_node.kind in GRID_LEVEL_KINDS
    assert worker.scope_node.get_root() == official.scope_node
    assert worker.grid_assignments.filter(grid__branch=worker.scope_node).exists()

    assert dept.scope_node is None and isinstance(dept.department, Department)
    assert not dept.is_staff and not official.is_staff and not worker.is_staff


def test_the_district_has_two_urban_streets_and_a_rural_town(seeded: str) -> None:
    roots = Organization.objects.filter(parent=None)
    assert roots.filter(kind=Kind.STREET).count() == 2
    assert roots.filter(kind=Kind.TOWN).count() == 1
    # the urban chain goes down to member households, the rural one to contact households
    assert Organization.objects.filter(kind=Kind.MEMBER_HOUSEHOLD).exists()
    assert Organization.objects.filter(kind=Kind.CONTACT_HOUSEHOLD).exists()
    town = roots.get(kind=Kind.TOWN)
    assert set(town.get_descendants().values_list("kind", flat=True)) == {
        Kind.VILLAGE,
        Kind.GRID_GROUP,
        Kind.CONTACT_HOUSEHOLD,
    }


def test_grids_of_all_three_kinds_and_a_joint_branch(seeded: str) -> None:
    assert set(Grid.objects.values_list("kind", flat=True)) == {
        Grid.Kind.URBAN,
        Grid.Kind.RURAL,
        Grid.Kind.DEDICATED,
    }
    # every grid is led by a grid-level node
    assert not Grid.objects.exclude(branch__kind__in=GRID_LEVEL_KINDS).exists()
    # 联建: one grid Party branch leading several grids
    joint = Organization.objects.annotate(n=Count("grids")).filter(n__gte=2)
    assert joint.exists()
    assert joint.first().kind == Kind.GRID_BRANCH  # type: ignore[union-attr]


def test_member_households_link_the_households_around_them(seeded: str) -> None:
    member_households = Organization.objects.filter(kind=Kind.MEMBER_HOUSEHOLD).annotate(
        linked=Count("linked_households")
    )
    assert member_households.exists()
    # 一户联十户: each member household links about ten households
    assert all(5 <= m.linked <= 15 for m in member_households)
    assert Household.objects.filter(linked_node__kind=Kind.CONTACT_HOUSEHOLD).exists()


def test_the_chain_is_sound(seeded: str) -> None:
    assert chain_differences() == []
    out = StringIO()
    call_command("check_chain", stdout=out)
    assert out.getvalue().strip()  # says so (in the user's language), and did not raise


def test_demo_petitions_show_every_stage_of_the_loop(seeded: str) -> None:
    from petitions.models import Petition, PetitionEvent

    statuses = set(Petition.objects.values_list("status", flat=True))
    assert statuses == {"registered", "reported", "dispatched", "accepted", "resolved", "closed", "cancelled"}
    assert Petition.objects.filter(resolved_on_grid=True).exists()
    assert Petition.objects.filter(rehandle_count=1, status="dispatched").exists()
    # The demo department account has work waiting; the worker's grid has petitions to follow up.
    assert Petition.objects.filter(department__code="housing", status="dispatched").exists()
    assert PetitionEvent.objects.filter(action="return").exists()


def test_the_street_official_finds_reported_petitions_waiting_on_the_home_page(seeded: str, client: Client) -> None:
    from governance.models import User

    client.force_login(User.objects.get(username="official"))
    page = client.get("/").content.decode()
    assert 'id="reported"' in page  # the grids' whistles wait in the street's dispatch queue


# ----------------------------------------------------------------- the lived-in district (issue 11)


def waiting_counts(page: str) -> dict[str, int]:
    """The counts of waiting work the home page's panels show, by the element's id or data-count."""
    found = re.findall(r'(?:id|data-count)="(\w+)"[^>]*>\s*(?:<a[^>]*>)?([^<]*)', page)
    return {name: int(m.group()) for name, text in found if (m := re.search(r"\d+", text))}


@pytest.mark.parametrize(
    ("username", "work"),
    [
        ("worker", "unread"),  # a call back overdue on the worker's grid
        ("dept", "unread"),  # a leak dispatched to the department and not accepted
        ("official", "reported"),  # the grids' whistles wait for dispatch
        ("official", "unread"),  # escalated to the street
        ("admin", "unread"),  # escalated to the district
        ("member", "waiting"),  # micro-wishes waiting for a Party member
    ],
)
def test_every_role_finds_work_waiting_on_its_home_page(seeded: str, client: Client, username: str, work: str) -> None:
    client.force_login(User.objects.get(username=username))
    counts = waiting_counts(client.get("/").content.decode())
    assert counts.get(work, 0) > 0, counts


def test_petitions_spread_over_twelve_weeks_in_every_street_and_town(seeded: str) -> None:
    from petitions.metrics import dashboard_for
    from petitions.models import Petition

    for root in Organization.objects.filter(parent=None):
        assert Petition.objects.filter(grid__branch__tree_id=root.tree_id).count() >= 20, root.name
    assert Petition.objects.filter(grid__kind=Grid.Kind.RURAL).exists()
    assert Petition.objects.filter(grid__kind=Grid.Kind.DEDICATED).exists()

    today = timezone.localdate()
    admin = User.objects.get(username="admin")
    weekly = dashboard_for(admin, since=today - dt.timedelta(weeks=12), until=today)["weekly"]
    busy = [week["totals"]["registered"] for week in weekly if week["totals"]["registered"] > 0]
    assert len(busy) >= 10
    # a shape, not a flat line
    assert len(set(busy)) >= 4


def test_the_history_holds_every_road_of_the_loop(seeded: str) -> None:
    from petitions.models import Extension, Petition, PetitionEvent, Reminder

    now = timezone.now()
    assert Petition.objects.overdue().exists()
    assert Petition.objects.filter(extension_count__gt=0).exists()
    assert Extension.objects.filter(decision=Extension.Decision.APPROVED).exists()
    assert Petition.objects.filter(rehandle_count__gt=0, status="closed").exists()
    assert Petition.objects.filter(escalated=True).exists()  # re-handled three times: 提级督办
    # the overdue scan escalated what stayed overdue, to the street and to the district
    assert Reminder.objects.filter(level=Reminder.Level.STREET).exists()
    assert Reminder.objects.filter(level=Reminder.Level.DISTRICT).exists()
    actions = set(PetitionEvent.objects.values_list("action", flat=True))
    assert {
        "report",
        "dispatch",
        "return",
        "accept",
        "request_extension",
        "approve_extension",
        "resolve",
        "resolve_on_grid",
        "follow_up",
        "reopen",
        "cancel",
    } <= actions
    # steps were taken at their own moments over the weeks, in order within each petition
    assert PetitionEvent.objects.filter(at__lt=now - dt.timedelta(weeks=11)).exists()
    assert not PetitionEvent.objects.filter(at__gt=now).exists()
    for petition in Petition.objects.filter(rehandle_count__gt=0)[:5]:
        moments = list(petition.events.order_by("id").values_list("at", flat=True))
        assert moments == sorted(moments)


def test_the_demo_has_places_channels_and_queues(seeded: str, client: Client) -> None:
    """Issue 8: boundaries and points place the petitions; each role's home opens on its queues."""
    from grids.geo import contains
    from petitions.models import Channel, Petition

    pinned = Petition.objects.exclude(latitude=None).select_related("grid")
    assert pinned.exists() and all(contains(p.grid.boundary, p.latitude, p.longitude) for p in pinned)
    assert set(Petition.objects.values_list("channel", flat=True)) == set(Channel.values)
    for username in ("official", "worker", "dept"):
        client.force_login(User.objects.get(username=username))
        assert 'id="queues"' in client.get(reverse("home")).content.decode()
    client.force_login(User.objects.get(username="member"))  # a party member: no grid to log petitions on
    assert reverse("petitions:register") not in client.get(reverse("home")).content.decode()


def test_units_members_services_and_points_give_each_role_work(seeded: str, client: Client) -> None:
    """Issue 9 (双报到, points): the community confirms attendance, the unit sees its rate, a redemption."""
    from grids.models import MoralRedemption
    from grids.moral import moral_balance
    from parties.models import CoUnit, PointsEntry

    client.force_login(User.objects.get(username="community"))
    home = client.get(reverse("home")).content.decode()
    assert 'id="units-panel"' in home and 'data-count="to_confirm"' in home
    flags = {u.name: (u.in_service, u.reported, u.flagged) for u in client.get(reverse(
        "units:community", args=[User.objects.get(username="community").scope_node_id])).context["paired"]}
    assert flags == {"区教育局": (5, 4, False), "江城科技有限公司": (4, 2, True)}
    client.force_login(User.objects.get(username="unit"))
    unit = CoUnit.objects.get(name="区教育局")
    assert client.get(reverse("units:unit", args=[unit.pk])).status_code == 200
    assert PointsEntry.objects.filter(kind="reversal").exists() and PointsEntry.objects.filter(kind="manual").exists()
    redemption = MoralRedemption.objects.get()
    assert moral_balance(redemption.household) == 20


def test_one_deliberation_at_every_step_for_the_community(seeded: str, client: Client) -> None:
    from parties.models import Deliberation, DeliberationSource, DeliberationStatus

    statuses = set(Deliberation.objects.values_list("status", flat=True))
    assert statuses == set(DeliberationStatus.values)
    assert Deliberation.objects.filter(source=DeliberationSource.PETITION).exists()
    client.force_login(User.objects.get(username="committee"))
    home = client.get(reverse("home")).content.decode()
    assert 'id="deliberations-panel"' in home and 'data-count="accept"' in home
    noticed = Deliberation.objects.get(status=DeliberationStatus.NOTICED)
    client.logout()
    assert client.get(reverse("deliberations:notice", args=[noticed.pk])).status_code == 200
