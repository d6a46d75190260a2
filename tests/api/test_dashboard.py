"""GET /api/v1/dashboard/: the figures of petitions.metrics for a node in the user's scope."""

import pytest

from ..conftest import World
from .conftest import token_client


@pytest.mark.django_db
class TestDashboard:
    def test_defaults_to_the_users_scope_and_the_last_30_days(self, world: World) -> None:
        world.petition()
        body = token_client(world.official).get("/api/v1/dashboard/").json()
        assert set(body) == {
            "node", "since", "until", "totals", "rates", "children", "departments", "categories", "weekly",
            "previous", "grid", "trail", "status_by_area", "channels", "overdue_list", "warnings", "workers", "as_of",
        }
        assert body["node"]["id"] == world.street.pk
        assert body["totals"]["registered"] == 1
        assert [c["id"] for c in body["children"]] == [world.community.pk]

    def test_a_node_and_a_period(self, world: World) -> None:
        body = token_client(world.official).get(
            f"/api/v1/dashboard/?node={world.community.pk}&since=2025-01-01&until=2025-03-31"
        ).json()
        assert (body["node"]["id"], body["since"], body["until"]) == (world.community.pk, "2025-01-01", "2025-03-31")
        assert len(body["weekly"]) == 14

    def test_a_grid_and_a_preset_period(self, world: World) -> None:
        world.petition()
        body = token_client(world.official).get(f"/api/v1/dashboard/?grid={world.grid.pk}&period=month").json()
        assert body["grid"]["code"] == world.grid.code and body["children"] == []
        assert body["since"].endswith("-01") and body["totals"]["registered"] == 1
        assert [n["id"] for n in body["trail"]] == [world.street.pk, world.community.pk, world.branch.pk]
        refused = token_client(world.official).get("/api/v1/dashboard/?period=decade")
        assert refused.status_code == 400 and "period" in refused.json()
        outside = token_client(world.official).get(f"/api/v1/dashboard/?grid={world.foreign_grid.pk}")
        assert outside.status_code == 404

    def test_a_node_outside_the_scope_is_404_like_a_missing_one(self, world: World) -> None:
        client = token_client(world.official)
        outside = client.get(f"/api/v1/dashboard/?node={world.other_street.pk}")
        missing = client.get("/api/v1/dashboard/?node=999999999")
        assert outside.status_code == missing.status_code == 404
        assert outside.json() == missing.json()

    @pytest.mark.parametrize(
        ("query", "field"),
        [
            ("since=yesterday", "since"),
            ("until=2025-02-30", "until"),
            ("node=x", "node"),
            ("since=2025-03-01&until=2025-01-01", "until"),
            ("since=1990-01-01&until=2025-01-01", "since"),
            ("until=0001-01-01", "until"),
            ("since=9999-12-31&until=9999-12-31", "since"),
        ],
    )
    def test_bad_parameters_are_400_naming_them(self, world: World, query: str, field: str) -> None:
        response = token_client(world.official).get(f"/api/v1/dashboard/?{query}")
        assert response.status_code == 400
        assert field in response.json()

    def test_department_staff_see_their_department(self, world: World) -> None:
        """Their department's petitions across the whole district, street by street, and nothing else."""
        world.petition(stage="dispatched")  # housing, on the worker's street
        world.petition(
            stage="dispatched", grid=world.foreign_grid, actor=world.foreign_worker, official=world.admin
        )  # housing, on the other street
        world.petition(stage="dispatched", department=world.police)  # police, on the worker's street
        world.petition()  # with no department yet
        cases = (
            (world.dept, world.housing, {world.street.code: 1, world.other_street.code: 1}),
            # Only the streets where the department has petitions: not a row for every street.
            (world.police_staff, world.police, {world.street.code: 1}),
        )
        for user, department, by_street in cases:
            client = token_client(user)
            response = client.get("/api/v1/dashboard/")
            assert response.status_code == 200
            body = response.json()
            mine = sum(by_street.values())
            assert body["node"] == {"id": None, "code": None, "name": department.name, "kind": None}
            assert (body["totals"]["registered"], body["totals"]["dispatched"]) == (mine, mine)
            assert [(d["code"], d["totals"]["dispatched"]) for d in body["departments"]] == [(department.code, mine)]
            assert {c["code"]: c["totals"]["registered"] for c in body["children"]} == by_street
            # No drilling into the chain: a street answers like a missing node.
            assert client.get(f"/api/v1/dashboard/?node={world.street.pk}").status_code == 404
