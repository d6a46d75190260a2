"""Fixtures of the admin tests: a street official made staff, and records on two streets."""

from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from ..conftest import World
from ..factories import BuildingFactory, HouseholdFactory, ResidentFactory


@pytest.fixture
def staff_official(world: World) -> Any:
    """The street official, made staff with every permission of our apps (as a district might)."""
    official = world.official
    official.is_staff = True
    official.save()
    official.user_permissions.set(
        Permission.objects.filter(content_type__app_label__in=["governance", "parties", "grids", "petitions"])
    )
    return official


@pytest.fixture
def two_streets(world: World) -> dict[str, Any]:
    here = world.petition()
    far = world.petition(actor=world.admin, grid=world.foreign_grid)
    near_resident = ResidentFactory.create(household=HouseholdFactory.create(building=BuildingFactory(grid=world.grid)))
    far_resident = ResidentFactory.create(
        household=HouseholdFactory.create(building=BuildingFactory(grid=world.foreign_grid))
    )
    return {"here": here, "far": far, "near_resident": near_resident, "far_resident": far_resident}


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client
