"""Writes to residents. The ID-card look-up hash is always derived here from the ID-card number.

Every create, change and delete of a resident goes through these functions (the admin form, the
admin's household inline, anything later). The spreadsheet import (``grids.importers``) writes in
bulk through django-import-export, but with the same rules: the same messages from
``id_card_error`` / ``phone_error`` and the same hash from ``grids.identity.id_card_hash``.
"""

from dataclasses import dataclass

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils.translation import gettext as _

from governance.access import restrict
from governance.models import User

from .fields import data_fernet
from .identity import id_card_hash, id_card_hashes, is_valid_id_card, is_valid_phone, normalise_id_card
from .models import Household, Resident

NAME_MAX_LENGTH = Resident._meta.get_field("name").max_length or 50


def id_card_error(value: str) -> str | None:
    """Why ``value`` is not an acceptable ID-card number, or None when it is."""
    if not value:
        return _("Enter the resident's ID-card number.")
    if not is_valid_id_card(value):
        return _(
            "Not a valid 18-digit ID-card number (the last digit does not match the check digit, "
            "or the number has the wrong length)."
        )
    return None


def phone_error(value: str) -> str | None:
    """Why ``value`` is not an acceptable phone number (blank is acceptable), or None."""
    if value and not is_valid_phone(value):
        return _("Enter an 11-digit mobile number, e.g. 13812345678.")
    return None


def name_error(value: str) -> str | None:
    if not value:
        return _("Enter the resident's name.")
    if len(value) > NAME_MAX_LENGTH:
        return _("A name has at most %(n)d characters.") % {"n": NAME_MAX_LENGTH}
    return None


def duplicate_id_card_message(household: Household | None, *, actor: User | None = None) -> str:
    """The refusal of an ID-card number already registered.

    The holder's household is named only when it is within ``actor``'s scope: outside it, the
    message says nothing about where, or that the number is someone's (an ID-card number, like a
    household, must not be found out from outside the scope).
    """
    if (
        household is not None
        and actor is not None
        and restrict(actor, Household.objects.filter(pk=household.pk)).exists()
    ):
        return _("A resident with this ID-card number is already registered in household %(household)s.") % {
            "household": household
        }
    return _("This ID-card number cannot be registered here; ask the district administrator.")


@dataclass(frozen=True)
class ResidentData:
    """A resident's fields, cleaned: the ID-card number normalised, its hash computed."""

    household: Household
    name: str
    id_card: str
    id_card_hash: str
    phone: str


def resident_clean(
    *,
    actor: User,
    household: Household | None,
    name: str,
    id_card: str,
    phone: str = "",
    resident: Resident | None = None,
) -> ResidentData:
    """Check a resident's fields and return them cleaned; raise ValidationError naming each bad field.

    ``resident`` is the one being changed (None for a new one), so its own ID-card number does not
    count as a duplicate. A household outside the actor's scope is refused like a missing one.
    """
    name = (name or "").strip()
    id_card = normalise_id_card(id_card or "")
    phone = (phone or "").strip()
    errors: dict[str, str] = {}
    if household is None or (
        household.pk is not None and not restrict(actor, Household.objects.filter(pk=household.pk)).exists()
    ):
        errors["household"] = _("Choose a household in your area.")
    checks = {"name": name_error(name), "id_card": id_card_error(id_card), "phone": phone_error(phone)}
    errors.update({field: error for field, error in checks.items() if error})
    digest = id_card_hash(id_card) if "id_card" not in errors else ""
    if digest:
        holders = Resident.objects.filter(id_card_hash__in=id_card_hashes(id_card)).select_related(
            "household__building"
        )
        if resident is not None and resident.pk is not None:
            holders = holders.exclude(pk=resident.pk)
        holder = holders.first()
        if holder is not None:
            errors["id_card"] = duplicate_id_card_message(holder.household, actor=actor)
    if errors:
        raise ValidationError(errors)
    assert household is not None
    return ResidentData(household=household, name=name, id_card=id_card, id_card_hash=digest, phone=phone)


