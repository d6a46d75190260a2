"""Patrols (巡查) and household visits (入户走访): what a worker records, what follows from it, who sees it."""

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from governance.models import PersonalDataAccess
from grids import fieldwork
from grids.models import Household, HouseholdKeyPopulation, KeyPopulation, Patrol, Visit
from petitions.models import Channel, Petition, Status

from ..conftest import World
from ..factories import BuildingFactory, HouseholdFactory, ResidentFactory

pytestmark = pytest.mark.django_db

MINUTE = "%Y-%m-%dT%H:%M"


def when(hours_ago: float) -> str:
    return timezone.localtime(timezone.now() - dt.timedelta(hours=hours_ago)).strftime(MINUTE)


def patrol_body(world: World, **fields: Any) -> dict[str, Any]:
    body = {
        "grid": world.grid.code,
        "started_at": when(3),
        "ended_at": when(1),
        "route": "3栋—5栋楼道、东门消防通道",
        "findings": "东门消防通道被私家车占用\n三辆车，已拍照",
        "problem_found": "on",
        "problem_place": "小区东门消防通道",
    }
    body.update(fields)
    return body


def signed_in(client: Client, user: Any) -> Client:
    client.force_login(user)
    return client


def a_patrol(world: World, **fields: Any) -> Patrol:
    now = timezone.now()
    values: dict[str, Any] = {
        "actor": world.worker, "grid": world.grid, "started_at": now - dt.timedelta(hours=2),
        "ended_at": now - dt.timedelta(hours=1), "route": "楼道、车库", "findings": "", "problem_found": False,
    }
    values.update(fields)
    return fieldwork.patrol_record(**values)


def elderly(days: int = 30) -> KeyPopulation:
    return KeyPopulation.objects.get_or_create(
        code=f"elderly-{days}", defaults={"name": "独居老人", "visit_interval_days": days}
    )[0]


def in_class(household: Household, key_population: KeyPopulation, days_ago: int) -> None:
    HouseholdKeyPopulation.objects.create(
        household=household, key_population=key_population, since=timezone.now() - dt.timedelta(days=days_ago)
    )


def household_of(world: World, grid: Any = None) -> Household:
    return HouseholdFactory.create(building=BuildingFactory.create(grid=grid or world.grid))


class TestPatrolToPetition:
    def test_a_found_problem_becomes_a_petition_linked_both_ways(self, world: World, client: Client) -> None:
        signed_in(client, world.worker)
        response = client.post(reverse("grids:patrol-record"), patrol_body(world))
        patrol = Patrol.objects.get()
        # Straight on to registering the problem, with the findings already filled in.
        assert response.status_code == 302
        assert response["Location"] == reverse("petitions:register-from-patrol", args=[patrol.pk])
        form = client.get(response["Location"])
        assert form.status_code == 200 and "东门消防通道被私家车占用" in form.content.decode()

        response = client.post(
            reverse("petitions:register-from-patrol", args=[patrol.pk]),
            {"category": world.category.code, "priority": "normal", "title": "消防通道被占",
             "description": patrol.findings},
        )
        petition = Petition.objects.get()
        assert response.status_code == 302 and response["Location"] == petition.get_absolute_url()
        assert (petition.channel, petition.patrol_id, petition.grid_id) == (Channel.PATROL, patrol.pk, world.grid.pk)
        assert petition.place == "小区东门消防通道" and petition.status == Status.REGISTERED
        assert petition.events.get().action == "register"

        detail = client.get(petition.get_absolute_url()).content.decode()
        day = timezone.localtime(patrol.started_at).strftime("%Y-%m-%d")
        assert "found-on-patrol" in detail and day in detail and patrol.get_absolute_url() in detail
        patrol_page = client.get(patrol.get_absolute_url()).content.decode()
        assert petition.number in patrol_page and petition.get_absolute_url() in patrol_page

    def test_the_service_registers_it_in_one_step(self, world: World) -> None:
        from petitions import services

        patrol = a_patrol(world, findings="井盖缺失", problem_found=True, problem_place="2栋北侧")
        petition = services.petition_register_from_patrol(
            actor=world.worker, patrol_id=patrol.pk, category=world.category, title="井盖缺失",
            description="2栋北侧井盖缺失",
        )
        assert list(patrol.petitions.all()) == [petition]  # type: ignore[attr-defined]
        assert petition.channel == Channel.PATROL and petition.place == "2栋北侧"

    def test_a_patrol_without_a_problem_goes_to_its_page(self, world: World, client: Client) -> None:
        signed_in(client, world.worker)
        body = patrol_body(world, findings="", problem_place="")
        del body["problem_found"]
        response = client.post(reverse("grids:patrol-record"), body)
        patrol = Patrol.objects.get()
        assert response["Location"] == patrol.get_absolute_url() and not patrol.problem_found


