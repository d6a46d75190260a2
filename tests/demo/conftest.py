"""The modules here share one seeded demo district (``demo_district``): seeding it takes half a
minute, and their tests only read it (each test's own writes roll back with the test)."""

from collections.abc import Iterator
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import Client

from governance.models import User

PASSWORD = "demo-pass-42"


def seed() -> str:
    """Run ``seed_demo`` as an administrator would; its output."""
    out = StringIO()
    call_command("seed_demo", "--password", PASSWORD, stdout=out)
    return out.getvalue()


@pytest.fixture(scope="package")
def demo_district(django_db_setup: Any, django_db_blocker: Any) -> Iterator[str]:
    """Seed once for the package, inside a transaction rolled back after its last test (each test
    nests in it); the command's output."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield seed()
        transaction.set_rollback(True)


@pytest.fixture
def superuser_client(demo_district: str, db: None, client: Client) -> Client:
    user = User.objects.get(username="admin")
    assert user.is_superuser
    client.force_login(user)
    return client
