"""Django admin applies the pages' scope to staff who are not superusers: lists, change pages, choices."""

from typing import Any

import pytest

from grids.models import Resident
from petitions.models import Petition

from ..conftest import World
from .conftest import _client


@pytest.mark.django_db
def test_a_staff_official_sees_only_their_street_in_admin(
    world: World, staff_official: Any, two_streets: dict[str, Any]
) -> None:
    client = _client(staff_official)
    petitions = client.get("/admin/petitions/petition/")
    assert petitions.status_code == 200
    shown = {p.pk for p in petitions.context["cl"].result_list}
    assert shown == {two_streets["here"].pk}

    residents = client.get("/admin/grids/resident/")
    assert {r.pk for r in residents.context["cl"].result_list} == {two_streets["near_resident"].pk}

    grids = client.get("/admin/grids/grid/")
    assert {g.pk for g in grids.context["cl"].result_list} == {world.grid.pk, world.other_grid_same_street.pk}

    # Another street's record: the admin answers as for one that does not exist.
    far = client.get(f"/admin/petitions/petition/{two_streets['far'].pk}/change/")
    assert far.status_code == 302
    far_resident = client.get(f"/admin/grids/resident/{two_streets['far_resident'].pk}/change/", follow=True)
    assert "不存在" in far_resident.content.decode()


@pytest.mark.django_db
def test_the_choices_of_a_staff_officials_forms_are_their_scope(
    world: World, staff_official: Any, two_streets: dict[str, Any]
) -> None:
    client = _client(staff_official)
    # The select of a foreign key (a building's grid) …
    form = client.get("/admin/grids/building/add/").context["adminform"].form
    assert set(form.fields["grid"].queryset) == {world.grid, world.other_grid_same_street}
    # … and the autocomplete behind another (a resident's household).
    answer = client.get(
        "/admin/autocomplete/",
        {"app_label": "grids", "model_name": "resident", "field_name": "household", "term": ""},
    ).json()
    assert {int(r["id"]) for r in answer["results"]} == {two_streets["near_resident"].household_id}


@pytest.mark.django_db
def test_a_superuser_sees_the_whole_district_in_admin(world: World, two_streets: dict[str, Any]) -> None:
    client = _client(world.admin)
    shown = {p.pk for p in client.get("/admin/petitions/petition/").context["cl"].result_list}
    assert shown == set(Petition.objects.values_list("pk", flat=True))
    residents = client.get("/admin/grids/resident/").context["cl"].result_list
    assert len(residents) == Resident.objects.count() == 2
