"""Writes are throttled per token ('petition_write' rate): 429 with Retry-After; reads are not."""

import time
import uuid
from typing import Any

import pytest
import redis
from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.filebased import FileBasedCache
from django.core.cache.backends.redis import RedisCache
from django.test import override_settings

from ..conftest import World
from .conftest import petition_body, row_counts, token_client

LIST = "/api/v1/petitions/"


def low_rate(rate: str) -> Any:
    """A low write rate, counted in the real cache under a key prefix of this run's own."""
    # DRF reloads api_settings on setting_changed; WriteRateThrottle reads the rate per request.
    own_cache = {**settings.CACHES["default"], "KEY_PREFIX": f"test-{uuid.uuid4()}"}
    return override_settings(
        REST_FRAMEWORK={**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"petition_write": rate}},
        CACHES={"default": own_cache},
    )


@pytest.mark.django_db
def test_the_throttle_counts_in_the_real_cache(world: World) -> None:
    """The count lands in the configured cache, which every worker shares: Redis when REDIS_URL is set,
    else the file cache under var/ (never a process's own memory, where each worker would count alone)."""
    client = token_client(world.worker)
    with low_rate("2/day"):
        backend = caches["default"]
        assert type(backend) is (RedisCache if settings.REDIS_URL else FileBasedCache)
        window = int(time.time() // 86400)
        statuses = [client.post(LIST, petition_body(world), format="json").status_code for _ in range(3)]
        assert statuses == [201, 201, 429]
        key = f"throttle:petition_write:{world.worker.pk}:{window}"
        assert backend.get(key) == 3
        # A connection of its own, as another worker process opens, reads the same count.
        assert caches.create_connection("default").get(key) == 3
        if settings.REDIS_URL:
            # And Redis itself holds it, under the cache's key (prefix, version, key).
            raw = redis.Redis.from_url(settings.REDIS_URL).get(backend.make_and_validate_key(key))
            assert raw == b"3"


@pytest.mark.django_db
def test_writes_over_the_rate_are_429_with_retry_after_and_write_nothing(world: World) -> None:
    petition = world.petition()
    client = token_client(world.worker)
    with low_rate("3/day"):
        for _ in range(2):
            assert client.post(LIST, petition_body(world), format="json").status_code == 201
        # The steps count as writes too.
        assert client.post(f"{LIST}{petition.pk}/resolve/", {"result": "当场处理"}, format="json").status_code == 200
        before = row_counts()
        response = client.post(LIST, petition_body(world), format="json")
        assert response.status_code == 429
        assert response.json()["detail"]
        assert int(response["Retry-After"]) >= 1
        assert client.post(f"{LIST}{petition.pk}/cancel/", {"reason": "x"}, format="json").status_code == 429
        assert row_counts() == before
        # Reads are not throttled; another token has its own count.
        assert client.get(LIST).status_code == 200
        assert token_client(world.official).post(LIST, petition_body(world), format="json").status_code == 201


@pytest.mark.django_db
def test_the_default_rate_lets_a_hotline_burst_through(world: World) -> None:
    client = token_client(world.worker)
    statuses = {client.post(LIST, petition_body(world), format="json").status_code for _ in range(60)}
    assert statuses == {201}
