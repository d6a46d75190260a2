"""Factories for a small world: a street tree with a community, grid branches, grids and people."""

import itertools

import factory
from django.contrib.auth.hashers import make_password

from governance.models import Department, User
from grids.identity import id_card_check_digit, id_card_hash
from grids.models import Building, Grid, Household, Resident
from parties import services as party_services
from parties.models import Kind, Organization
from petitions.models import Category, ServiceArea

_codes = itertools.count(1)


def code(prefix: str) -> str:
    return f"{prefix}{next(_codes):05d}"


def node(kind: str, parent: Organization | None = None, name: str | None = None) -> Organization:
    """A chain node created through the service (so it takes the tree lock like the admin does)."""
    c = code(kind[:3])
    return party_services.organization_create(kind=kind, name=name or f"{kind} {c}", code=c, parent=parent)


class DepartmentFactory(factory.django.DjangoModelFactory[Department]):
    class Meta:
        model = Department
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"dept{n}")
    name = factory.Sequence(lambda n: f"区第{n}局")


class CategoryFactory(factory.django.DjangoModelFactory[Category]):
    class Meta:
        model = Category

    code = factory.Sequence(lambda n: f"cat{n}")
    name = factory.Sequence(lambda n: f"事项{n}")
    service_area = ServiceArea.SAFETY
    default_department = factory.SubFactory(DepartmentFactory)
    accept_hours = 2
    resolve_working_days = 5
    follow_up_working_days = 1


class GridFactory(factory.django.DjangoModelFactory[Grid]):
    class Meta:
        model = Grid

    code = factory.Sequence(lambda n: f"grid{n}")
    name = factory.Sequence(lambda n: f"第{n}网格")
    kind = Grid.Kind.URBAN
    branch = factory.LazyFunction(lambda: node(Kind.GRID_BRANCH, node(Kind.COMMUNITY, node(Kind.STREET))))


class BuildingFactory(factory.django.DjangoModelFactory[Building]):
    class Meta:
        model = Building

    grid = factory.SubFactory(GridFactory)
    code = factory.Sequence(lambda n: f"bld{n}")
    name = factory.Sequence(lambda n: f"{n}栋")


class HouseholdFactory(factory.django.DjangoModelFactory[Household]):
    class Meta:
        model = Household

    building = factory.SubFactory(BuildingFactory)
    room = factory.Sequence(lambda n: f"{n + 101}")


def valid_id_card(n: int) -> str:
    first = f"36060219800101{n % 1000:03d}"
    return first + id_card_check_digit(first)


class ResidentFactory(factory.django.DjangoModelFactory[Resident]):
    class Meta:
        model = Resident

    household = factory.SubFactory(HouseholdFactory)
    name = factory.Sequence(lambda n: f"居民{n}")
    id_card = factory.Sequence(valid_id_card)
    id_card_hash = factory.LazyAttribute(lambda o: id_card_hash(o.id_card))
    phone = factory.Sequence(lambda n: f"138{n:08d}")


class UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.LazyFunction(lambda: make_password("pw-for-tests-1"))
    role = User.Role.WORKER


PASSWORD = "pw-for-tests-1"
