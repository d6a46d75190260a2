"""Writing residents: by the services and through the admin, the ID-card hash always follows the number."""

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from governance.models import PersonalDataAccess
from grids import services
from grids.identity import id_card_hash
from grids.models import Household, Resident

from ..conftest import World
from ..factories import BuildingFactory, HouseholdFactory, ResidentFactory, valid_id_card


@pytest.fixture
def household(world: World) -> Household:
    return HouseholdFactory.create(building=BuildingFactory.create(grid=world.grid), room="101")


@pytest.mark.django_db
class TestServices:
    def test_create_sets_the_hash_from_the_number(self, world: World, household: Household) -> None:
        resident = services.resident_create(
            actor=world.worker, household=household, name=" 张伟 ", id_card=valid_id_card(5).lower(), phone=""
        )
        resident.refresh_from_db()
        assert resident.name == "张伟"
        assert resident.id_card == valid_id_card(5)
        assert resident.id_card_hash == id_card_hash(valid_id_card(5))

    def test_bad_id_and_phone_are_named_and_nothing_is_saved(self, world: World, household: Household) -> None:
        bad = valid_id_card(5)[:17] + ("0" if valid_id_card(5)[17] != "0" else "1")
        with pytest.raises(ValidationError) as err:
            services.resident_create(actor=world.worker, household=household, name="张伟", id_card=bad, phone="12345")
        assert set(err.value.message_dict) == {"id_card", "phone"}
        assert not Resident.objects.exists()

    def test_duplicate_id_card_is_a_field_error_naming_the_household(
        self, world: World, household: Household
    ) -> None:
        other = ResidentFactory.create(household=HouseholdFactory.create(building=household.building, room="808"))
        with pytest.raises(ValidationError) as err:
            services.resident_create(actor=world.admin, household=household, name="李娜", id_card=other.id_card)
        assert list(err.value.message_dict) == ["id_card"]
        assert "808" in err.value.message_dict["id_card"][0]
        assert Resident.objects.count() == 1

    def test_household_outside_the_actors_scope_is_refused(self, world: World, household: Household) -> None:
        with pytest.raises(ValidationError) as err:
            services.resident_create(
                actor=world.foreign_worker, household=household, name="张伟", id_card=valid_id_card(5)
            )
        assert list(err.value.message_dict) == ["household"]

    def test_update_moves_the_hash_with_the_number(self, world: World, household: Household) -> None:
        resident = ResidentFactory.create(household=household)
        services.resident_update(
            actor=world.admin, resident=resident, household=household, name=resident.name, id_card=valid_id_card(9)
        )
        resident.refresh_from_db()
        assert resident.id_card_hash == id_card_hash(valid_id_card(9))
        # Its own number is not a duplicate of itself.
        services.resident_update(
            actor=world.admin, resident=resident, household=household, name="改名", id_card=valid_id_card(9)
        )
        assert Resident.objects.get().name == "改名"


def household_form(household: Household, residents: list[dict[str, str]], initial: int = 0) -> dict[str, Any]:
    data: dict[str, Any] = {
        "building": household.building_id,
        "room": household.room,
        "kind": household.kind,
        "linked_node": "",
        "residents-TOTAL_FORMS": str(len(residents)),
        "residents-INITIAL_FORMS": str(initial),
        "residents-MIN_NUM_FORMS": "0",
        "residents-MAX_NUM_FORMS": "1000",
        # The Party members living there (another inline), none here.
        "member_residences-TOTAL_FORMS": "0",
        "member_residences-INITIAL_FORMS": "0",
        "member_residences-MIN_NUM_FORMS": "0",
        "member_residences-MAX_NUM_FORMS": "1000",
    }
    for i, resident in enumerate(residents):
        for key, value in resident.items():
            data[f"residents-{i}-{key}"] = value
    return data


