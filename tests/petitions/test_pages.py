"""The petition pages, through the Django test client on the real database.

The interface speaks zh-hans and its catalogue is written separately, so these tests look at data
(numbers, titles, phone numbers), status codes, form errors and the data-* attributes of the pages,
not at translated labels.
"""

import re
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from governance.models import PersonalDataAccess, User
from petitions import services
from petitions.models import FollowUp, Petition, PetitionEvent, Status

from ..conftest import World
from ..factories import BuildingFactory, HouseholdFactory

pytestmark = pytest.mark.django_db

PHONE = "13812345678"
MASKED = "138****5678"
# The list page's queries: session, user, grid choices, categories, departments, count, rows.
LIST_QUERY_BOUND = 9


def login(client: Client, user: User) -> Client:
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


def numbers_listed(client: Client, query: str = "") -> list[str]:
    response = client.get(reverse("petitions:list") + query)
    assert response.status_code == 200
    return re.findall(r'<li data-number="([^"]+)"', response.content.decode())


def form_data(world: World, **overrides: Any) -> dict[str, Any]:
    data = {
        "grid": world.grid.code,
        "category": world.category.code,
        "priority": "normal",
        "title": "消防通道被占",
        "description": "2栋楼下消防通道长期停放私家车。",
        "household": "",
        "reporter_name": "王伟",
        "reporter_phone": "13912345678",
    }
    data.update(overrides)
    return data


# ------------------------------------------------------------------------------------------- pages


@pytest.mark.parametrize("role", ["worker", "official", "dept", "admin"])
def test_each_page_answers_for_each_role(world: World, client: Client, role: str) -> None:
    petition = world.petition(stage="dispatched")
    login(client, getattr(world, role))

    assert client.get(reverse("petitions:list")).status_code == 200
    assert client.get(reverse("petitions:detail", args=[petition.pk])).status_code == 200
    assert client.get(reverse("petitions:dashboard")).status_code == 200
    # Department staff do not register petitions: they are told so (403), the others get the form.
    assert client.get(reverse("petitions:register")).status_code == (403 if role == "dept" else 200)


def test_pages_ask_for_sign_in(world: World, client: Client) -> None:
    for name in ("list", "register", "dashboard"):
        response = client.get(reverse(f"petitions:{name}"))
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_register_form_preselects_the_workers_grid_and_groups_categories(world: World, client: Client) -> None:
    login(client, world.worker)
    html = client.get(reverse("petitions:register")).content.decode()
    assert re.search(rf'<option value="{world.grid.code}" selected>', html)
    assert world.foreign_grid.code not in html  # choices only from the worker's scope
    assert "<optgroup" in html and f'value="{world.category.code}"' in html
    for name in ("grid", "category", "priority", "title", "description", "household", "reporter_name",
                 "reporter_phone"):
        assert f'name="{name}"' in html


# ---------------------------------------------------------------------------------------- register


def test_worker_registers_through_the_form_and_sees_it_at_the_top(world: World, client: Client) -> None:
    world.petition(title="较早的诉求")
    household = HouseholdFactory(building=BuildingFactory(grid=world.grid, name="3栋"), room="203")
    login(client, world.worker)

    response = client.post(reverse("petitions:register"), form_data(world, household="3栋 203"), follow=True)

    petition = Petition.objects.get(title="消防通道被占")
    assert response.redirect_chain[-1][0] == reverse("petitions:detail", args=[petition.pk])
    html = response.content.decode()
    assert petition.number and petition.number in html  # the message names the number
    assert 'class="message success"' in html
    assert petition.status == Status.REGISTERED and petition.household == household
    assert petition.registered_by == world.worker and petition.reporter_phone == "13912345678"
    assert numbers_listed(client)[0] == petition.number


