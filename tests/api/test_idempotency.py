"""Idempotency-Key on POST /api/v1/petitions/: a retry gets the first answer and creates nothing."""

import datetime as dt
import threading
import uuid
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from petitions.models import IdempotencyKey, Petition

from ..conftest import World
from .conftest import petition_body, row_counts, token_client

LIST = "/api/v1/petitions/"


def create(user: Any, body: Any, key: str) -> Any:
    return token_client(user).post(LIST, body, format="json", HTTP_IDEMPOTENCY_KEY=key)


@pytest.mark.django_db
class TestReplay:
    def test_a_retry_gets_the_first_answer_and_creates_nothing(self, world: World) -> None:
        key = str(uuid.uuid4())
        first = create(world.worker, petition_body(world), key)
        assert first.status_code == 201
        before = row_counts()
        again = create(world.worker, petition_body(world), key)
        assert again.status_code == 201
        assert again.json() == first.json()
        assert again["Idempotent-Replayed"] == "true"
        assert row_counts() == before

    def test_the_body_is_compared_as_json_not_as_text(self, world: World) -> None:
        key = str(uuid.uuid4())
        body = petition_body(world)
        first = create(world.worker, body, key)
        reordered = dict(reversed(list(body.items())))
        client = token_client(world.worker)
        import json

        again = client.post(
            LIST, json.dumps(reordered, indent=2), content_type="application/json", HTTP_IDEMPOTENCY_KEY=key
        )
        assert again.status_code == 201 and again.json()["id"] == first.json()["id"]

    def test_the_same_key_with_another_body_is_422_and_creates_nothing(self, world: World) -> None:
        key = str(uuid.uuid4())
        create(world.worker, petition_body(world), key)
        before = row_counts()
        response = create(world.worker, petition_body(world, title="另一件事"), key)
        assert response.status_code == 422
        assert response.json()["detail"]
        assert row_counts() == before

    def test_keys_are_per_user(self, world: World) -> None:
        key = str(uuid.uuid4())
        mine = create(world.worker, petition_body(world), key).json()
        theirs = create(world.official, petition_body(world), key)
        assert theirs.status_code == 201
        assert theirs.json()["id"] != mine["id"]

    def test_a_refused_request_leaves_no_key_so_the_corrected_retry_works(self, world: World) -> None:
        key = str(uuid.uuid4())
        assert create(world.worker, petition_body(world, reporter_phone="123"), key).status_code == 400
        assert not IdempotencyKey.objects.filter(key=key).exists()
        assert create(world.worker, petition_body(world), key).status_code == 201

    def test_without_a_key_each_request_creates(self, world: World) -> None:
        client = token_client(world.worker)
        client.post(LIST, petition_body(world), format="json")
        client.post(LIST, petition_body(world), format="json")
        assert Petition.objects.count() == 2

    @pytest.mark.parametrize("key", ["", "k" * 256])
    def test_a_key_out_of_bounds_is_400_naming_the_header(self, world: World, key: str) -> None:
        before = row_counts()
        response = create(world.worker, petition_body(world), key)
        assert response.status_code == 400
        assert "Idempotency-Key" in response.json()
        assert row_counts() == before


@pytest.mark.django_db
def test_keys_are_kept_a_day_and_purged_after(world: World) -> None:
    now = timezone.now()
    for key, hours in (("fresh", 1), ("day-old", 23), ("old", 25)):
        IdempotencyKey.objects.create(
            user=world.worker, key=key, fingerprint="x", created_at=now - dt.timedelta(hours=hours)
        )
    # Asking for less than a day still keeps a day.
    call_command("purge_idempotency_keys", "--hours", "1")
    assert set(IdempotencyKey.objects.values_list("key", flat=True)) == {"fresh", "day-old"}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_ten_concurrent_retries_with_one_key_create_exactly_one_petition(world: World, needs_postgres: None) -> None:
    key = str(uuid.uuid4())
    body = petition_body(world)
    clients = [token_client(world.worker) for _ in range(10)]
    start = threading.Barrier(len(clients))
    answers: list[tuple[int, Any]] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def retry(client: Any) -> None:
        try:
            start.wait()
            response = client.post(LIST, body, format="json", HTTP_IDEMPOTENCY_KEY=key)
            with lock:
                answers.append((response.status_code, response.json()))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()  # each thread had its own connection

    threads = [threading.Thread(target=retry, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    assert len(answers) == 10
    assert {status for status, _ in answers} == {201}
    assert len({body["id"] for _, body in answers}) == 1
    assert Petition.objects.count() == 1
    assert IdempotencyKey.objects.filter(key=key).count() == 1