@pytest.mark.django_db
class TestAdmin:
    def test_resident_added_in_admin_gets_its_hash(self, world: World, household: Household, client: Client) -> None:
        client.force_login(world.admin)
        response = client.post(
            reverse("admin:grids_resident_add"),
            {"household": household.pk, "name": "张伟", "id_card": valid_id_card(5), "phone": "13812345678"},
        )
        assert response.status_code == 302
        assert Resident.objects.get().id_card_hash == id_card_hash(valid_id_card(5))

    def test_duplicate_id_in_admin_is_a_field_error(self, world: World, household: Household, client: Client) -> None:
        existing = ResidentFactory.create(household=household)
        client.force_login(world.admin)
        response = client.post(
            reverse("admin:grids_resident_add"),
            {"household": household.pk, "name": "李娜", "id_card": existing.id_card, "phone": ""},
        )
        assert response.status_code == 200
        assert list(response.context["adminform"].form.errors) == ["id_card"]
        assert Resident.objects.count() == 1

    def test_residents_added_in_the_household_inline_get_hashes(
        self, world: World, household: Household, client: Client
    ) -> None:
        client.force_login(world.admin)
        new = Household(building=household.building, room="102", kind=Household.Kind.RESIDENCE)
        data = household_form(
            new,
            [
                {"name": "张伟", "id_card": valid_id_card(5), "phone": ""},
                {"name": "李娜", "id_card": valid_id_card(6), "phone": "13812345678"},
            ],
        )
        response = client.post(reverse("admin:grids_household_add"), data)
        assert response.status_code == 302
        saved = Household.objects.get(room="102")
        assert {r.id_card_hash for r in saved.residents.all()} == {
            id_card_hash(valid_id_card(5)),
            id_card_hash(valid_id_card(6)),
        }

    def test_same_id_twice_in_the_inline_is_refused(self, world: World, household: Household, client: Client) -> None:
        client.force_login(world.admin)
        new = Household(building=household.building, room="102", kind=Household.Kind.RESIDENCE)
        data = household_form(
            new,
            [
                {"name": "张伟", "id_card": valid_id_card(5), "phone": ""},
                {"name": "李娜", "id_card": valid_id_card(5), "phone": ""},
            ],
        )
        response = client.post(reverse("admin:grids_household_add"), data)
        assert response.status_code == 200
        formset = response.context["inline_admin_formsets"][0].formset
        assert formset.forms[1].errors and "id_card" in formset.forms[1].errors
        assert not Household.objects.filter(room="102").exists()

    def test_inline_duplicate_of_another_household_is_a_field_error(
        self, world: World, household: Household, client: Client
    ) -> None:
        existing = ResidentFactory.create(household=household)
        client.force_login(world.admin)
        new = Household(building=household.building, room="102", kind=Household.Kind.RESIDENCE)
        data = household_form(new, [{"name": "李娜", "id_card": existing.id_card, "phone": ""}])
        response = client.post(reverse("admin:grids_household_add"), data)
        assert response.status_code == 200
        formset = response.context["inline_admin_formsets"][0].formset
        assert "id_card" in formset.forms[0].errors
        assert Resident.objects.count() == 1

    def test_search_by_whole_id_card_number(self, world: World, household: Household, client: Client) -> None:
        wanted, _other = ResidentFactory.create(household=household), ResidentFactory.create(household=household)
        client.force_login(world.admin)
        response = client.get(reverse("admin:grids_resident_changelist"), {"q": wanted.id_card})
        assert list(response.context["cl"].result_list) == [wanted]


@pytest.mark.django_db
def test_opening_a_resident_in_admin_records_who_saw_the_numbers(
    world: World, household: Household, client: Client
) -> None:
    resident = ResidentFactory.create(household=household)
    client.force_login(world.admin)

    page = client.get(reverse("admin:grids_resident_change", args=[resident.pk])).content.decode()
    client.get(reverse("admin:grids_household_change", args=[household.pk]))

    assert resident.id_card in page  # the form shows it whole, to someone whose scope covers it
    seen = PersonalDataAccess.objects.filter(user=world.admin, object_type="grids.resident", object_id=resident.pk)
    assert seen.count() == 2