@pytest.mark.parametrize(
    ("field", "overrides"),
    [
        ("title", {"title": ""}),
        ("grid", {"grid": "FOREIGN"}),
        ("reporter_phone", {"reporter_phone": "12345"}),
        ("description", {"description": "漏" * 100_000}),
        ("household", {"household": "99栋 999"}),
    ],
)
def test_bad_input_names_the_field_keeps_the_input_and_writes_nothing(
    world: World, client: Client, field: str, overrides: dict[str, str]
) -> None:
    if overrides.get("grid") == "FOREIGN":
        overrides = {"grid": world.foreign_grid.code}
    login(client, world.worker)
    data = form_data(world, **overrides)

    response = client.post(reverse("petitions:register"), data)

    assert response.status_code == 400
    assert field in response.context["form"].errors
    html = response.content.decode()
    assert f'id="id_{field}_error"' in html and f'data-field="{field}"' in html
    assert re.search(rf'name="{field}"[^>]*aria-invalid="true"|aria-invalid="true"[^>]*name="{field}"', html)
    if field != "title":
        assert 'value="消防通道被占"' in html  # what was typed is kept
    assert Petition.objects.count() == 0 and PetitionEvent.objects.count() == 0


def test_department_staff_cannot_register(world: World, client: Client) -> None:
    login(client, world.dept)
    response = client.post(reverse("petitions:register"), form_data(world))
    assert response.status_code == 403
    assert Petition.objects.count() == 0


# ------------------------------------------------------------------------------------------- scope


def test_each_role_sees_exactly_its_petitions(world: World, client: Client) -> None:
    own = world.petition(title="本网格")
    sibling = world.petition(
        stage="dispatched", grid=world.other_grid_same_street, actor=world.official, title="同街道另一网格"
    )
    foreign = world.petition(
        stage="dispatched", grid=world.foreign_grid, actor=world.foreign_worker, official=world.admin,
        department=world.police, title="另一街道",
    )
    everything = {own, sibling, foreign}
    expected = {
        world.worker: {own},
        world.official: {own, sibling},
        world.dept: {sibling},
        world.police_staff: {foreign},
        world.foreign_worker: {foreign},
        world.admin: everything,
    }
    for user, visible in expected.items():
        client = login(Client(), user)
        assert set(numbers_listed(client)) == {p.number for p in visible}, user.username
        for petition in everything:
            status = client.get(reverse("petitions:detail", args=[petition.pk])).status_code
            assert status == (200 if petition in visible else 404), (user.username, petition.title)


def test_filters_and_search(world: World, client: Client) -> None:
    leak = world.petition(title="屋顶漏水")
    lane = world.petition(stage="dispatched", title="消防通道")
    Petition.objects.filter(pk=leak.pk).update(current_due="2020-01-01T00:00:00+08:00")
    login(client, world.official)

    assert numbers_listed(client, "?status=dispatched") == [lane.number]
    assert numbers_listed(client, "?overdue=true") == [leak.number]
    assert numbers_listed(client, "?q=漏水") == [leak.number]
    assert numbers_listed(client, f"?q={lane.number}") == [lane.number]
    assert numbers_listed(client, "?department=housing") == [lane.number]
    assert numbers_listed(client, f"?grid={world.other_grid_same_street.code}") == []
    assert set(numbers_listed(client, f"?category={world.category.code}")) == {leak.number, lane.number}
    html = client.get(reverse("petitions:list") + "?overdue=true").content.decode()
    assert 'data-overdue="true"' in html


def test_search_by_number_finds_only_the_number_as_shown(world: World, client: Client) -> None:
    leak = world.petition(title="屋顶漏水")
    world.petition(title="消防通道")
    login(client, world.official)
    day, digits = leak.number.split("-")

    assert numbers_listed(client, f"?q=%20{leak.number}%20") == [leak.number]
    # Another day, another padding, an impossible date or an id too large: no petition, no error.
    assert numbers_listed(client, f"?q=20200101-{digits}") == []
    assert numbers_listed(client, f"?q={day}-0{digits}") == []
    assert numbers_listed(client, f"?q={day[:4]}1399-{digits}") == []
    assert numbers_listed(client, f"?q={day}-9999999999999") == []


