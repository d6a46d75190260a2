"""The petition endpoints: register, list, detail and every step, with every error code.

On any error the database is as it was: the row counts of petitions, events and follow-ups, and the
petition's status, do not move.
"""

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from governance.models import PersonalDataAccess
from petitions.models import Petition

from ..conftest import World
from ..factories import BuildingFactory, HouseholdFactory
from .conftest import petition_body, row_counts, token_client

LIST = "/api/v1/petitions/"


def url(petition: Petition, step: str = "") -> str:
    return f"/api/v1/petitions/{petition.pk}/{step + '/' if step else ''}"


def post(user: Any, path: str, body: Any) -> Any:
    return token_client(user).post(path, body, format="json")


def assert_refused(user: Any, path: str, body: Any, status: int, petition: Petition | None = None) -> Any:
    """The answer is ``status`` and nothing was written."""
    before = row_counts()
    before_status = Petition.objects.get(pk=petition.pk).status if petition else None
    response = post(user, path, body)
    assert response.status_code == status, response.content
    assert row_counts() == before
    if petition is not None:
        assert Petition.objects.get(pk=petition.pk).status == before_status
    return response.json()


@pytest.mark.django_db
class TestRegister:
    def test_201_with_id_number_status_and_deadlines(self, world: World) -> None:
        response = post(world.worker, LIST, petition_body(world, priority="urgent"))
        assert response.status_code == 201
        body = response.json()
        petition = Petition.objects.get(pk=body["id"])
        assert body["number"] == petition.number and body["number"]
        assert body["status"] == "registered"
        assert body["priority"] == "urgent"
        assert body["grid"] == world.grid.code and body["category"] == world.category.code
        assert body["department"] is None
        assert body["resolve_due"] and body["current_due"]
        assert {"accept_due", "follow_up_due", "overdue"} <= set(body)
        assert body["reporter_phone"] == "13812345678"
        assert petition.registered_by == world.worker
        assert petition.events.get().action == "register"

    def test_optional_fields_may_be_left_out_and_household_is_an_id(self, world: World) -> None:
        household = HouseholdFactory.create(building=BuildingFactory.create(grid=world.grid))
        body = petition_body(world, household=household.pk)
        for field in ("priority", "reporter_name", "reporter_phone"):
            del body[field]
        response = post(world.worker, LIST, body)
        assert response.status_code == 201, response.content
        assert response.json()["household"] == household.pk
        assert response.json()["priority"] == "normal"

    @pytest.mark.parametrize(
        ("change", "field"),
        [
            ({"title": ""}, "title"),
            ({"title": None}, "title"),
            ({"title": 12}, "title"),
            ({"title": "长" * 101}, "title"),
            ({"description": "  "}, "description"),
            ({"priority": "high"}, "priority"),
            ({"category": "no-such-category"}, "category"),
            ({"grid": "no-such-grid"}, "grid"),
            ({"reporter_phone": "12345"}, "reporter_phone"),
            ({"household": "3"}, "household"),
            ({"household": 999999999}, "household"),
        ],
    )
    def test_bad_input_is_400_naming_the_field(self, world: World, change: dict, field: str) -> None:
        body = assert_refused(world.worker, LIST, petition_body(world, **change), 400)
        assert field in body

    def test_a_missing_field_is_named(self, world: World) -> None:
        body = petition_body(world)
        del body["description"]
        assert set(assert_refused(world.worker, LIST, body, 400)) == {"description"}

    def test_rules_of_the_service_are_field_errors_too(self, world: World) -> None:
        # A grid outside the user's scope, a household of another grid, an inactive category.
        assert "grid" in assert_refused(world.worker, LIST, petition_body(world, grid=world.foreign_grid.code), 400)
        elsewhere = HouseholdFactory.create(building=BuildingFactory.create(grid=world.other_grid_same_street))
        assert "household" in assert_refused(world.worker, LIST, petition_body(world, household=elsewhere.pk), 400)
        world.category.is_active = False
        world.category.save()
        assert "category" in assert_refused(world.worker, LIST, petition_body(world), 400)

    def test_department_staff_may_not_register(self, world: World) -> None:
        # The role may not (403, as on the page), whatever the body says.
        body = assert_refused(world.dept, LIST, petition_body(world), 403)
        assert body["detail"] == "部门工作人员不能登记诉求。"

    def test_a_body_that_is_not_json_or_not_an_object_is_400(self, world: World) -> None:
        before = row_counts()
        client = token_client(world.worker)
        response = client.post(LIST, "{not json", content_type="application/json")
        assert response.status_code == 400 and "detail" in response.json()
        assert client.post(LIST, [1, 2], format="json").status_code == 400
        assert client.post(LIST, "title=x", content_type="application/x-www-form-urlencoded").status_code == 415
        assert row_counts() == before


