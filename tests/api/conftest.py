"""API test helpers: a client signed in with a user's token, and the row counts that must not move."""

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from petitions.models import FollowUp, Petition, PetitionEvent

from ..conftest import World


def token_client(user: Any) -> APIClient:
    token, _ = Token.objects.get_or_create(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture
def as_user() -> Callable[[Any], APIClient]:
    return token_client


def row_counts() -> tuple[int, int, int]:
    return Petition.objects.count(), PetitionEvent.objects.count(), FollowUp.objects.count()


def petition_body(world: World, **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "grid": world.grid.code,
        "category": world.category.code,
        "title": "楼顶漏水",
        "description": "三楼卫生间漏水，已影响二楼",
        "priority": "normal",
        "reporter_name": "王秀英",
        "reporter_phone": "13812345678",
    }
    body.update(fields)
    return body