def test_list_paginates_twenty_a_page(world: World, client: Client) -> None:
    for i in range(25):
        world.petition(title=f"诉求{i}")
    login(client, world.worker)
    first = numbers_listed(client)
    second = numbers_listed(client, "?page=2")
    assert len(first) == 20 and len(second) == 5 and not set(first) & set(second)


def _list_queries(client: Client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("petitions:list")).status_code == 200
    return len(queries)


def _make_many(world: World, n: int) -> None:
    for i in range(n):
        world.petition(
            stage="dispatched" if i % 2 else "registered", title=f"批量诉求{i}", reporter_phone=f"139{i:08d}"
        )


def test_list_runs_the_same_number_of_queries_for_10_and_200_petitions(
    world: World, django_assert_max_num_queries: Any
) -> None:
    users = (world.worker, world.official, world.dept, world.admin)
    _make_many(world, 10)
    small = {}
    for user in users:
        client = login(Client(), user)
        with django_assert_max_num_queries(LIST_QUERY_BOUND):
            small[user.username] = _list_queries(client)
    _make_many(world, 190)
    for user in users:
        client = login(Client(), user)
        with django_assert_max_num_queries(LIST_QUERY_BOUND):
            assert _list_queries(client) == small[user.username], user.username
        assert len(numbers_listed(client)) == 20


# ------------------------------------------------------------------------------------- phone (PIPL)


def test_phone_masked_in_the_list_whole_on_detail_for_the_chain_masked_for_the_department(
    world: World, client: Client
) -> None:
    petition = world.petition(stage="dispatched", reporter_phone=PHONE)
    detail = reverse("petitions:detail", args=[petition.pk])

    for user in (world.worker, world.official, world.dept):
        html = login(Client(), user).get(reverse("petitions:list")).content.decode()
        assert MASKED in html and PHONE not in html, user.username
    for user in (world.worker, world.official, world.admin):
        html = login(Client(), user).get(detail).content.decode()
        assert PHONE in html, user.username
    html = login(client, world.dept).get(detail).content.decode()
    assert MASKED in html and PHONE not in html
    # Each whole viewing is recorded (PIPL); the department's masked one is not.
    viewers = set(PersonalDataAccess.objects.filter(object_id=petition.pk).values_list("user__username", flat=True))
    assert viewers == {"worker", "official", "admin"}


# ------------------------------------------------------------------------------------------ actions


def _post(client: Client, petition: Petition, action: str, **data: Any) -> Any:
    return client.post(reverse(f"petitions:{action}", args=[petition.pk]), data)


def _timeline(client: Client, petition: Petition) -> list[tuple[str, str]]:
    html = client.get(reverse("petitions:detail", args=[petition.pk])).content.decode()
    return re.findall(r'<li data-action="([^"]+)" data-to="([^"]+)">', html)


def _actions_shown(client: Client, petition: Petition) -> set[str]:
    html = client.get(reverse("petitions:detail", args=[petition.pk])).content.decode()
    return set(re.findall(r'<details class="action action-[^"]+" data-action="([^"]+)"', html))


def test_action_forms_follow_workflow_may(world: World) -> None:
    petition = world.petition()
    worker, official, dept = (login(Client(), u) for u in (world.worker, world.official, world.dept))
    assert _actions_shown(official, petition) == {"dispatch", "cancel", "resolve"}
    # The grid resolves it, or blows the whistle (吹哨) for the street.
    assert _actions_shown(worker, petition) == {"resolve", "report"}
    services.petition_dispatch(actor=world.official, petition_id=petition.pk, department=world.housing)
    assert _actions_shown(dept, petition) == {"accept", "return"}
    assert _actions_shown(official, petition) == set()
    # Leadership may take any step the status allows.
    assert _actions_shown(login(Client(), world.admin), petition) == {"accept", "return"}


