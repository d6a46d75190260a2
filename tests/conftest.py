"""A small world shared by the tests: two streets, grids, and one account of each role."""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import connection
from django.test import override_settings

from governance.models import Department, User
from grids.models import Grid
from parties.models import Kind, Organization
from petitions.models import Category, Petition

from .factories import CategoryFactory, DepartmentFactory, GridFactory, PetitionFactory, UserFactory, node


@dataclass
class World:
    street: Organization
    community: Organization
    branch: Organization
    grid: Grid
    other_grid_same_street: Grid
    other_street: Organization
    foreign_grid: Grid
    housing: Department
    police: Department
    category: Category
    worker: User
    official: User
    dept: User
    police_staff: User
    admin: User
    foreign_worker: User

    def petition(self, stage: str = "registered", **fields: Any) -> Petition:
        """A petition from ``PetitionFactory``, walked to ``stage`` by the world's people.

        The worker logs it on their grid, the official dispatches it to housing (or ``department``),
        and that department's staff (``dept``) take it on. Any of them, and any field, may be given.
        """
        department = fields.get("department", self.housing)
        staff = self.police_staff if department == self.police else self.dept
        defaults: dict[str, Any] = {
            "actor": self.worker,
            "grid": self.grid,
            "category": self.category,
            "official": self.official,
            "department": department,
            "dept": staff,
        }
        return PetitionFactory.create(stage=stage, **{**defaults, **fields})


@pytest.fixture(scope="session", autouse=True)
def cheap_password_hashing() -> Iterator[None]:
    """Accounts in tests use a fast hasher: real PBKDF2 costs about a second per account made or signed in.

    For the whole session, so module-scoped fixtures (the seeded demo district) hash cheaply too;
    the sign-in path is the same.
    """
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield


@pytest.fixture
def world(db: None) -> World:
    street = node(Kind.STREET, name="交通街道")
    community = node(Kind.COMMUNITY, street, name="磷肥厂社区")
    branch = node(Kind.GRID_BRANCH, community, name="磷肥厂社区第一网格党支部")
    branch2 = node(Kind.GRID_BRANCH, community, name="磷肥厂社区第二网格党支部")
    grid = GridFactory.create(branch=branch, name="磷肥厂社区第一网格")
    other = GridFactory.create(branch=branch2, name="磷肥厂社区第二网格")
    other_street = node(Kind.STREET, name="江边街道")
    foreign_branch = node(Kind.GRID_BRANCH, node(Kind.COMMUNITY, other_street, name="站江社区"))
    foreign_grid = GridFactory.create(branch=foreign_branch, name="站江社区第一网格")
    housing = DepartmentFactory.create(code="housing", name="区住房和城乡建设局")
    police = DepartmentFactory.create(code="police", name="区公安分局")
    category = CategoryFactory.create(code="roof-leak", name="房屋漏水", default_department=housing)
    return World(
        street=street,
        community=community,
        branch=branch,
        grid=grid,
        other_grid_same_street=other,
        other_street=other_street,
        foreign_grid=foreign_grid,
        housing=housing,
        police=police,
        category=category,
        worker=UserFactory.create(username="worker", role=User.Role.WORKER, scope_node=branch),
        official=UserFactory.create(username="official", role=User.Role.OFFICIAL, scope_node=street),
        dept=UserFactory.create(username="dept", role=User.Role.DEPARTMENT, department=housing),
        police_staff=UserFactory.create(username="police", role=User.Role.DEPARTMENT, department=police),
        admin=UserFactory.create(username="admin", role=User.Role.LEADER, is_superuser=True, is_staff=True),
        foreign_worker=UserFactory.create(username="foreign", role=User.Role.WORKER, scope_node=foreign_branch),
    )


@pytest.fixture
def needs_postgres() -> None:
    if connection.vendor != "postgresql":
        pytest.fail("this test needs PostgreSQL: set DATABASE_URL (make test does)")


@pytest.fixture
def needs_redis(settings: Any) -> str:
    """The Redis URL the project is configured with; without one the test fails, saying so (it never skips)."""
    if not settings.REDIS_URL:
        pytest.fail("this test needs Redis: set REDIS_URL (make test does)")
    url: str = settings.REDIS_URL
    return url
