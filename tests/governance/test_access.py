"""What each kind of account sees through governance.access.restrict — exactly, no more, no less."""

from dataclasses import dataclass
from typing import Any, cast

import pytest
from django.apps import apps
from django.contrib.auth.models import AnonymousUser
from django.db.models import Model, QuerySet
from django.http import Http404

from governance.access import (
    SCOPED_APPS,
    Scope,
    check_every_model_declares_its_scope,
    covering,
    covers,
    get_visible_or_404,
    restrict,
    scope_of,
)
from governance.models import Department, User
from grids.models import Building, Grid, GridAssignment, Household, Resident
from parties import services as party_services
from parties.models import Member, Organization
from petitions.models import Category, Petition, PetitionEvent, Reminder

from ..conftest import World
from ..factories import HouseholdFactory, ResidentFactory


@dataclass
class Town:
    """The world, filled: a petition, a household with a resident and a member on each grid."""

    world: World
    here: Petition  # on the worker's grid, dispatched to housing
    here_unsent: Petition  # on the worker's grid, not dispatched
    next_door: Petition  # the other grid of the street, dispatched to police
    far: Petition  # the other street, dispatched to housing
    households: dict[str, Household]
    members: dict[str, Member]


@pytest.fixture
def town(world: World) -> Town:
    grids = {"here": world.grid, "next_door": world.other_grid_same_street, "far": world.foreign_grid}
    households: dict[str, Household] = {}
    for key, grid in grids.items():
        households[key] = cast(Household, HouseholdFactory(building__grid=grid))
        ResidentFactory(household=households[key])
        GridAssignment.objects.create(grid=grid, user=world.admin, role=GridAssignment.Role.INSTRUCTOR)
    members = {key: Member.objects.create(name=f"党员{key}", organization=grid.branch) for key, grid in grids.items()}
    # The admin logs and dispatches them: anywhere in the district, whatever the grid.
    by_admin: dict[str, Any] = {"actor": world.admin, "official": world.admin, "title": "诉求", "description": "内容"}
    return Town(
        world=world,
        here=world.petition(stage="dispatched", grid=world.grid, department=world.housing, **by_admin),
        here_unsent=world.petition(grid=world.grid, **by_admin),
        next_door=world.petition(
            stage="dispatched", grid=world.other_grid_same_street, department=world.police, **by_admin
        ),
        far=world.petition(stage="dispatched", grid=world.foreign_grid, department=world.housing, **by_admin),
        households=households,
        members=members,
    )


def seen(user: Any, model: type[Model]) -> set[int]:
    queryset: QuerySet[Any] = model._default_manager.all()
    return set(restrict(user, queryset).values_list("pk", flat=True))


def ids(*objects: Model) -> set[int]:
    return {o.pk for o in objects}


@pytest.mark.django_db
def test_grid_worker_sees_their_grid_branch_and_what_is_on_it(town: Town) -> None:
    w = town.world
    worker = w.worker
    assert seen(worker, Petition) == ids(town.here, town.here_unsent)
    assert seen(worker, PetitionEvent) == set(
        PetitionEvent.objects.filter(petition__in=[town.here, town.here_unsent]).values_list("pk", flat=True)
    )
    assert seen(worker, Grid) == ids(w.grid)
    assert seen(worker, Organization) == ids(w.branch)
    assert seen(worker, Household) == ids(town.households["here"])
    assert seen(worker, Building) == ids(town.households["here"].building)
    assert seen(worker, Resident) == set(town.households["here"].residents.values_list("pk", flat=True))
    assert seen(worker, GridAssignment) == set(w.grid.assignments.values_list("pk", flat=True))
    assert seen(worker, Member) == ids(town.members["here"])


@pytest.mark.django_db
def test_street_official_sees_the_whole_street_and_nothing_beyond(town: Town) -> None:
    w = town.world
    official = w.official
    assert seen(official, Petition) == ids(town.here, town.here_unsent, town.next_door)
    assert seen(official, Grid) == ids(w.grid, w.other_grid_same_street)
    assert seen(official, Organization) == ids(
        w.street, w.community, w.branch, w.other_grid_same_street.branch
    )
    assert seen(official, Household) == ids(town.households["here"], town.households["next_door"])
    assert seen(official, Member) == ids(town.members["here"], town.members["next_door"])


@pytest.mark.django_db
def test_the_other_streets_worker_sees_only_their_own(town: Town) -> None:
    w = town.world
    assert seen(w.foreign_worker, Petition) == ids(town.far)
    assert seen(w.foreign_worker, Grid) == ids(w.foreign_grid)
    assert w.street.pk not in seen(w.foreign_worker, Organization)