def test_dispatch_form_preselects_the_categorys_department(world: World, client: Client) -> None:
    petition = world.petition()
    login(client, world.official)
    html = client.get(reverse("petitions:detail", args=[petition.pk])).content.decode()
    assert re.search(r'<option value="housing" selected>', html)


def test_action_refusals(world: World, client: Client) -> None:
    petition = world.petition()
    worker = login(Client(), world.worker)
    # A role that may not take the step: 403 with the reason, nothing written.
    response = _post(worker, petition, "dispatch", department="housing")
    assert response.status_code == 403 and 'id="refusal"' in response.content.decode()
    # A missing reason: 400, the error next to the field, nothing written.
    official = login(Client(), world.official)
    response = _post(official, petition, "cancel", reason="  ")
    assert response.status_code == 400 and 'id="id_reason_error"' in response.content.decode()
    petition.refresh_from_db()
    assert petition.status == Status.REGISTERED and petition.events.count() == 1
    # Outside the scope: the same 404 as a missing petition.
    police = login(Client(), world.police_staff)
    assert _post(police, petition, "accept").status_code == 404
    assert _post(official, Petition(pk=999_999), "cancel", reason="x").status_code == 404
    # The petition has moved on (someone else dispatched it): message, back to the detail page.
    assert _post(official, petition, "dispatch", department="housing").status_code == 302
    response = _post(official, petition, "cancel", reason="重复")
    assert response.status_code == 302 and response["Location"] == petition.get_absolute_url()
    page = official.get(response["Location"]).content.decode()
    assert 'class="message error"' in page
    petition.refresh_from_db()
    assert petition.status == Status.DISPATCHED and petition.events.count() == 2
    # GET on an action URL is not an action.
    assert official.get(reverse("petitions:cancel", args=[petition.pk])).status_code == 405


def test_the_full_journey_through_the_pages(world: World) -> None:
    worker, official, dept = (login(Client(), u) for u in (world.worker, world.official, world.dept))
    police = login(Client(), world.police_staff)

    worker.post(reverse("petitions:register"), form_data(world, title="楼道堆放杂物"))
    petition = Petition.objects.get(title="楼道堆放杂物")

    def step(client: Client, action: str, **data: Any) -> None:
        response = _post(client, petition, action, **data)
        assert response.status_code == 302, (action, response.content.decode()[:2000])
        petition.refresh_from_db()

    step(official, "dispatch", department="police", note="先派公安")
    assert petition.status == Status.DISPATCHED and petition.department == world.police
    step(police, "return", reason="不属于本部门职责")
    assert petition.status == Status.REGISTERED and petition.department is None
    step(official, "dispatch", department="housing", note="改派住建")
    step(dept, "accept", note="已报到")
    step(dept, "resolve", result="已清理楼道")
    assert petition.status == Status.RESOLVED
    step(worker, "follow-up", reached="true", solved="false", satisfaction="dissatisfied", note="还有杂物")
    assert petition.status == Status.DISPATCHED and petition.rehandle_count == 1
    assert petition.department == world.housing  # reopened to the same department (重办)
    step(dept, "accept")
    step(dept, "resolve", result="已全部清理并张贴告示")
    step(worker, "follow-up", reached="true", solved="true", satisfaction="very_satisfied")
    assert petition.status == Status.CLOSED

    assert _timeline(worker, petition) == [
        ("register", "registered"),
        ("dispatch", "dispatched"),
        ("return", "registered"),
        ("dispatch", "dispatched"),
        ("accept", "accepted"),
        ("resolve", "resolved"),
        ("reopen", "dispatched"),
        ("accept", "accepted"),
        ("resolve", "resolved"),
        ("follow_up", "closed"),
    ]
    html = worker.get(petition.get_absolute_url()).content.decode()
    assert 'data-rehandled="1"' in html and "不属于本部门职责" in html and "已全部清理并张贴告示" in html
    assert 'id="petition" data-status="closed"' in html
    assert FollowUp.objects.filter(petition=petition).count() == 2
    assert _actions_shown(worker, petition) == set()


