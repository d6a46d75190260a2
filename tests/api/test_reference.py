"""The chain, grids, categories and departments: each role sees its scope, in the contract's fields."""

import pytest

from ..conftest import World
from ..factories import CategoryFactory, DepartmentFactory
from .conftest import token_client


def results(user: object, url: str) -> list[dict]:
    response = token_client(user).get(url)
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}
    return body["results"]


@pytest.mark.django_db
class TestChain:
    def test_nodes_carry_the_contract_fields(self, world: World) -> None:
        nodes = results(world.official, "/api/v1/chain/")
        assert nodes[0] == {
            "id": world.street.pk,
            "code": world.street.code,
            "name": world.street.name,
            "kind": "street",
            "parent": None,
        }

    def test_each_role_sees_its_own_part_of_the_chain(self, world: World) -> None:
        street_ids = {world.street.pk, world.community.pk, world.branch.pk}
        official = {n["id"] for n in results(world.official, "/api/v1/chain/")}
        assert street_ids <= official
        assert world.other_street.pk not in official
        assert {n["id"] for n in results(world.worker, "/api/v1/chain/")} == {world.branch.pk}
        assert results(world.dept, "/api/v1/chain/") == []
        admin = {n["id"] for n in results(world.admin, "/api/v1/chain/")}
        assert official | {world.other_street.pk} <= admin

    def test_parent_gives_the_children_in_scope(self, world: World) -> None:
        children = results(world.official, f"/api/v1/chain/?parent={world.community.pk}")
        assert {n["kind"] for n in children} == {"grid_branch"}
        assert world.branch.pk in {n["id"] for n in children}
        assert all(n["parent"] == world.community.pk for n in children)
        # Another street's node: nothing, as for a node that does not exist.
        assert results(world.official, f"/api/v1/chain/?parent={world.other_street.pk}") == []
        assert results(world.official, "/api/v1/chain/?parent=999999999") == []

    def test_a_parent_that_is_not_an_id_is_400_naming_it(self, world: World) -> None:
        response = token_client(world.official).get("/api/v1/chain/?parent=street")
        assert response.status_code == 400
        assert set(response.json()) == {"parent"}


@pytest.mark.django_db
class TestGrids:
    def test_each_role_sees_the_grids_in_its_scope(self, world: World) -> None:
        def codes(user: object) -> set[str]:
            return {g["code"] for g in results(user, "/api/v1/grids/")}

        assert codes(world.worker) == {world.grid.code}
        assert codes(world.official) == {world.grid.code, world.other_grid_same_street.code}
        assert codes(world.foreign_worker) == {world.foreign_grid.code}
        assert codes(world.dept) == set()
        assert codes(world.admin) >= {world.grid.code, world.other_grid_same_street.code, world.foreign_grid.code}

    def test_grid_fields(self, world: World) -> None:
        assert results(world.worker, "/api/v1/grids/") == [
            {"code": world.grid.code, "name": world.grid.name, "kind": "urban", "branch": world.branch.pk}
        ]

    def test_page_size_pages_and_is_checked(self, world: World) -> None:
        client = token_client(world.official)
        body = client.get("/api/v1/grids/?page_size=1").json()
        assert body["count"] == 2 and len(body["results"]) == 1 and body["next"]
        second = client.get(body["next"]).json()
        assert second["results"][0]["code"] != body["results"][0]["code"]
        for bad in ("0", "abc", "1001", "-1"):
            response = client.get(f"/api/v1/grids/?page_size={bad}")
            assert response.status_code == 400 and set(response.json()) == {"page_size"}, bad
        assert client.get("/api/v1/grids/?page=9").status_code == 404
        assert client.get("/api/v1/grids/?page=").status_code == 400


@pytest.mark.django_db
class TestReferenceData:
    def test_categories_in_use_for_everyone(self, world: World) -> None:
        CategoryFactory.create(code="old", is_active=False)
        for user in (world.worker, world.official, world.dept, world.admin):
            categories = results(user, "/api/v1/categories/")
            assert {c["code"] for c in categories} == {world.category.code}
        assert categories[0] == {
            "code": "roof-leak",
            "name": world.category.name,
            "service_area": "safety",
            "default_department": "housing",
        }

    def test_active_departments_for_everyone(self, world: World) -> None:
        DepartmentFactory.create(code="closed", is_active=False)
        for user in (world.worker, world.official, world.dept, world.admin):
            assert results(user, "/api/v1/departments/") == [
                {"code": "housing", "name": world.housing.name},
                {"code": "police", "name": world.police.name},
            ]
