"""The encrypted field for residents' personal data, keyed by ``DATA_KEYS`` alone (not ``SECRET_KEY``).

django-fernet-encrypted-fields derives its keys from ``SECRET_KEY`` and a salt, which would tie the
residents' data to the session key and make both fall together. Here the Fernet keys are the
installation's ``DATA_KEYS`` (``governance.keys``): the first encrypts, every one decrypts.
"""

from cryptography.fernet import Fernet, MultiFernet
from django.conf import settings
from encrypted_fields.fields import EncryptedCharField


def data_fernet() -> MultiFernet:
    """The installation's personal-data keys, current first, as one MultiFernet."""
    keys = tuple(settings.DATA_KEYS)
    cached = _CACHE.get(keys)
    if cached is None:
        cached = _CACHE[keys] = MultiFernet([Fernet(key.encode()) for key in keys])
    return cached


_CACHE: dict[tuple[str, ...], MultiFernet] = {}


class PersonalDataField(EncryptedCharField):
    """A CharField stored encrypted under the current ``DATA_KEYS`` key."""

    _pyi_private_set_type: str
    _pyi_private_get_type: str

    @property  # type: ignore[override]
    def f(self) -> MultiFernet:
        return data_fernet()