def test_resolve_on_the_grid(world: World, client: Client) -> None:
    petition = world.petition()
    login(client, world.worker)
    assert _post(client, petition, "resolve", result="现场调解完成").status_code == 302
    petition.refresh_from_db()
    assert petition.status == Status.RESOLVED and petition.resolved_on_grid
    assert _timeline(client, petition)[-1] == ("resolve_on_grid", "resolved")
    # Reached but no satisfaction given: the error is next to the field, nothing written.
    response = _post(client, petition, "follow-up", reached="true", solved="true")
    assert response.status_code == 400 and 'id="id_satisfaction_error"' in response.content.decode()
    assert FollowUp.objects.count() == 0


def test_unreached_follow_up_keeps_the_petition_resolved(world: World, client: Client) -> None:
    petition = world.petition(stage="resolved_on_grid", result="现场调解完成")
    login(client, world.worker)
    assert _post(client, petition, "follow-up", reached="false", note="电话未接通").status_code == 302
    petition.refresh_from_db()
    assert petition.status == Status.RESOLVED
    assert _timeline(client, petition)[-1] == ("follow_up_unreached", "resolved")


# ---------------------------------------------------------------------------------------- dashboard


def test_dashboard_drills_down_inside_the_scope_only(world: World, client: Client) -> None:
    world.petition(stage="resolved", result="已修复")
    login(client, world.official)

    html = client.get(reverse("petitions:dashboard")).content.decode()
    assert f'data-node="{world.street.pk}"' in html  # the official's street
    assert f'href="?node={world.community.pk}&amp;since=' in html  # drill down to the community
    assert 'data-code="housing"' in html and 'data-code="roof-leak"' in html
    weekly = html.split('id="weekly"')[1].split("</table>")[0]
    assert len(re.findall(r'data-code="\d{4}-W\d{2}"', weekly)) >= 5  # 30 days by default: five or six weeks

    html = client.get(reverse("petitions:dashboard"), {"node": world.community.pk}).content.decode()
    # The community lists its grids (not the branch), each a link to the grid's own dashboard.
    assert f'data-node="{world.community.pk}"' in html and f'data-code="{world.grid.code}"' in html
    assert f'href="?grid={world.grid.pk}&amp;since=' in html
    html = client.get(reverse("petitions:dashboard"), {"grid": world.grid.pk}).content.decode()
    trail = html.split('id="trail"')[1].split("</nav>")[0]
    chain = [world.street.pk, world.community.pk, world.branch.pk]
    assert [int(n) for n in re.findall(r'data-node="(\d+)"', trail)] == chain
    assert world.grid.name in trail
    assert client.get(reverse("petitions:dashboard"), {"node": world.other_street.pk}).status_code == 404
    assert client.get(reverse("petitions:dashboard"), {"node": "abc"}).status_code == 404



@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ({"since": "2030-01-01", "until": "2029-01-01"}, "until", "结束日期早于开始日期"),
        ({"since": "yesterday"}, "since", "2026-01-31"),
        ({"since": "0001-01-01", "until": "9999-12-30"}, "since", "1900-01-01"),
        ({"since": "2000-01-01", "until": "2026-01-01"}, "since", "1830"),
    ],
)
def test_dashboard_refuses_a_bad_period_naming_the_field(
    world: World, client: Client, query: dict[str, str], field: str, message: str
) -> None:
    # The page checks the period as the API does (metrics.period): a message next to the field, no figures.
    login(client, world.official)
    response = client.get(reverse("petitions:dashboard"), query)
    html = response.content.decode()
    assert response.status_code == 400
    assert f'data-field="{field}"' in html and message in html
    assert 'id="kpis"' not in html


def test_department_dashboard_has_no_drill_down(world: World, client: Client) -> None:
    login(client, world.dept)
    html = client.get(reverse("petitions:dashboard")).content.decode()
    assert "?node=" not in html.split('id="children"')[-1].split("</table>")[0]
