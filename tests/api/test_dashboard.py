"""GET /api/v1/dashboard/: the figures of petitions.metrics for a node in the user's scope."""

import pytest

from ..conftest import World
from .conftest import register, token_client


@pytest.mark.django_db
class TestDashboard:
    def test_defaults_to_the_users_scope_and_the_last_30_days(self, world: World) -> None:
        register(world)
        body = token_client(world.official).get("/api/v1/dashboard/").json()
        assert set(body) == {
            "node", "since", "until", "totals", "rates", "children", "departments", "categories", "weekly",
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
        assert token_client(world.dept).get("/api/v1/dashboard/").status_code == 200