@pytest.mark.django_db
class TestList:
    def test_each_role_lists_its_scope(self, world: World) -> None:
        mine = world.petition()
        next_door = world.petition(stage="dispatched", actor=world.official, grid=world.other_grid_same_street)
        foreign = world.petition(actor=world.foreign_worker, grid=world.foreign_grid)

        def ids(user: Any) -> set[int]:
            body = token_client(user).get(LIST).json()
            assert set(body) == {"count", "next", "previous", "results"}
            assert body["count"] == len(body["results"])
            return {p["id"] for p in body["results"]}

        assert ids(world.worker) == {mine.pk}
        assert ids(world.official) == {mine.pk, next_door.pk}
        assert ids(world.foreign_worker) == {foreign.pk}
        assert ids(world.dept) == {next_door.pk}
        assert ids(world.police_staff) == set()
        assert ids(world.admin) >= {mine.pk, next_door.pk, foreign.pk}

    def test_filters(self, world: World) -> None:
        mine = world.petition()
        next_door = world.petition(stage="dispatched")
        Petition.objects.filter(pk=next_door.pk).update(current_due=timezone.now() - dt.timedelta(hours=1))
        client = token_client(world.official)

        def ids(query: str) -> set[int]:
            response = client.get(f"{LIST}?{query}")
            assert response.status_code == 200, response.content
            return {p["id"] for p in response.json()["results"]}

        assert ids("status=registered") == {mine.pk}
        assert ids("status=dispatched") == {next_door.pk}
        assert ids("department=housing") == {next_door.pk}
        assert ids("department=police") == set()
        assert ids(f"grid={world.grid.code}") == {mine.pk, next_door.pk}
        assert ids(f"grid={world.other_grid_same_street.code}") == set()
        assert ids(f"category={world.category.code}") == {mine.pk, next_door.pk}
        assert ids(f"node={world.branch.pk}") == {mine.pk, next_door.pk}
        assert ids(f"node={world.other_street.pk}") == set()
        assert ids("overdue=true") == {next_door.pk}
        assert ids("overdue=false") == {mine.pk}

    @pytest.mark.parametrize(
        ("query", "field"),
        [("status=lost", "status"), ("overdue=maybe", "overdue"), ("node=x", "node"), ("page_size=0", "page_size")],
    )
    def test_bad_filters_are_400_naming_them(self, world: World, query: str, field: str) -> None:
        response = token_client(world.official).get(f"{LIST}?{query}")
        assert response.status_code == 400
        assert field in response.json()

    def test_pages_and_a_page_too_far_is_404(self, world: World) -> None:
        for _ in range(3):
            world.petition()
        client = token_client(world.worker)
        body = client.get(f"{LIST}?page_size=2").json()
        assert body["count"] == 3 and len(body["results"]) == 2 and body["next"] and body["previous"] is None
        assert len(client.get(body["next"]).json()["results"]) == 1
        assert client.get(f"{LIST}?page=3&page_size=2").status_code == 404
        for bad in ("", "x", "0", "-1"):
            response = client.get(f"{LIST}?page={bad}")
            assert response.status_code == 400 and set(response.json()) == {"page"}, bad

    def test_the_phone_is_masked_in_lists(self, world: World) -> None:
        world.petition(reporter_phone="13812345678")
        result = token_client(world.worker).get(LIST).json()["results"][0]
        assert result["reporter_phone"] == "138****5678"

    def test_queries_do_not_grow_with_the_page(self, world: World, django_assert_max_num_queries: Any) -> None:
        for _ in range(25):
            world.petition()
        client = token_client(world.official)
        client.get(LIST)  # warm up
        with django_assert_max_num_queries(4):
            assert len(client.get(f"{LIST}?page_size=25").json()["results"]) == 25


