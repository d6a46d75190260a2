"""A chain node's admin page: its members, the grids it covers, a member household's linked households;
the parent chosen by typing (autocomplete), not from a list of every node."""

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from parties.models import Kind, Member

from ..conftest import World
from ..factories import BuildingFactory, GridFactory, HouseholdFactory, node

pytestmark = pytest.mark.django_db


def page_of(client: Client, organization: Any) -> str:
    response = client.get(reverse("admin:parties_organization_change", args=[organization.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_a_grid_branch_shows_its_members_and_the_grids_it_covers(world: World, admin_client: Client) -> None:
    Member.objects.create(name="王建国", organization=world.branch)
    joint = GridFactory.create(branch=world.branch, name="磷肥厂社区联建网格")
    page = page_of(admin_client, world.branch)
    assert "王建国" in page
    assert world.grid.name in page and joint.name in page
    assert world.other_grid_same_street.name not in page  # another branch's grid


def test_a_member_household_shows_the_households_it_links(world: World, admin_client: Client) -> None:
    centre = node(Kind.MEMBER_HOUSEHOLD, node(Kind.BUILDING_GROUP, world.branch), name="张大爷中心户")
    building = BuildingFactory.create(grid=world.grid, name="7栋")
    linked = [HouseholdFactory.create(building=building, room=f"70{i}", linked_node=centre) for i in range(3)]
    HouseholdFactory.create(building=building, room="799")  # not linked
    page = page_of(admin_client, centre)
    for household in linked:
        assert f"{household.room}" in page
    assert "799" not in page
    # A street has no linked households and covers no grid directly: those sections are not shown.
    street_page = page_of(admin_client, world.street)
    assert "linked_households" not in street_page and "张大爷中心户" not in street_page


def test_the_parent_is_an_autocomplete_not_a_list_of_every_node(world: World, admin_client: Client) -> None:
    page = page_of(admin_client, world.branch)
    select = page[page.index('name="parent"') - 300: page.index('name="parent"') + 600]
    assert "admin-autocomplete" in select
    assert select.count("<option") <= 2  # the current parent (and the blank), not the whole chain
