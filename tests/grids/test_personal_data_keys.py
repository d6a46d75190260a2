"""ID-card numbers under the installation's own keys: rotation, look-ups meanwhile, and scoped refusals."""

from typing import Any

import pytest
from cryptography.fernet import Fernet, InvalidToken
from django.core.management import call_command
from django.db import connection
from django.test import override_settings

from grids import services
from grids.identity import id_card_hash
from grids.models import Resident

from ..conftest import World
from ..factories import BuildingFactory, HouseholdFactory, ResidentFactory, valid_id_card

OLD_DATA, NEW_DATA = Fernet.generate_key().decode(), Fernet.generate_key().decode()
OLD_HASH, NEW_HASH = "old-hash-key-" + "o" * 40, "new-hash-key-" + "n" * 40


def stored(pk: int) -> tuple[str, str]:
    """The row as a copy of the database holds it: the ciphertext and the hash."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT id_card, id_card_hash FROM grids_resident WHERE id = %s", [pk])
        row = cursor.fetchone()
    assert row is not None
    return row[0], row[1]


@pytest.fixture
def old_keys(settings: Any) -> None:
    settings.DATA_KEYS = [OLD_DATA]
    settings.ID_HASH_KEYS = [OLD_HASH]


@pytest.mark.django_db
@pytest.mark.usefixtures("old_keys")
class TestRotation:
    def test_the_number_is_encrypted_with_the_data_key_not_derivable_from_secret_key(self, world: World) -> None:
        resident = ResidentFactory.create(household__building__grid=world.grid, id_card=valid_id_card(1))
        token, digest = stored(resident.pk)
        assert valid_id_card(1) not in token
        assert Fernet(OLD_DATA.encode()).decrypt(token.encode()).decode() == valid_id_card(1)
        assert digest == id_card_hash(valid_id_card(1), OLD_HASH)

    def test_rotation_re_encrypts_and_re_hashes_everyone_and_can_run_again(self, world: World, settings: Any) -> None:
        residents = [
            ResidentFactory.create(household__building__grid=world.grid, id_card=valid_id_card(n)) for n in range(5)
        ]
        settings.DATA_KEYS = [NEW_DATA, OLD_DATA]
        settings.ID_HASH_KEYS = [NEW_HASH, OLD_HASH]

        # Before the rotation: old rows still read, and a duplicate is still found by its old hash.
        assert Resident.objects.get(pk=residents[0].pk).id_card == valid_id_card(0)
        household = HouseholdFactory.create(building=BuildingFactory.create(grid=world.grid))
        with pytest.raises(services.ValidationError) as refused:
            services.resident_create(
                actor=world.worker, household=household, name="张伟", id_card=valid_id_card(3), phone=""
            )
        assert "id_card" in refused.value.message_dict

        # Interrupted after the first two rows, then run to the end, then run once more.
        first = services.residents_rotate_keys(after_pk=0, batch_size=2)
        assert first.rewritten == 2
        call_command("rotate_personal_keys", "--batch-size", "2")
        assert services.residents_rotate_keys(after_pk=0, batch_size=100).rewritten == 0

        settings.DATA_KEYS = [NEW_DATA]
        settings.ID_HASH_KEYS = [NEW_HASH]
        for n, resident in enumerate(residents):
            token, digest = stored(resident.pk)
            assert Fernet(NEW_DATA.encode()).decrypt(token.encode()).decode() == valid_id_card(n)
            with pytest.raises(InvalidToken):
                Fernet(OLD_DATA.encode()).decrypt(token.encode())
            assert digest == id_card_hash(valid_id_card(n), NEW_HASH)
            assert Resident.objects.get(pk=resident.pk).id_card == valid_id_card(n)

    def test_a_value_no_key_decrypts_stops_the_rotation_naming_the_resident(self, world: World, settings: Any) -> None:
        resident = ResidentFactory.create(household__building__grid=world.grid)
        settings.DATA_KEYS = [NEW_DATA]
        from django.core.management.base import CommandError

        with pytest.raises(CommandError) as stopped:
            call_command("rotate_personal_keys")
        assert str(resident.pk) in str(stopped.value)
        assert "--after" in str(stopped.value)


@pytest.mark.django_db
class TestDuplicateOutsideScope:
    def test_the_refusal_does_not_say_where_the_number_is_registered(self, world: World) -> None:
        elsewhere = HouseholdFactory.create(building=BuildingFactory.create(grid=world.foreign_grid), room="909")
        ResidentFactory.create(household=elsewhere, id_card=valid_id_card(7))
        mine = HouseholdFactory.create(building=BuildingFactory.create(grid=world.grid), room="101")
        with pytest.raises(services.ValidationError) as refused:
            services.resident_create(actor=world.worker, household=mine, name="张伟", id_card=valid_id_card(7))
        message = " ".join(refused.value.message_dict["id_card"])
        assert "909" not in message
        assert str(elsewhere.building) not in message
        assert str(elsewhere) not in message
        assert Resident.objects.count() == 1

    def test_inside_the_scope_the_household_is_named(self, world: World) -> None:
        here = HouseholdFactory.create(building=BuildingFactory.create(grid=world.grid), room="808")
        ResidentFactory.create(household=here, id_card=valid_id_card(8))
        other = HouseholdFactory.create(building=BuildingFactory.create(grid=world.grid), room="101")
        with pytest.raises(services.ValidationError) as refused:
            services.resident_create(actor=world.worker, household=other, name="张伟", id_card=valid_id_card(8))
        assert str(here) in " ".join(refused.value.message_dict["id_card"])


@pytest.mark.django_db
def test_numbers_encrypted_by_earlier_releases_still_read_and_are_rotated(world: World, settings: Any) -> None:
    """Earlier releases derived the key from SECRET_KEY (the public embedded constant when unset)."""
    from encrypted_fields.fields import EncryptedCharField

    from governance.keys import OLD_EMBEDDED_SECRET, OLD_SALT, legacy_fernet_key

    settings.DATA_KEYS = [NEW_DATA, legacy_fernet_key(OLD_EMBEDDED_SECRET, OLD_SALT)]
    settings.ID_HASH_KEYS = [NEW_HASH, OLD_EMBEDDED_SECRET]
    resident = ResidentFactory.create(household__building__grid=world.grid, id_card=valid_id_card(9))
    # Rewrite the row as an earlier release stored it: the library's own derivation, the old hash.
    with override_settings(SECRET_KEY=OLD_EMBEDDED_SECRET, SALT_KEY=[OLD_SALT]):
        old_token = EncryptedCharField(max_length=18).get_prep_value(valid_id_card(9))
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE grids_resident SET id_card = %s, id_card_hash = %s WHERE id = %s",
            [old_token, id_card_hash(valid_id_card(9), OLD_EMBEDDED_SECRET), resident.pk],
        )

    assert Resident.objects.get(pk=resident.pk).id_card == valid_id_card(9)
    call_command("rotate_personal_keys")
    token, digest = stored(resident.pk)
    assert Fernet(NEW_DATA.encode()).decrypt(token.encode()).decode() == valid_id_card(9)
    assert digest == id_card_hash(valid_id_card(9), NEW_HASH)


def test_production_takes_a_legacy_key_only_when_told(tmp_path: Any) -> None:
    from governance import keys

    env = {
        "WANGGE_ENV": "production",
        "DJANGO_SECRET_KEY": "s" * 50,
        "WANGGE_DATA_KEYS": NEW_DATA,
        "WANGGE_ID_HASH_KEYS": NEW_HASH,
    }
    assert keys.load(tmp_path, env)["DATA_KEYS"] == [NEW_DATA]
    upgraded = keys.load(tmp_path, {**env, "WANGGE_LEGACY_SECRET_KEY": "old-secret"})
    assert upgraded["DATA_KEYS"] == [NEW_DATA, keys.legacy_fernet_key("old-secret", keys.OLD_SALT)]
    assert upgraded["ID_HASH_KEYS"] == [NEW_HASH, "old-secret"]