def _save(resident: Resident) -> None:
    # The pre-check in resident_clean gives the clear message; the unique index settles a race.
    try:
        with transaction.atomic():
            resident.save()
    except IntegrityError as exc:
        raise ValidationError({"id_card": duplicate_id_card_message(None)}) from exc


@transaction.atomic
def resident_create(*, actor: User, household: Household, name: str, id_card: str, phone: str = "") -> Resident:
    """Register a resident in ``household``; the ID-card look-up hash is set from the number."""
    data = resident_clean(actor=actor, household=household, name=name, id_card=id_card, phone=phone)
    resident = Resident(
        household=data.household,
        name=data.name,
        id_card=data.id_card,
        id_card_hash=data.id_card_hash,
        phone=data.phone,
    )
    _save(resident)
    return resident


@transaction.atomic
def resident_update(
    *,
    actor: User,
    resident: Resident,
    household: Household,
    name: str,
    id_card: str,
    phone: str = "",
) -> Resident:
    """Change a resident's household, name, ID-card number or phone; the hash follows the number."""
    # The current household must be in scope too: one cannot take a resident from another grid.
    if not restrict(actor, Resident.objects.filter(pk=resident.pk)).exists():
        raise ValidationError({"household": _("Choose a household in your area.")})
    data = resident_clean(actor=actor, household=household, name=name, id_card=id_card, phone=phone, resident=resident)
    resident.household = data.household
    resident.name = data.name
    resident.id_card = data.id_card
    resident.id_card_hash = data.id_card_hash
    resident.phone = data.phone
    _save(resident)
    return resident


@transaction.atomic
def resident_delete(*, actor: User, resident: Resident) -> None:
    """Remove a resident from the register."""
    if not restrict(actor, Resident.objects.filter(pk=resident.pk)).exists():
        raise ValidationError(_("This resident is not in your area."))
    resident.delete()


@dataclass(frozen=True)
class RotationBatch:
    """One batch of ``residents_rotate_keys``: how many rows it rewrote, and where the next starts."""

    examined: int
    rewritten: int
    last_pk: int


def residents_rotate_keys(*, after_pk: int = 0, batch_size: int = 500) -> RotationBatch:
    """Re-encrypt under the current ``DATA_KEYS`` key and re-hash under the current ``ID_HASH_KEYS`` key
    the residents after ``after_pk`` (one batch, in one transaction, rows locked).

    A row already under both current keys is left alone, so the rotation is safely resumable: run
    it again from the start, or from the last batch reported, after an interruption. An operator's
    command (``manage.py rotate_personal_keys``), not a user's act: it changes no visible value.
    A value no key can decrypt stops the rotation naming the resident's id, before anything of
    its batch is written.
    """
    current = Fernet(settings.DATA_KEYS[0].encode())
    every_key = data_fernet()
    table = connection.ops.quote_name(Resident._meta.db_table)
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT id, id_card, id_card_hash FROM {table} WHERE id > %s ORDER BY id LIMIT %s{lock}",
                [after_pk, batch_size],
            )
            rows = cursor.fetchall()
        rewritten = 0
        for pk, token, digest in rows:
            try:
                plain = every_key.decrypt(token.encode()).decode()
            except InvalidToken as exc:
                raise ValidationError(
                    _("The ID-card number of resident %(id)d cannot be decrypted with any key of WANGGE_DATA_KEYS.")
                    % {"id": pk}
                ) from exc
            new_digest = id_card_hash(plain)
            try:
                current.decrypt(token.encode())
                encrypted_now = True
            except InvalidToken:
                encrypted_now = False
            if encrypted_now and digest == new_digest:
                continue
            Resident.objects.filter(pk=pk).update(id_card=plain, id_card_hash=new_digest)
            rewritten += 1
    return RotationBatch(examined=len(rows), rewritten=rewritten, last_pk=rows[-1][0] if rows else after_pk)