class TestBadInput:
    @pytest.mark.parametrize(
        ("change", "field"),
        [
            ({"route": " "}, "route"),
            ({"findings": ""}, "findings"),  # a problem found says what it is
            ({"ended_at": when(4)}, "ended_at"),  # before the start
            ({"started_at": "yesterday"}, "started_at"),
            ({"route": "长" * 1001}, "route"),
        ],
    )
    def test_the_form_names_the_field_and_nothing_is_written(
        self, world: World, client: Client, change: dict[str, str], field: str
    ) -> None:
        signed_in(client, world.worker)
        response = client.post(reverse("grids:patrol-record"), patrol_body(world, **change))
        assert response.status_code == 400
        assert f'data-field="{field}"' in response.content.decode()
        assert not Patrol.objects.exists()

    def test_the_message_is_in_chinese(self, world: World, client: Client) -> None:
        signed_in(client, world.worker)
        response = client.post(reverse("grids:patrol-record"), patrol_body(world, ended_at=when(4)))
        assert "巡查结束时间早于开始时间" in response.content.decode()

    def test_a_visit_needing_a_follow_up_says_which(self, world: World, client: Client) -> None:
        household = household_of(world)
        signed_in(client, world.worker)
        response = client.post(
            reverse("grids:visit-record", args=[household.pk]),
            {"visited_at": when(1), "learned": "老人身体还好", "follow_up_needed": "on", "follow_up": ""},
        )
        assert response.status_code == 400 and 'data-field="follow_up"' in response.content.decode()
        assert not Visit.objects.exists()


class TestScope:
    def test_a_worker_of_another_grid_can_neither_see_nor_record(self, world: World, client: Client) -> None:
        patrol = a_patrol(world)
        household = household_of(world)
        visit = fieldwork.visit_record(
            actor=world.worker, household=household, visited_at=timezone.now(), learned="家中无人照料"
        )
        signed_in(client, world.foreign_worker)
        assert client.get(patrol.get_absolute_url()).status_code == 404
        assert client.get(visit.get_absolute_url()).status_code == 404
        assert client.get(reverse("grids:visit-record", args=[household.pk])).status_code == 404
        response = client.post(
            reverse("grids:visit-record", args=[household.pk]), {"visited_at": when(1), "learned": "x"}
        )
        assert response.status_code == 404
        assert client.get(reverse("petitions:register-from-patrol", args=[patrol.pk])).status_code == 404
        # A grid outside the scope is not among the choices: the form names the field.
        response = client.post(reverse("grids:patrol-record"), patrol_body(world))
        assert response.status_code == 400 and 'data-field="grid"' in response.content.decode()
        assert Visit.objects.count() == 1 and Patrol.objects.count() == 1 and not Petition.objects.exists()
        listed = client.get(reverse("grids:patrols")).content.decode()
        assert f'data-patrol="{patrol.pk}"' not in listed

    def test_the_service_refuses_a_grid_outside_the_scope(self, world: World) -> None:
        from django.core.exceptions import ValidationError

        with pytest.raises(ValidationError) as refused:
            a_patrol(world, actor=world.foreign_worker)
        assert "grid" in refused.value.message_dict
        assert not Patrol.objects.exists()

    def test_department_staff_do_not_record_patrols(self, world: World, client: Client) -> None:
        signed_in(client, world.dept)
        assert client.post(reverse("grids:patrol-record"), patrol_body(world)).status_code == 403
        assert not Patrol.objects.exists()