@pytest.mark.django_db
def test_department_staff_see_what_was_dispatched_to_them_and_no_residents(town: Town) -> None:
    w = town.world
    assert seen(w.dept, Petition) == ids(town.here, town.far)  # both streets, housing only
    assert seen(w.police_staff, Petition) == ids(town.next_door)
    assert seen(w.dept, PetitionEvent) == set(
        PetitionEvent.objects.filter(petition__in=[town.here, town.far]).values_list("pk", flat=True)
    )
    for model in (Grid, Organization, Household, Resident, Building, Member, GridAssignment):
        assert seen(w.dept, model) == set(), model
    without_department = User.objects.create_user("nodept", role=User.Role.DEPARTMENT)
    assert seen(without_department, Petition) == set()


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["admin", "plain_leader", "superuser_worker"])
def test_leadership_and_superusers_see_the_whole_district(town: Town, who: str) -> None:
    w = town.world
    user = {
        "admin": w.admin,
        "plain_leader": User.objects.create_user("leader", role=User.Role.LEADER),
        "superuser_worker": User.objects.create_user(
            "root", role=User.Role.WORKER, scope_node=w.branch, is_superuser=True
        ),
    }[who]
    for model in (Petition, PetitionEvent, Grid, Organization, Household, Resident, Member):
        assert seen(user, model) == set(model._default_manager.values_list("pk", flat=True)), model
    assert seen(user, Petition) == ids(town.here, town.here_unsent, town.next_door, town.far)


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["inactive_leader", "inactive_worker", "anonymous", "unscoped_worker"])
def test_nobody_else_sees_anything(town: Town, who: str) -> None:
    w = town.world
    user: Any = {
        "inactive_leader": User.objects.create_user("old", role=User.Role.LEADER, is_superuser=True, is_active=False),
        "inactive_worker": User.objects.create_user(
            "left", role=User.Role.WORKER, scope_node=w.branch, is_active=False
        ),
        "anonymous": AnonymousUser(),
        "unscoped_worker": User.objects.create_user("new", role=User.Role.WORKER),
    }[who]
    for model in (Petition, PetitionEvent, Grid, Organization, Household, Resident, Member, Building):
        assert seen(user, model) == set(), model
    if who != "unscoped_worker":
        # Not even the reference data without signing in (or once the account is disabled).
        assert seen(user, Department) == set() and seen(user, Category) == set()


@pytest.mark.django_db
def test_reference_data_is_readable_by_everyone_signed_in(town: Town) -> None:
    w = town.world
    for user in (w.worker, w.dept, w.foreign_worker):
        assert seen(user, Department) == set(Department.objects.values_list("pk", flat=True))
        assert {w.housing.pk, w.police.pk} <= seen(user, Department)
        assert seen(user, Category) == ids(w.category)


@pytest.mark.django_db
def test_a_model_without_a_rule_shows_nothing_and_the_system_check_names_it(
    town: Town, monkeypatch: pytest.MonkeyPatch
) -> None:
    w = town.world
    Reminder.objects.create(petition=town.here, stage="dispatched", level="remind", created_at=town.here.registered_at)
    assert seen(w.worker, Reminder) == set(Reminder.objects.values_list("pk", flat=True))  # declared: via petition
    monkeypatch.setattr(Reminder, "scope", None)
    assert seen(w.worker, Reminder) == set()  # fails closed
    assert seen(w.admin, Reminder) != set()  # the district still sees it
    errors = check_every_model_declares_its_scope()
    assert [(e.id, e.obj) for e in errors] == [("governance.E001", Reminder)]


def test_every_model_of_ours_declares_its_scope() -> None:
    assert check_every_model_declares_its_scope() == []
    for model in apps.get_models():
        if model._meta.app_label in SCOPED_APPS and not model._meta.auto_created:
            assert isinstance(scope_of(model), Scope), model


@pytest.mark.django_db
def test_get_visible_or_404_answers_the_same_for_forbidden_and_missing(town: Town) -> None:
    w = town.world
    assert get_visible_or_404(w.worker, Petition.objects.all(), pk=town.here.pk) == town.here
    with pytest.raises(Http404) as forbidden:
        get_visible_or_404(w.worker, Petition.objects.all(), pk=town.far.pk)
    with pytest.raises(Http404) as missing:
        get_visible_or_404(w.worker, Petition.objects.all(), pk=town.far.pk + 1000)
    assert str(forbidden.value) == str(missing.value)
    with pytest.raises(Http404):
        get_visible_or_404(w.worker, Petition.objects.all(), pk="not-a-number")


@pytest.mark.django_db
def test_covers_decides_who_sees_personal_data_whole(town: Town) -> None:
    w = town.world
    resident = town.households["here"].residents.get()
    assert covers(w.worker, resident) and covers(w.official, resident) and covers(w.admin, resident)
    assert not covers(w.foreign_worker, resident)
    assert not covers(w.dept, resident)


@pytest.mark.django_db
def test_scope_follows_the_tree_even_for_a_user_loaded_before_a_move(town: Town) -> None:
    """The scope is where the node is now in the database, not where a copy in memory thought it was."""
    w = town.world
    official = User.objects.select_related("scope_node").get(pk=w.official.pk)  # loaded, then the tree changes
    far_community = Organization.objects.get(pk=w.foreign_grid.branch.parent_id)
    party_services.organization_move(node=far_community, target=Organization.objects.get(pk=w.street.pk))
    assert seen(official, Grid) == ids(w.grid, w.other_grid_same_street, w.foreign_grid)
    assert seen(official, Petition) == ids(town.here, town.here_unsent, town.next_door, town.far)
    assert seen(w.foreign_worker, Petition) == ids(town.far)  # their own grid moved with its branch


@pytest.mark.django_db
def test_covering_many_users_answers_as_covers_does_for_each(
    town: Town, django_assert_max_num_queries: Any
) -> None:
    """``covering`` (who hears of a reminder) asks a petition's grid instead of listing every grid each
    official sees: the answer is the same as asking ``covers`` user by user, for every role and object."""
    w = town.world
    inactive = User.objects.create(username="gone", role=User.Role.OFFICIAL, scope_node=w.street, is_active=False)
    people = [w.worker, w.official, w.dept, w.police_staff, w.admin, w.foreign_worker, inactive]
    petitions = [town.here, town.here_unsent, town.next_door, town.far]
    for petition in petitions:
        with django_assert_max_num_queries(3):
            answer = covering(people, petition)
        assert answer == {u.pk for u in people if covers(u, petition)}, petition.title
    grid_answer = covering(people, w.grid)
    assert grid_answer == {u.pk for u in people if covers(u, w.grid)}
    assert (w.worker.pk in covering(people, town.here), w.foreign_worker.pk in covering(people, town.here)) == (
        True, False)
    assert w.dept.pk in covering(people, town.far) and w.police_staff.pk not in covering(people, town.far)
