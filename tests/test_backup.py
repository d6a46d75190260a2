"""Backup and restore as the README documents them: pg_dump a seeded database, pg_restore it into a
fresh one, and find the same rows, a clean chain, and the ID-card numbers still readable."""

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from django.core.management import call_command
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent
TABLES = (
    "parties_organization",
    "parties_member",
    "grids_grid",
    "grids_household",
    "grids_resident",
    "petitions_petition",
    "petitions_petitionevent",
    "governance_user",
    "grids_historicalresident",
)


def counts(conninfo: str) -> dict[str, int]:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}  # type: ignore[index]


@pytest.fixture
def restored_name(needs_postgres: None) -> Iterator[str]:
    name = f"{connection.settings_dict['NAME']}_restored"
    yield name
    admin = _conninfo("postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _conninfo(dbname: str) -> str:
    db = connection.settings_dict
    return f"host={db['HOST']} port={db['PORT']} user={db['USER']} dbname={dbname}"


def _env() -> dict[str, str]:
    db = connection.settings_dict
    return {**os.environ, "PGHOST": str(db["HOST"]), "PGPORT": str(db["PORT"]), "PGUSER": str(db["USER"])}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_dump_restores_into_a_fresh_database_with_the_same_data(restored_name: str, tmp_path: Path) -> None:
    # Without the twelve weeks of petitions: the district, its accounts and dozens of petitions are
    # rows enough to dump and restore, in a quarter of the time.
    call_command("seed_demo", "--password", "backup-test-1", "--no-history", verbosity=0)
    source = connection.settings_dict["NAME"]
    before = counts(_conninfo(source))
    assert before["grids_resident"] > 0 and before["petitions_petition"] > 0

    dump = tmp_path / "wangge.dump"
    # The README's commands: a custom-format dump, restored with no owner into an empty database.
    subprocess.run(["pg_dump", "--format=custom", "--file", str(dump), source], env=_env(), check=True, timeout=300)
    subprocess.run(["createdb", restored_name], env=_env(), check=True, timeout=60)
    subprocess.run(
        ["pg_restore", "--no-owner", "--exit-on-error", "--dbname", restored_name, str(dump)],
        env=_env(),
        check=True,
        timeout=300,
    )

    assert counts(_conninfo(restored_name)) == before
    db = connection.settings_dict
    env = {**os.environ, "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{restored_name}"}
    checked = subprocess.run(
        [sys.executable, "manage.py", "check_chain"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert checked.returncode == 0, checked.stderr
    assert "chain OK" in checked.stdout
    # With the installation's keys, the restored ID-card numbers still read (and still look like ID numbers).
    read = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c",
         "from grids.models import Resident; from grids.identity import is_valid_id_card; "
         "print(all(is_valid_id_card(r.id_card) for r in Resident.objects.all()[:50]))"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert read.stdout.strip().endswith("True"), read.stderr