class TestLateVisits:
    def test_late_households_appear_in_the_queue_and_leave_it_after_a_visit(
        self, world: World, client: Client
    ) -> None:
        late = household_of(world)
        ResidentFactory.create(household=late, name="王秀英")
        in_class(late, elderly(30), days_ago=40)
        later = household_of(world)
        in_class(later, elderly(30), days_ago=70)
        fresh = household_of(world)
        in_class(fresh, elderly(30), days_ago=10)  # not due yet
        visited = household_of(world)
        in_class(visited, elderly(30), days_ago=90)
        fieldwork.visit_record(
            actor=world.worker, household=visited, visited_at=timezone.now() - dt.timedelta(days=3), learned="好"
        )
        plain = household_of(world)  # in no class: never due
        foreign = household_of(world, world.foreign_grid)
        in_class(foreign, elderly(30), days_ago=99)

        signed_in(client, world.worker)
        home = client.get(reverse("home")).content.decode()
        assert 'data-late="2"' in home
        page = client.get(reverse("grids:late-visits")).content.decode()
        # The latest first; names masked; only the worker's grid.
        assert page.index(f'data-household="{later.pk}"') < page.index(f'data-household="{late.pk}"')
        for absent in (fresh, visited, plain, foreign):
            assert f'data-household="{absent.pk}"' not in page
        assert "王**" in page and "王秀英" not in page
        assert 'data-days-late="40"' in page and 'data-days-late="10"' in page

        response = client.post(
            reverse("grids:visit-record", args=[later.pk]),
            {"visited_at": when(1), "key_population": "elderly-30", "purpose": "例行走访", "learned": "腿脚不便"},
        )
        assert response.status_code == 302
        assert list(fieldwork.late_households(world.worker)) == [late]
        assert 'data-household="' + str(later.pk) + '"' not in client.get(reverse("grids:late-visits")).content.decode()

    def test_the_shortest_interval_of_the_classes_counts(self, world: World) -> None:
        household = household_of(world)
        in_class(household, elderly(90), days_ago=40)
        assert not fieldwork.late_households(world.worker).exists()
        in_class(household, elderly(30), days_ago=40)
        assert list(fieldwork.late_households(world.worker)) == [household]

    def test_the_worker_puts_a_household_in_classes(self, world: World, client: Client) -> None:
        household = household_of(world)
        elderly(30)
        signed_in(client, world.worker)
        response = client.post(
            reverse("grids:household-key-populations", args=[household.pk]), {"key_populations": ["elderly-30"]}
        )
        assert response.status_code == 302
        assert [k.code for k in household.key_populations.all()] == ["elderly-30"]  # type: ignore[attr-defined]

    def test_the_lists_run_a_constant_number_of_queries(
        self, world: World, client: Client, django_assert_max_num_queries: Any
    ) -> None:
        def add(n: int) -> None:
            for _ in range(n):
                h = household_of(world)
                ResidentFactory.create(household=h)
                in_class(h, elderly(30), days_ago=60)
                fieldwork.visit_record(
                    actor=world.worker, household=h, visited_at=timezone.now() - dt.timedelta(days=45), learned="好"
                )
                a_patrol(world)

        add(2)
        signed_in(client, world.worker)
        pages = [reverse(name) for name in ("grids:late-visits", "grids:visits", "grids:patrols", "home")]
        counts = {}
        for url in pages:
            # The home page's panels (every app's) stay within the cap test_queues pins for it.
            with django_assert_max_num_queries(24 if url == reverse("home") else 20) as few:
                assert client.get(url).status_code == 200
            counts[url] = len(few.captured_queries)
        add(15)
        for url in pages:
            with django_assert_max_num_queries(counts[url]):
                assert client.get(url).status_code == 200


class TestPersonalData:
    def test_visit_notes_are_whole_only_on_the_visit_page_and_the_viewing_is_logged(
        self, world: World, client: Client
    ) -> None:
        household = household_of(world)
        ResidentFactory.create(household=household, name="李桂兰")
        visit = fieldwork.visit_record(
            actor=world.worker, household=household, visited_at=timezone.now(), learned="儿子在外地打工，每月寄钱"
        )
        signed_in(client, world.official)
        listed = client.get(reverse("grids:visits")).content.decode()
        assert "儿子在外地打工" not in listed and "李桂兰" not in listed and "李**" in listed
        assert not PersonalDataAccess.objects.exists()
        page = client.get(visit.get_absolute_url())
        assert "儿子在外地打工" in page.content.decode() and "no-store" in page["Cache-Control"]
        access = PersonalDataAccess.objects.get()
        assert (access.user, access.object_type, access.object_id) == (world.official, "grids.visit", visit.pk)
