"""The installation's secrets: Django's ``SECRET_KEY`` and the personal-data keys, read by settings.

Three secrets, each from its own variable, none derived from another:

- ``DJANGO_SECRET_KEY``: sessions, CSRF, password reset tokens.
- ``WANGGE_DATA_KEYS``: Fernet keys that encrypt residents' ID-card numbers, comma-separated. The
  first encrypts; every key decrypts, so a key is rotated by putting the new one first and running
  ``manage.py rotate_personal_keys``, then dropping the old one.
- ``WANGGE_ID_HASH_KEYS``: keys of the keyed hash (HMAC-SHA256) that finds a resident by ID-card
  number without decrypting; first is current, the others still match until the rotation is done.

Upgrading from the releases that derived the data key from ``SECRET_KEY``: set
``WANGGE_LEGACY_SECRET_KEY`` to the old ``DJANGO_SECRET_KEY`` (and ``WANGGE_SALT_KEY`` if it was set)
and ``WANGGE_LEGACY_ID_HASH_KEY`` to the old hash key (the old ``WANGGE_ID_HASH_KEY``, else the old
secret key); old values then still decrypt and match, decrypt-only, until ``rotate_personal_keys``
has rewritten them; then unset both. Outside production the old embedded constant is such a legacy
key by default (it is public: it protects nothing, but lets an existing ``var/`` be rotated).

In production (``WANGGE_ENV=production``) each must be set, or the process refuses to start naming
the variable. Otherwise (the embedded default, development, tests) a variable left unset is read
from ``var/keys/<name>``, generated at random on first use (mode 0600): never a constant.

Settings import this module, so it imports nothing from Django's apps.
"""

import os
import secrets
from pathlib import Path

from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

PRODUCTION_VALUES = ("production", "prod")
# What earlier releases used when DJANGO_SECRET_KEY was unset, and their default salt.
OLD_EMBEDDED_SECRET = "wangge-embedded-default-not-for-production"
OLD_SALT = "wangge-resident-data"


class MissingKey(ImproperlyConfigured):
    pass


def is_production(environ: dict[str, str] | os._Environ[str] = os.environ) -> bool:
    return environ.get("WANGGE_ENV", "").strip().lower() in PRODUCTION_VALUES


def _generated(key_dir: Path, name: str, make: "type[Fernet] | None") -> str:
    """The key stored in ``key_dir/name``, created at random (mode 0600) when it is not there yet.

    Two processes starting at once (web and worker) agree: the key is written to a private temporary
    file and linked into place, which fails if the other was first; then both read the winner's.
    """
    path = key_dir / name
    if not path.exists():
        key_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(key_dir, 0o700)
        value = make.generate_key().decode() if make is not None else secrets.token_urlsafe(50)
        tmp = key_dir / f".{name}.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(value + "\n")
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return path.read_text().strip()


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def load(var_dir: Path, environ: dict[str, str] | os._Environ[str] = os.environ) -> dict[str, object]:
    """``SECRET_KEY``, ``DATA_KEYS`` (Fernet keys, current first) and ``ID_HASH_KEYS`` (current first)."""
    production = is_production(environ)
    key_dir = var_dir / "keys"

    def read(variable: str, file_name: str, make: "type[Fernet] | None") -> str:
        value = environ.get(variable, "").strip()
        if value:
            return value
        if production:
            raise MissingKey(
                f"{variable} is not set. In production (WANGGE_ENV=production) set it to a key of this "
                f"installation's own; see the README's environment table."
            )
        return _generated(key_dir, file_name, make)

    secret_key = read("DJANGO_SECRET_KEY", "secret_key", None)
    data_keys = _split(read("WANGGE_DATA_KEYS", "data_keys", Fernet))
    for key in data_keys:
        try:
            Fernet(key.encode())
        except ValueError as exc:
            raise ImproperlyConfigured(
                "WANGGE_DATA_KEYS must be Fernet keys (32 url-safe base64-encoded bytes), comma-separated: "
                "generate one with `python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())'`."
            ) from exc
    hash_keys = _split(read("WANGGE_ID_HASH_KEYS", "id_hash_keys", None))
    if production:
        for variable, value in (("DJANGO_SECRET_KEY", secret_key), *(("WANGGE_ID_HASH_KEYS", k) for k in hash_keys)):
            if len(value) < 32:
                raise MissingKey(f"{variable} is too short: use at least 32 random characters.")
        if secret_key in hash_keys:
            raise MissingKey("WANGGE_ID_HASH_KEYS must not repeat DJANGO_SECRET_KEY: each secret is separate.")
    legacy_secret = environ.get("WANGGE_LEGACY_SECRET_KEY", "").strip() or ("" if production else OLD_EMBEDDED_SECRET)
    legacy_data: list[str] = []
    if legacy_secret:
        salts = _split(environ.get("WANGGE_SALT_KEY", "")) or [OLD_SALT]
        legacy_data = [legacy_fernet_key(legacy_secret, salt) for salt in salts]
        legacy_hash = environ.get("WANGGE_LEGACY_ID_HASH_KEY", "").strip() or legacy_secret
        hash_keys = [*hash_keys, legacy_hash]
    return {
        "SECRET_KEY": secret_key,
        "DATA_KEYS": data_keys + legacy_data,
        "ID_HASH_KEYS": hash_keys,
    }


def legacy_fernet_key(secret: str, salt: str) -> str:
    """The key django-fernet-encrypted-fields derived from ``SECRET_KEY`` and a salt (earlier releases)."""
    import base64

    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

    kdf = PBKDF2HMAC(algorithm=hashes.SHA256(), length=32, salt=salt.encode(), iterations=100_000)
    return base64.urlsafe_b64encode(kdf.derive(secret.encode())).decode()
