"""Residents' identifiers: validation (GB 11643 check digit, mainland mobile numbers), masking, keyed hash."""

import hashlib
import hmac
import re

from django.conf import settings

from governance.masking import mask_name  # noqa: F401  (names are masked one way in every app)

PHONE_RE = re.compile(r"^1[3-9]\d{9}$")
ID_CARD_RE = re.compile(r"^\d{17}[\dX]$")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def is_valid_phone(value: str) -> bool:
    return bool(PHONE_RE.match(value))


def normalise_id_card(value: str) -> str:
    return value.strip().upper()


def is_valid_id_card(value: str) -> bool:
    """An 18-digit resident ID-card number with a correct GB 11643 check digit."""
    value = normalise_id_card(value)
    if not ID_CARD_RE.match(value):
        return False
    total = sum(int(d) * w for d, w in zip(value[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == value[17]


def id_card_check_digit(first17: str) -> str:
    total = sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def id_card_hash(value: str, key: str | None = None) -> str:
    """Keyed hash (HMAC-SHA256) of a normalised ID-card number under the current key, for look-up and duplicates."""
    secret = (key if key is not None else settings.ID_HASH_KEYS[0]).encode()
    return hmac.new(secret, normalise_id_card(value).encode(), hashlib.sha256).hexdigest()


def id_card_hashes(value: str) -> list[str]:
    """The number's hash under every ``ID_HASH_KEYS`` key, current first: what a look-up must match
    while ``rotate_personal_keys`` has not yet re-hashed every resident."""
    return [id_card_hash(value, key) for key in settings.ID_HASH_KEYS]


def mask_phone(value: str | None) -> str:
    """138****5678."""
    if not value:
        return ""
    if len(value) < 7:
        return "*" * len(value)
    return f"{value[:3]}****{value[-4:]}"


def mask_id_card(value: str | None) -> str:
    """110105********1234."""
    if not value:
        return ""
    if len(value) < 10:
        return "*" * len(value)
    return f"{value[:6]}{'*' * (len(value) - 10)}{value[-4:]}"
