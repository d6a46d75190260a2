"""Production mode: its own secrets or no start, `check --deploy` clean, keys generated for the embedded default.

Each case runs ``manage.py`` in a fresh process with exactly the environment an operator would set
(the environment table in the README), as the district's servers would.
"""

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]


def documented_env() -> dict[str, str]:
    """deploy/wangge.env.example, the file the README tells operators to fill in."""
    values: dict[str, str] = {}
    for line in (ROOT / "deploy" / "wangge.env.example").read_text().splitlines():
        line = line.split(" #", 1)[0].strip()
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            values[name.strip()] = value.strip()
    return values


def production_env(tmp_path: Path, **overrides: str | None) -> dict[str, str]:
    """The documented production environment, its secrets generated, with ``overrides`` (None removes one)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "WANGGE_", "DATABASE_", "REDIS_"))}
    env.update(documented_env())
    env.update(
        WANGGE_VAR_DIR=str(tmp_path / "var"),
        DJANGO_SECRET_KEY="s" * 20 + Fernet.generate_key().decode(),
        WANGGE_DATA_KEYS=Fernet.generate_key().decode(),
        WANGGE_ID_HASH_KEYS="h" * 10 + Fernet.generate_key().decode(),
        DJANGO_SETTINGS_MODULE="governance.settings",
    )
    for name, value in overrides.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def test_the_documented_environment_names_every_secret_and_production_mode() -> None:
    documented = documented_env()
    assert documented["WANGGE_ENV"] == "production"
    for name in ("DJANGO_SECRET_KEY", "WANGGE_DATA_KEYS", "WANGGE_ID_HASH_KEYS", "WANGGE_TRUSTED_PROXIES"):
        assert name in documented
        assert name in (ROOT / "README.md").read_text()


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_check_deploy_prints_no_warning_with_the_documented_environment(tmp_path: Path) -> None:
    done = manage(production_env(tmp_path), "check", "--deploy", "--fail-level", "WARNING")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "System check identified no issues" in done.stdout
    assert "WARNING" not in done.stderr


@pytest.mark.parametrize(
    "variable", ["DJANGO_SECRET_KEY", "WANGGE_DATA_KEYS", "WANGGE_ID_HASH_KEYS", "DJANGO_ALLOWED_HOSTS"]
)
def test_production_refuses_to_start_without_each_secret_naming_it(tmp_path: Path, variable: str) -> None:
    done = manage(production_env(tmp_path, **{variable: None}), "check")
    assert done.returncode != 0
    assert variable in done.stderr
    # Nothing was generated in its place.
    assert not (tmp_path / "var" / "keys").exists()


def test_production_refuses_a_hash_key_equal_to_the_secret_key(tmp_path: Path) -> None:
    key = "k" * 50
    done = manage(production_env(tmp_path, DJANGO_SECRET_KEY=key, WANGGE_ID_HASH_KEYS=key), "check")
    assert done.returncode != 0
    assert "WANGGE_ID_HASH_KEYS" in done.stderr


def test_production_refuses_a_data_key_that_is_not_a_fernet_key(tmp_path: Path) -> None:
    done = manage(production_env(tmp_path, WANGGE_DATA_KEYS="wangge-resident-data"), "check")
    assert done.returncode != 0
    assert "WANGGE_DATA_KEYS" in done.stderr


def _print_keys(env: dict[str, str]) -> list[str]:
    code = "from django.conf import settings as s; print(s.SECRET_KEY); print(s.DATA_KEYS[0]); print(s.ID_HASH_KEYS[0])"
    done = manage(env, "shell", "-c", code)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()[-3:]


def test_the_embedded_default_generates_its_own_private_keys_once(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "WANGGE_"))}
    first = _print_keys({**env, "WANGGE_VAR_DIR": str(tmp_path / "a")})
    again = _print_keys({**env, "WANGGE_VAR_DIR": str(tmp_path / "a")})
    other = _print_keys({**env, "WANGGE_VAR_DIR": str(tmp_path / "b")})

    assert first == again  # kept: the data encrypted yesterday still decrypts
    assert all(a != b for a, b in zip(first, other, strict=True))  # random per installation
    assert len(set(first)) == 3  # three separate secrets
    assert "wangge-embedded-default" not in " ".join(first)
    keys = tmp_path / "a" / "keys"
    assert stat.S_IMODE(keys.stat().st_mode) == 0o700
    for name in ("secret_key", "data_keys", "id_hash_keys"):
        assert stat.S_IMODE((keys / name).stat().st_mode) == 0o600
