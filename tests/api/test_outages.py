"""The API and the pages while Redis or PostgreSQL is away.

Redis: a private redis-server (never the shared one), stopped or hung with SIGSTOP; the write
throttle fails open within its socket timeout, so registering and a step still succeed, fast.
PostgreSQL: a TCP proxy in front of the real server, cut as a restart cuts connections; API
clients get JSON 503 with Retry-After and pages a short Chinese page, never Django's HTML 500.
"""

import logging
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client, override_settings
from rest_framework.test import APIClient

from petitions.models import Petition

from ..conftest import World
from ..support.faults import PrivateRedis, TcpProxy
from .conftest import petition_body, token_client

LIST = "/api/v1/petitions/"


@pytest.fixture
def private_redis_cache() -> Iterator[PrivateRedis]:
    with PrivateRedis() as server:
        cache = {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": server.url,
            "OPTIONS": {"socket_timeout": 0.3, "socket_connect_timeout": 0.3},
        }
        with override_settings(CACHES={"default": cache}):
            yield server


def _register_and_dispatch(world: World) -> tuple[float, float, int]:
    started = time.monotonic()
    created = token_client(world.worker).post(LIST, petition_body(world), format="json")
    registered = time.monotonic() - started
    assert created.status_code == 201, created.content
    started = time.monotonic()
    step = token_client(world.official).post(
        f"{LIST}{created.json()['id']}/dispatch/", {"department": world.housing.code}, format="json"
    )
    dispatched = time.monotonic() - started
    assert step.status_code == 200, step.content
    return registered, dispatched, created.json()["id"]


@pytest.mark.redis
@pytest.mark.django_db
@pytest.mark.parametrize("fault", ["stopped", "hung"])
def test_writes_succeed_within_a_second_with_redis_away(
    world: World, private_redis_cache: PrivateRedis, fault: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="governance.api.throttling")
    _register_and_dispatch(world)  # Redis up: the throttle counts
    if fault == "stopped":
        private_redis_cache.stop()
    else:
        private_redis_cache.hang()
    registered, dispatched, pk = _register_and_dispatch(world)
    assert registered < 1 and dispatched < 1, (registered, dispatched)
    assert Petition.objects.get(pk=pk).status == "dispatched"
    assert "write throttle unavailable" in caplog.text  # failing open is logged
    if fault == "hung":
        private_redis_cache.resume()


@pytest.fixture
def database_behind_proxy() -> Iterator[TcpProxy]:
    """The default connection goes through a proxy we can cut (the shared server keeps running)."""
    db = connection.settings_dict
    with TcpProxy(db["HOST"] or "127.0.0.1", int(db["PORT"] or 5432)) as proxy:
        original = db["HOST"], db["PORT"], db["CONN_HEALTH_CHECKS"]
        connection.close()
        db["HOST"], db["PORT"], db["CONN_HEALTH_CHECKS"] = "127.0.0.1", str(proxy.port), False
        try:
            yield proxy
        finally:
            connection.close()
            db["HOST"], db["PORT"], db["CONN_HEALTH_CHECKS"] = original


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_postgresql_restart_gives_503_with_retry_after_never_an_html_500(
    needs_postgres: None, world: World, database_behind_proxy: TcpProxy
) -> None:
    api = token_client(world.worker)
    api.raise_request_exception = False
    assert api.post(LIST, petition_body(world), format="json").status_code == 201
    page = Client(raise_request_exception=False)
    page.force_login(world.worker)
    assert page.get("/petitions/").status_code == 200

    database_behind_proxy.cut()  # PostgreSQL restarting: connections dropped, new ones refused
    with override_settings(DEBUG=False):
        for response in (
            api.post(LIST, petition_body(world), format="json"),
            api.get(LIST),
            APIClient(raise_request_exception=False).post(
                "/api/v1/auth/token/", {"username": "worker", "password": "x"}, format="json"
            ),
        ):
            assert response.status_code == 503
            assert response["Content-Type"] == "application/json"
            assert response["Retry-After"] == "5"
            assert "try again" in response.json()["detail"] or "稍后" in response.json()["detail"]
        html = page.get("/petitions/")
        assert html.status_code == 503 and html["Retry-After"] == "5"
        assert "请稍后再试" in html.content.decode()

    database_behind_proxy.restore()
    connection.close()
    assert api.post(LIST, petition_body(world), format="json").status_code == 201
    assert Petition.objects.count() == 2  # the acknowledged writes, and nothing from the outage


@pytest.mark.redis
def test_cache_and_broker_calls_have_socket_timeouts(needs_redis: str) -> None:
    options = settings.CACHES["default"]["OPTIONS"]
    assert options["socket_timeout"] < 1 and options["socket_connect_timeout"] < 1
    transport: dict[str, Any] = settings.CELERY_BROKER_TRANSPORT_OPTIONS
    assert transport["socket_timeout"] <= 5
