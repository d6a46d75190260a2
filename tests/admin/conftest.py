"""The admin's modules share one seeded demo district: seeding it takes half a minute, and their tests
only read it (each test's own writes roll back with the test)."""

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import transaction
from django.test import Client

from governance.demo.seed import seed_demo
from governance.models import User

PASSWORD = "demo-pages-pw-1"


@pytest.fixture(scope="package")
def seeded(django_db_setup: Any, django_db_blocker: Any) -> Iterator[None]:
    """The small demo district, seeded once for this package and rolled back after its last test."""
    with django_db_blocker.unblock(), transaction.atomic():
        seed_demo(password=PASSWORD, size="small", log=lambda _message: None)
        yield
        transaction.set_rollback(True)


@pytest.fixture
def superuser_client(seeded: None, db: None, client: Client) -> Client:
    user = User.objects.get(username="admin")
    assert user.is_superuser
    client.force_login(user)
    return client
