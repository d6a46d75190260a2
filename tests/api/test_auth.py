"""Signing in for a token, 401 without credentials, revoked and deactivated tokens, axes lockouts."""

from typing import Any

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from ..conftest import World
from ..factories import PASSWORD
from .conftest import token_client

TOKEN_URL = "/api/v1/auth/token/"


def sign_in(username: str, password: str, address: str = "10.0.0.1") -> tuple[int, dict, Any]:
    client = APIClient()
    response = client.post(TOKEN_URL, {"username": username, "password": password}, format="json", REMOTE_ADDR=address)
    return response.status_code, response.json(), response


@pytest.mark.django_db
class TestToken:
    def test_a_good_password_gives_the_users_token_and_it_works(self, world: World) -> None:
        status, body, _ = sign_in("worker", PASSWORD)
        assert status == 200
        assert body["token"] == Token.objects.get(user=world.worker).key
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {body['token']}")
        assert client.get("/api/v1/grids/").status_code == 200
        # Signing in again gives the same token.
        assert sign_in("worker", PASSWORD)[1]["token"] == body["token"]

    def test_a_wrong_password_is_400_and_gives_no_token(self, world: World) -> None:
        status, body, _ = sign_in("worker", "wrong")
        assert status == 400
        assert body["non_field_errors"]
        assert not Token.objects.filter(user=world.worker).exists()

    def test_missing_fields_are_named(self, world: World) -> None:
        response = APIClient().post(TOKEN_URL, {"username": "worker"}, format="json")
        assert response.status_code == 400
        assert set(response.json()) == {"password"}

    def test_a_deactivated_user_cannot_get_a_token(self, world: World) -> None:
        world.worker.is_active = False
        world.worker.save()
        assert sign_in("worker", PASSWORD)[0] == 400


@pytest.mark.django_db
class TestCredentials:
    def test_without_credentials_every_endpoint_answers_401_with_the_scheme(self, world: World) -> None:
        client = APIClient()
        for method, url in [
            ("get", "/api/v1/chain/"),
            ("get", "/api/v1/grids/"),
            ("get", "/api/v1/categories/"),
            ("get", "/api/v1/departments/"),
            ("get", "/api/v1/petitions/"),
            ("post", "/api/v1/petitions/"),
            ("get", "/api/v1/petitions/1/"),
            ("post", "/api/v1/petitions/1/dispatch/"),
            ("post", "/api/v1/petitions/1/accept/"),
            ("post", "/api/v1/petitions/1/return/"),
            ("post", "/api/v1/petitions/1/resolve/"),
            ("post", "/api/v1/petitions/1/follow-up/"),
            ("post", "/api/v1/petitions/1/cancel/"),
            ("get", "/api/v1/dashboard/"),
        ]:
            response = getattr(client, method)(url, {}, format="json") if method == "post" else client.get(url)
            assert response.status_code == 401, url
            assert response["WWW-Authenticate"] == "Token", url
            assert "detail" in response.json()

    def test_an_unknown_token_is_401(self, world: World) -> None:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION="Token " + "0" * 40)
        assert client.get("/api/v1/grids/").status_code == 401

    def test_a_revoked_token_stops_working(self, world: World) -> None:
        client = token_client(world.worker)
        assert client.get("/api/v1/grids/").status_code == 200
        Token.objects.filter(user=world.worker).delete()  # what "delete" in the admin does
        assert client.get("/api/v1/grids/").status_code == 401

    def test_a_deactivated_users_token_stops_working_at_once(self, world: World) -> None:
        client = token_client(world.worker)
        assert client.get("/api/v1/petitions/").status_code == 200
        world.worker.is_active = False
        world.worker.save(update_fields=["is_active"])
        response = client.get("/api/v1/petitions/")
        assert response.status_code == 401
        assert client.post("/api/v1/petitions/", {}, format="json").status_code == 401


@pytest.fixture
def three_failures(settings: object) -> None:
    settings.SIGNIN_FAILURES_PER_ACCOUNT = 3  # type: ignore[attr-defined]


@pytest.mark.django_db
@pytest.mark.usefixtures("three_failures")
class TestLockout:
    def test_failures_lock_that_username_from_that_address_only(self, world: World) -> None:
        assert sign_in("worker", "wrong-1")[0] == 400
        assert sign_in("worker", "wrong-2")[0] == 400
        status, body, response = sign_in("worker", "wrong-3")
        assert status == 429
        assert body["detail"]
        assert int(response["Retry-After"]) > 0

        # Locked: even the right password from that address.
        status, body, response = sign_in("worker", PASSWORD)
        assert status == 429
        assert response["Content-Type"] == "application/json"
        assert int(response["Retry-After"]) > 0
        assert not Token.objects.filter(user=world.worker).exists()

        # Not locked: another user from the same address, the same user from another address.
        assert sign_in("official", PASSWORD)[0] == 200
        assert sign_in("worker", PASSWORD, address="10.0.0.2")[0] == 200

    def test_a_success_before_the_limit_resets_the_count(self, world: World) -> None:
        assert sign_in("worker", "wrong-1")[0] == 400
        assert sign_in("worker", "wrong-2")[0] == 400
        assert sign_in("worker", PASSWORD)[0] == 200
        assert sign_in("worker", "wrong-3")[0] == 400
        assert sign_in("worker", "wrong-4")[0] == 400
        assert sign_in("worker", PASSWORD)[0] == 200
