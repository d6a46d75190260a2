"""Text the database cannot store (a NUL character) is refused with a 400 naming the field, writing nothing."""

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from petitions.models import Petition

from ..conftest import World


def _client(world: World) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=world.worker)[0].key}")
    return client


@pytest.mark.django_db
@pytest.mark.parametrize("field", ["title", "description", "reporter_name"])
def test_a_nul_in_a_petitions_text_is_a_400_naming_the_field(world: World, field: str) -> None:
    body = {"grid": world.grid.code, "category": world.category.code, "title": "楼顶漏水", "description": "三楼漏水"}
    body[field] = "漏\x00水"
    response = _client(world).post("/api/v1/petitions/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not Petition.objects.exists()


@pytest.mark.django_db
def test_a_nul_in_the_search_is_a_400_naming_it(world: World) -> None:
    response = _client(world).get("/api/v1/petitions/", {"q": "漏\x00水"})
    assert response.status_code == 400
    assert "q" in response.json()
