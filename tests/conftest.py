"""A small world shared by the tests: two streets, grids, and one account of each role."""

from dataclasses import dataclass
from typing import Any

import pytest
from django.db import connection

from governance.models import Department, User
from grids.models import Grid
from parties.models import Kind, Organization
from petitions.models import Category

from .factories import CategoryFactory, DepartmentFactory, GridFactory, UserFactory, node


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


@pytest.fixture(autouse=True)
def cheap_password_hashing(settings: Any) -> None:
    """Accounts in tests use a fast hasher: real PBKDF2 costs about a second per account made or signed in."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


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