@pytest.mark.django_db
class TestDetail:
    def test_the_petition_with_its_events(self, world: World) -> None:
        petition = world.petition(stage="dispatched")
        body = token_client(world.official).get(url(petition)).json()
        assert body["id"] == petition.pk and body["status"] == "dispatched" and body["department"] == "housing"
        assert [e["action"] for e in body["events"]] == ["register", "dispatch"]
        assert (body["events"][0]["from_status"], body["events"][0]["to_status"]) == (None, "registered")
        event = body["events"][1]
        assert set(event) == {"action", "from_status", "to_status", "actor", "at", "note"}
        assert (event["from_status"], event["to_status"], event["actor"]) == ("registered", "dispatched", "official")

    def test_phone_whole_for_the_chain_scope_masked_for_the_department(self, world: World) -> None:
        petition = world.petition(stage="dispatched", reporter_phone="13812345678")
        assert token_client(world.worker).get(url(petition)).json()["reporter_phone"] == "13812345678"
        assert token_client(world.dept).get(url(petition)).json()["reporter_phone"] == "138****5678"
        # Each whole viewing is recorded (PIPL), as on the page.
        viewings = PersonalDataAccess.objects.filter(object_id=petition.pk, fields__contains="reporter_phone")
        assert list(viewings.values_list("user__username", flat=True)) == ["worker"]

    def test_the_answer_to_a_step_masks_the_phone(self, world: World) -> None:
        petition = world.petition(reporter_phone="13812345678")
        body = post(world.official, url(petition, "dispatch"), {"department": "housing"}).json()
        assert body["reporter_phone"] == "138****5678"

    def test_outside_the_scope_is_the_same_404_as_missing(self, world: World) -> None:
        petition = world.petition()
        outside = token_client(world.foreign_worker).get(url(petition))
        missing = token_client(world.foreign_worker).get("/api/v1/petitions/999999999/")
        not_an_id = token_client(world.foreign_worker).get("/api/v1/petitions/abc/")
        assert outside.status_code == missing.status_code == not_an_id.status_code == 404
        assert outside.json() == missing.json() == not_an_id.json()
        assert token_client(world.police_staff).get(url(petition)).status_code == 404


