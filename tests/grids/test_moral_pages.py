"""道德积分银行 pages: the grid worker records points a household earned, spends them on an item, reverses a
mistake; the balance on the page is the ledger's sum; bad input names the field; others get 404."""

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from grids.models import Household, MoralCategory, MoralEntry, MoralRedemption
from grids.moral import moral_award, moral_balance, moral_redeem

from ..conftest import World
from ..factories import BuildingFactory, HouseholdFactory, ResidentFactory


def household(world: World) -> Household:
    return HouseholdFactory.create(building=BuildingFactory.create(grid=world.grid))


def page(client: Client, home: Household) -> Any:
    return client.get(reverse("grids:household-moral", args=[home.pk]))


@pytest.mark.django_db
def test_earn_spend_and_reverse_from_the_page(world: World, client: Client) -> None:
    home = household(world)
    resident = ResidentFactory.create(household=home)
    client.force_login(world.worker)
    assert reverse("grids:household-moral", args=[home.pk]) in client.get(
        reverse("grids:visit-record", args=[home.pk])).content.decode()
    response = client.post(reverse("grids:moral-award", args=[home.pk]), {
        "category": MoralCategory.NEIGHBOURS, "points": 12, "reason": "调解邻里纠纷", "resident": resident.pk})
    assert response.status_code == 302
    client.post(reverse("grids:moral-award", args=[home.pk]),
                {"category": MoralCategory.CITY, "points": 5, "reason": "垃圾分类"})
    client.post(reverse("grids:moral-redeem", args=[home.pk]), {"item": "大米一袋", "points": 10})
    redemption = MoralRedemption.objects.get()
    assert (redemption.item, redemption.points, redemption.recorded_by) == ("大米一袋", 10, world.worker)
    shown = page(client, home)
    assert shown.context["balance"] == moral_balance(home) == 7
    assert dict(shown.context["by_category"])["睦邻"] == 12
    body = shown.content.decode()
    assert 'data-balance="7"' in body and "-10" in body and resident.name in body
    earned = MoralEntry.objects.get(category=MoralCategory.CITY)
    client.post(reverse("grids:moral-reverse", args=[earned.pk]), {"reason": "登记错误"})
    assert moral_balance(home) == 2
    assert reverse("grids:moral-reverse", args=[earned.pk]) not in page(client, home).content.decode()


@pytest.mark.django_db
def test_bad_input_names_the_field_and_an_overdraft_is_refused_with_the_points_left(
    world: World, client: Client
) -> None:
    home = household(world)
    moral_award(actor=world.worker, household=home, category=MoralCategory.SELF, points=10, reason="孝老爱亲")
    client.force_login(world.worker)
    response = client.post(reverse("grids:moral-award", args=[home.pk]),
                           {"category": "gold", "points": 0, "reason": ""})
    body = response.content.decode()
    assert response.status_code == 400
    assert all(f'data-field="{f}"' in body for f in ("category", "points", "reason"))
    response = client.post(reverse("grids:moral-redeem", args=[home.pk]), {"item": "食用油", "points": 11})
    assert response.status_code == 400
    assert 'data-field="points"' in response.content.decode() and "10" in response.content.decode()
    assert MoralEntry.objects.count() == 1 and not MoralRedemption.objects.exists()


@pytest.mark.django_db
def test_another_street_and_a_department_get_404_and_nothing_changes(world: World, client: Client) -> None:
    home = household(world)
    entry = moral_award(actor=world.worker, household=home, category=MoralCategory.FAMILY, points=10, reason="最美家庭")
    for user in (world.foreign_worker, world.dept):
        client.force_login(user)
        assert page(client, home).status_code == 404
        assert client.post(reverse("grids:moral-redeem", args=[home.pk]),
                           {"item": "大米", "points": 1}).status_code == 404
        assert client.post(reverse("grids:moral-reverse", args=[entry.pk]), {"reason": "x"}).status_code == 404
    assert moral_balance(home) == 10 and MoralEntry.objects.count() == 1


@pytest.mark.django_db
def test_the_page_runs_a_constant_number_of_queries(
    world: World, client: Client, django_assert_max_num_queries: Any
) -> None:
    home = household(world)
    resident = ResidentFactory.create(household=home)
    for i in range(12):
        moral_award(actor=world.worker, household=home, category=MoralCategory.CITY, points=3, reason=f"志愿{i}",
                    resident=resident)
    moral_redeem(actor=world.worker, household_id=home.pk, item="洗衣液", points=5)
    client.force_login(world.worker)
    with django_assert_max_num_queries(14):
        response = page(client, home)
    assert len(response.context["entries"]) == 13
