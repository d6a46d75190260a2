"""What a security review tries on the running application: sessions, tokens, headers, sign-in
lockout behind the reverse proxy, deep JSON, the health endpoint."""

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.hashers import identify_hasher
from django.core.cache import cache
from django.db import connection
from django.test import Client, override_settings
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from governance import health
from governance import settings as project_settings
from governance.middleware import SEEN_KEY, STARTED_KEY

from ..conftest import World
from ..factories import PASSWORD

ROOT = Path(__file__).resolve().parents[2]
TOKEN_URL = "/api/v1/auth/token/"
PROXY = "127.0.0.1"


def token_for(user: Any) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    return client


@pytest.mark.django_db
class TestSessionsAndTokens:
    def test_passwords_are_stored_with_argon2(self, world: World) -> None:
        with override_settings(PASSWORD_HASHERS=project_settings.PASSWORD_HASHERS):
            world.worker.set_password("a-new-password-42")
            world.worker.save()
            assert identify_hasher(world.worker.password).algorithm == "argon2"
            response = Client().post("/accounts/login/", {"username": "worker", "password": "a-new-password-42"})
            assert response.status_code == 302

    def test_a_changed_password_ends_every_session_and_token_at_once(self, world: World, client: Client) -> None:
        client.force_login(world.worker)
        api = token_for(world.worker)
        assert client.get("/petitions/").status_code == 200
        assert api.get("/api/v1/petitions/").status_code == 200

        world.worker.set_password("changed-by-the-admin-9")
        world.worker.save()

        assert client.get("/petitions/").status_code == 302  # back to the sign-in page
        assert api.get("/api/v1/petitions/").status_code == 401
        assert not Token.objects.filter(user=world.worker).exists()

    def test_a_deactivated_user_loses_sessions_and_tokens_at_once(self, world: World, client: Client) -> None:
        client.force_login(world.official)
        api = token_for(world.official)
        world.official.is_active = False
        world.official.save(update_fields=["is_active"])
        assert client.get("/petitions/").status_code == 302
        assert api.get("/api/v1/petitions/").status_code == 401

    def test_an_idle_session_ends(self, world: World, client: Client, settings: Any) -> None:
        settings.SESSION_IDLE_SECONDS = 600
        client.force_login(world.worker)
        assert client.get("/petitions/").status_code == 200
        session = client.session
        session[SEEN_KEY] = int(time.time()) - 601
        session.save()
        response = client.get("/petitions/")
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
        assert client.get("/petitions/").status_code == 302  # really signed out

    def test_an_active_session_still_ends_at_its_absolute_limit(
        self, world: World, client: Client, settings: Any
    ) -> None:
        settings.SESSION_COOKIE_AGE = 8 * 3600
        client.force_login(world.worker)
        session = client.session
        session[STARTED_KEY] = int(time.time()) - 8 * 3600 - 1
        session[SEEN_KEY] = int(time.time())  # used a second ago
        session.save()
        assert client.get("/petitions/").status_code == 302


@pytest.mark.django_db
class TestHeaders:
    def test_pages_with_personal_data_are_not_stored_by_caches(self, world: World, client: Client) -> None:
        petition = world.petition()
        client.force_login(world.worker)
        for url in ("/", "/petitions/", f"/petitions/{petition.pk}/", "/admin/"):
            assert "no-store" in client.get(url)["Cache-Control"], url
        assert "no-store" in token_for(world.worker).get("/api/v1/petitions/")["Cache-Control"]

    def test_the_content_security_policy_allows_no_inline_script_or_style(self, world: World, client: Client) -> None:
        client.force_login(world.worker)
        policy = client.get("/petitions/")["Content-Security-Policy"]
        directives = dict(d.strip().split(" ", 1) for d in policy.split(";") if d.strip())
        assert directives["script-src"] == "'self'"
        assert directives["style-src"] == "'self'"
        assert "unsafe-inline" not in policy and "http" not in policy
        assert directives["frame-ancestors"] == "'none'"

    def test_the_pages_carry_no_inline_script_or_style(self, world: World, client: Client) -> None:
        petition = world.petition()
        client.force_login(world.worker)
        for url in ("/", "/petitions/", f"/petitions/{petition.pk}/", "/petitions/new/", "/petitions/dashboard/"):
            page = client.get(url).content.decode()
            assert "<script>" not in page and "<style" not in page and ' style="' not in page, url
            assert " onchange=" not in page and " onclick=" not in page, url


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.django_db
class TestDeepJson:
    def test_a_deeply_nested_body_is_a_400_even_without_credentials(self) -> None:
        client = Client()
        for depth in (100, 100_000):
            response = client.post(TOKEN_URL, nested(depth), content_type="application/json")
            assert response.status_code == 400, depth
            assert "detail" in response.json()

    def test_a_deeply_nested_petition_body_is_a_400_and_saves_nothing(self, world: World) -> None:
        api = token_for(world.worker)
        body = '{"grid": ' + nested(50) + "}"
        response = api.generic("POST", "/api/v1/petitions/", body, content_type="application/json")
        assert response.status_code == 400
        assert not world.grid.petitions.exists()


def sign_in(
    username: str, password: str, *, via_proxy_for: str | None = None, direct: str = "10.9.9.9", **headers: str
) -> int:
    """POST the token sign-in: through the trusted reverse proxy for ``via_proxy_for``, or directly."""
    client = APIClient()
    meta: dict[str, Any] = dict(headers)
    if via_proxy_for is not None:
        meta.update(REMOTE_ADDR=PROXY, HTTP_X_REAL_IP=via_proxy_for)
    else:
        meta.setdefault("REMOTE_ADDR", direct)
    response = client.post(TOKEN_URL, {"username": username, "password": password}, format="json", **meta)
    return int(response.status_code)


