"""Factories for a small world: a street tree with a community, grid branches, grids, people and petitions."""

import itertools
from typing import Any

import factory
from django.contrib.auth.hashers import make_password

from governance.models import Department, User
from grids.identity import id_card_check_digit, id_card_hash
from grids.models import Building, Grid, Household, Resident
from parties import services as party_services
from parties.models import Kind, Organization
from petitions import services as petition_services
from petitions.models import Category, Petition, Priority, ServiceArea

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


# The steps from registration to each stage a test may ask for, in order.
STAGE_STEPS: dict[str, tuple[str, ...]] = {
    "registered": (),
    "dispatched": ("dispatch",),
    "accepted": ("dispatch", "accept"),
    "resolved": ("dispatch", "accept", "resolve"),
    "resolved_on_grid": ("resolve_on_grid",),
    "closed": ("dispatch", "accept", "resolve", "follow_up"),
    "cancelled": ("cancel",),
}


def _takes(*steps: str) -> factory.LazyAttribute:
    """Whether the way to the petition's stage takes any of ``steps``."""
    return factory.LazyAttribute(lambda o: not set(steps).isdisjoint(STAGE_STEPS.get(o.stage, ())))


class PetitionFactory(factory.Factory[Petition]):
    """A petition registered through ``petitions.services``, then walked to ``stage`` through the real steps.

    ``actor`` registers it, resolves it on the grid and calls back; ``official`` dispatches it to
    ``department`` and cancels it; ``dept`` (staff of that department) accepts and resolves it. An
    actor left out is made for the grid or the department when the stage needs one. Returns the
    petition as stored. ``World.petition`` (tests/conftest.py) fills all of them in from the world.
    """

    class Meta:
        model = Petition

    class Params:
        official_steps = _takes("dispatch", "cancel")
        department_steps = _takes("accept", "resolve")

    grid = factory.SubFactory(GridFactory)
    category = factory.SubFactory(CategoryFactory)
    actor = factory.LazyAttribute(lambda o: UserFactory.create(role=User.Role.WORKER, scope_node=o.grid.branch))
    title = "楼顶漏水"
    description = "三楼卫生间漏水"
    priority = Priority.NORMAL
    reporter_name = "李秀英"
    reporter_phone = "13812345678"
    household = None
    # Not fields of the petition: how far it goes, who takes the steps, and what they write.
    stage = "registered"
    department = factory.LazyAttribute(lambda o: o.category.default_department)
    official = factory.Maybe(
        "official_steps",
        factory.LazyAttribute(
            lambda o: UserFactory.create(role=User.Role.OFFICIAL, scope_node=o.grid.branch.get_root())
        ),
        None,
    )
    dept = factory.Maybe(
        "department_steps",
        factory.LazyAttribute(lambda o: UserFactory.create(role=User.Role.DEPARTMENT, department=o.department)),
        None,
    )
    dispatch_note = "请及时处理"
    accept_note = "已签收"
    result = factory.LazyAttribute(lambda o: "网格员当场协调解决" if o.stage == "resolved_on_grid" else "已更换防水层")
    cancel_reason = "重复登记"

    @classmethod
    def _build(cls, model_class: type[Petition], *args: Any, **kwargs: Any) -> Petition:
        raise NotImplementedError("a petition exists only once registered: use PetitionFactory.create()")

    @classmethod
    def _create(cls, model_class: type[Petition], *args: Any, **kwargs: Any) -> Petition:
        stage: str = kwargs.pop("stage")
        if stage not in STAGE_STEPS:
            raise ValueError(f"unknown stage {stage!r}: one of {', '.join(STAGE_STEPS)}")
        # Each is set whenever the stage's steps need it (the Params above).
        official: User = kwargs.pop("official")
        dept: User = kwargs.pop("dept")
        department: Department = kwargs.pop("department")
        dispatch_note: str = kwargs.pop("dispatch_note")
        accept_note: str = kwargs.pop("accept_note")
        result: str = kwargs.pop("result")
        cancel_reason: str = kwargs.pop("cancel_reason")
        worker: User = kwargs["actor"]
        pk = petition_services.petition_register(**kwargs).pk
        for step in STAGE_STEPS[stage]:
            if step == "dispatch":
                petition_services.petition_dispatch(
                    actor=official, petition_id=pk, department=department, note=dispatch_note
                )
            elif step == "accept":
                petition_services.petition_accept(actor=dept, petition_id=pk, note=accept_note)
            elif step == "resolve":
                petition_services.petition_resolve(actor=dept, petition_id=pk, result=result)
            elif step == "resolve_on_grid":
                petition_services.petition_resolve(actor=worker, petition_id=pk, result=result)
            elif step == "follow_up":
                petition_services.petition_follow_up(
                    actor=worker, petition_id=pk, reached=True, solved=True, satisfaction="satisfied"
                )
            elif step == "cancel":
                petition_services.petition_cancel(actor=official, petition_id=pk, reason=cancel_reason)
        return Petition.objects.get(pk=pk)


def make_overdue(petition: Petition, late: Any, **deadlines: Any) -> None:
    """Arrange: the petition's stage deadline (and ``deadlines``) passed at ``late``, and the overdue
    scan's schedule says so (what the workflow would have written had the deadline been then)."""
    from petitions.models import ReminderSchedule

    Petition.objects.filter(pk=petition.pk).update(current_due=late, **deadlines)
    ReminderSchedule.objects.update_or_create(petition_id=petition.pk, defaults={"next_reminder_at": late})