@pytest.mark.django_db
class TestSteps:
    def test_the_whole_loop_through_the_api(self, world: World) -> None:
        created = post(world.worker, LIST, petition_body(world)).json()
        petition = Petition.objects.get(pk=created["id"])
        body = post(world.official, url(petition, "dispatch"), {"department": "housing", "note": "请尽快"}).json()
        assert (body["status"], body["department"]) == ("dispatched", "housing")
        assert body["accept_due"] and body["current_due"] == body["accept_due"]
        assert post(world.dept, url(petition, "accept"), {"note": "已签收"}).json()["status"] == "accepted"
        assert post(world.dept, url(petition, "resolve"), {"result": "已修复"}).json()["status"] == "resolved"
        body = post(
            world.worker,
            url(petition, "follow-up"),
            {"reached": True, "solved": True, "satisfaction": "very_satisfied", "note": "满意"},
        ).json()
        assert body["status"] == "closed" and body["closed_at"]
        events = token_client(world.worker).get(url(petition)).json()["events"]
        assert [e["action"] for e in events] == ["register", "dispatch", "accept", "resolve", "follow_up"]
        assert events[1]["note"] == "请尽快"

    def test_accept_needs_no_body(self, world: World) -> None:
        petition = world.petition(stage="dispatched")
        response = token_client(world.dept).post(url(petition, "accept"))
        assert response.status_code == 200 and response.json()["status"] == "accepted"

    def test_return_with_a_reason(self, world: World) -> None:
        petition = world.petition(stage="dispatched")
        body = post(world.dept, url(petition, "return"), {"reason": "不属于本部门"}).json()
        assert (body["status"], body["department"]) == ("registered", None)

    def test_resolve_on_the_grid_and_cancel(self, world: World) -> None:
        petition = world.petition()
        body = post(world.worker, url(petition, "resolve"), {"result": "网格员当场处理"}).json()
        assert body["status"] == "resolved" and body["resolved_on_grid"] is True
        other = world.petition()
        assert post(world.official, url(other, "cancel"), {"reason": "重复"}).json()["status"] == "cancelled"

    def test_dissatisfied_reopens_to_the_department(self, world: World) -> None:
        petition = world.petition(stage="resolved")
        body = post(
            world.worker, url(petition, "follow-up"), {"reached": True, "solved": False, "satisfaction": "dissatisfied"}
        ).json()
        assert (body["status"], body["department"], body["rehandle_count"]) == ("dispatched", "housing", 1)

    def test_not_reached_stays_resolved(self, world: World) -> None:
        petition = world.petition(stage="resolved")
        body = post(world.worker, url(petition, "follow-up"), {"reached": False, "note": "电话无人接听"}).json()
        assert body["status"] == "resolved"
        events = token_client(world.worker).get(url(petition)).json()["events"]
        assert events[-1]["action"] == "follow_up_unreached"

    def test_403_when_the_role_may_not(self, world: World) -> None:
        petition = world.petition()
        body = assert_refused(world.worker, url(petition, "dispatch"), {"department": "housing"}, 403, petition)
        assert body["detail"]
        assert_refused(world.worker, url(petition, "cancel"), {"reason": "x"}, 403, petition)
        accepted_one = world.petition(stage="accepted")
        assert_refused(world.official, url(accepted_one, "resolve"), {"result": "x"}, 403, accepted_one)

    def test_409_when_the_status_does_not_allow_it(self, world: World) -> None:
        petition = world.petition(stage="dispatched")
        body = assert_refused(world.official, url(petition, "dispatch"), {"department": "police"}, 409, petition)
        assert body["detail"]
        assert_refused(world.official, url(petition, "cancel"), {"reason": "x"}, 409, petition)
        assert_refused(world.worker, url(petition, "follow-up"), {"reached": False}, 409, petition)
        done = world.petition(stage="accepted")
        assert_refused(world.dept, url(done, "accept"), {}, 409, done)
        assert_refused(world.dept, url(done, "return"), {"reason": "x"}, 409, done)

    def test_404_outside_the_scope_or_missing(self, world: World) -> None:
        petition = world.petition()
        assert_refused(world.foreign_worker, url(petition, "resolve"), {"result": "x"}, 404, petition)
        # Not dispatched to the department: it does not exist for them.
        assert_refused(world.dept, url(petition, "accept"), {}, 404, petition)
        assert_refused(world.official, "/api/v1/petitions/999999999/cancel/", {"reason": "x"}, 404)
        assert_refused(world.official, "/api/v1/petitions/x/cancel/", {"reason": "x"}, 404)

    @pytest.mark.parametrize(
        ("step", "body", "fields"),
        [
            ("dispatch", {}, {"department"}),
            ("dispatch", {"department": "no-such"}, {"department"}),
            ("dispatch", {"department": "housing", "note": 5}, {"note"}),
            ("cancel", {}, {"reason"}),
            ("cancel", {"reason": "   "}, {"reason"}),
            ("resolve", {"result": ""}, {"result"}),
            ("follow-up", {}, {"reached"}),
            ("follow-up", {"reached": "yes"}, {"reached"}),
            ("follow-up", {"reached": True}, {"solved", "satisfaction"}),
            ("follow-up", {"reached": True, "solved": True, "satisfaction": "ok"}, {"satisfaction"}),
        ],
    )
    def test_400_names_the_fields(self, world: World, step: str, body: dict, fields: set[str]) -> None:
        petition = world.petition(stage="registered" if step != "follow-up" else "resolved")
        user = world.official if step != "follow-up" else world.worker
        assert set(assert_refused(user, url(petition, step), body, 400, petition)) == fields

    def test_return_needs_a_reason(self, world: World) -> None:
        petition = world.petition(stage="dispatched")
        assert set(assert_refused(world.dept, url(petition, "return"), {"reason": ""}, 400, petition)) == {"reason"}

    def test_an_inactive_department_is_refused(self, world: World) -> None:
        petition = world.petition()
        world.police.is_active = False
        world.police.save()
        assert "department" in assert_refused(world.official, url(petition, "dispatch"), {"department": "police"}, 400)