@pytest.fixture
def behind_proxy(settings: Any) -> None:
    settings.TRUSTED_PROXIES = [PROXY]
    settings.SIGNIN_FAILURES_PER_ACCOUNT = 5
    settings.SIGNIN_FAILURES_PER_ADDRESS = 12


@pytest.mark.django_db
@pytest.mark.usefixtures("behind_proxy")
class TestLockoutBehindTheProxy:
    def test_an_attacker_hammering_an_account_does_not_lock_out_its_user(self, world: World) -> None:
        for n in range(8):
            assert sign_in("worker", f"guess-{n}", via_proxy_for="203.0.113.66") in (400, 429)
        assert sign_in("worker", PASSWORD, via_proxy_for="203.0.113.66") == 429
        # The real user, through the same proxy from their usual address, signs in.
        assert sign_in("worker", PASSWORD, via_proxy_for="10.20.30.40") == 200

    def test_a_client_not_behind_the_trusted_proxy_cannot_choose_its_address(self, world: World) -> None:
        # It sends X-Forwarded-For itself, naming a different address each time: all count as its own.
        for n in range(5):
            sign_in("worker", f"guess-{n}", direct="198.51.100.7", HTTP_X_REAL_IP=f"10.0.0.{n}")
        assert sign_in("worker", PASSWORD, direct="198.51.100.7", HTTP_X_REAL_IP="10.0.0.99") == 429
        assert sign_in("worker", PASSWORD, via_proxy_for="10.20.30.40") == 200

    def test_an_address_spraying_many_usernames_is_locked_for_all(self, world: World) -> None:
        for n in range(12):
            sign_in(f"someone-{n}", "guess", via_proxy_for="203.0.113.77")
        assert sign_in("official", PASSWORD, via_proxy_for="203.0.113.77") == 429
        assert sign_in("official", PASSWORD, via_proxy_for="10.20.30.41") == 200

    def test_the_sign_in_page_is_locked_the_same_way(self, world: World) -> None:
        client = Client(REMOTE_ADDR=PROXY, HTTP_X_REAL_IP="203.0.113.88")
        for n in range(5):
            client.post("/accounts/login/", {"username": "worker", "password": f"guess-{n}"})
        assert client.post("/accounts/login/", {"username": "worker", "password": PASSWORD}).status_code == 429
        user_client = Client(REMOTE_ADDR=PROXY, HTTP_X_REAL_IP="10.20.30.40")
        assert user_client.post("/accounts/login/", {"username": "worker", "password": PASSWORD}).status_code == 302


@pytest.mark.django_db
class TestHealth:
    @pytest.mark.redis
    def test_without_a_recent_heartbeat_beat_is_reported_failing(self, needs_redis: str) -> None:
        cache.delete(health.HEARTBEAT_KEY)
        response = Client().get("/healthz")
        assert response.status_code == 503
        assert response.json() == {
            "status": "fail",
            "checks": {"database": "ok", "cache": "ok", "broker": "ok", "beat": "fail"},
        }
        assert "no-store" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]

    @pytest.mark.postgres
    @pytest.mark.redis
    def test_a_real_beat_and_worker_make_it_healthy_and_it_says_nothing_else(
        self, needs_postgres: None, needs_redis: str, tmp_path: Path
    ) -> None:
        cache.delete(health.HEARTBEAT_KEY)
        db = connection.settings_dict
        env = {
            **os.environ,
            "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
            "REDIS_URL": needs_redis,
            "WANGGE_HEARTBEAT_SECONDS": "1",
        }
        celery = [sys.executable, "-m", "celery", "-A", "governance"]
        log = (tmp_path / "celery.log").open("w")
        proc = subprocess.Popen(
            [*celery, "worker", "--beat", "--schedule", str(tmp_path / "beat"), "--concurrency", "1", "-l", "INFO"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        try:
            deadline = time.monotonic() + 60
            response = Client().get("/healthz")
            while response.status_code != 200 and time.monotonic() < deadline:
                time.sleep(0.5)
                response = Client().get("/healthz")
        finally:
            proc.terminate()
            proc.wait(timeout=30)
        assert response.status_code == 200, (tmp_path / "celery.log").read_text()[-3000:]
        assert response.json() == {
            "status": "ok",
            "checks": {"database": "ok", "cache": "ok", "broker": "ok", "beat": "ok"},
        }

    @pytest.mark.redis
    def test_a_database_that_does_not_answer_is_reported(self, needs_redis: str) -> None:
        health.record_heartbeat()
        with override_settings(HEARTBEAT_MAX_AGE_SECONDS=3600):
            original = health._database
            health._database = lambda: False  # type: ignore[assignment]
            try:
                response = Client().get("/healthz")
            finally:
                health._database = original  # type: ignore[assignment]
        assert response.status_code == 503
        assert response.json()["checks"]["database"] == "fail"


@pytest.mark.django_db
def test_the_web_dashboard_refuses_an_absurd_period_quickly_naming_the_field(world: World, client: Client) -> None:
    client.force_login(world.official)
    started = time.monotonic()
    response = client.get("/petitions/dashboard/", {"since": "0001-01-01", "until": "9999-12-30"})
    assert response.status_code == 400
    assert time.monotonic() - started < 5
    assert set(response.context["errors"]) & {"since", "until"}  # the message is next to the field
