"""A petition outside the actor's scope answers exactly like one that does not exist (404), and no step
on it writes anything — whatever its status, so its status does not leak either."""

from collections.abc import Callable
from typing import Any

import pytest
from django.db.models import Max
from django.http import Http404

from governance.models import User
from petitions import selectors, services
from petitions.models import Petition, PetitionEvent

from ..conftest import World
from .test_workflow import snapshot


def _outsider(world: World, who: str) -> User:
    if who == "neighbour_worker":
        # A worker of the other grid in the same community: same street, different branch.
        return User.objects.create_user(
            "neighbour", role=User.Role.WORKER, scope_node=world.other_grid_same_street.branch
        )
    if who == "unscoped_worker":
        return User.objects.create_user("unscoped", role=User.Role.WORKER, scope_node=None)
    if who == "inactive_official":
        return User.objects.create_user("gone", role=User.Role.OFFICIAL, scope_node=world.street, is_active=False)
    if who == "inactive_leader":
        return User.objects.create_user("retired", role=User.Role.LEADER, is_active=False)
    user: User = getattr(world, who)
    return user


Step = Callable[[World, User, int], Any]

STEPS: dict[str, Step] = {
    "dispatch": lambda w, u, pk: services.petition_dispatch(actor=u, petition_id=pk, department=w.housing),
    "accept": lambda w, u, pk: services.petition_accept(actor=u, petition_id=pk),
    "return": lambda w, u, pk: services.petition_return(actor=u, petition_id=pk, reason="不归我们管"),
    "resolve": lambda w, u, pk: services.petition_resolve(actor=u, petition_id=pk, result="已处理"),
    "follow_up": lambda w, u, pk: services.petition_follow_up(
        actor=u, petition_id=pk, reached=True, solved=True, satisfaction="satisfied"
    ),
    "reopen": lambda w, u, pk: services.petition_follow_up(
        actor=u, petition_id=pk, reached=True, solved=False, satisfaction="dissatisfied"
    ),
    "cancel": lambda w, u, pk: services.petition_cancel(actor=u, petition_id=pk, reason="重复"),
    "detail": lambda w, u, pk: selectors.petition_detail_for(u, pk),
}

# (the status it is in, who tries, what) — each would be allowed for someone whose scope covers it.
CASES = [
    ("registered", "foreign_worker", "resolve"),
    ("registered", "foreign_worker", "detail"),
    ("registered", "neighbour_worker", "resolve"),
    ("registered", "unscoped_worker", "resolve"),
    ("registered", "inactive_official", "dispatch"),
    ("registered", "inactive_official", "cancel"),
    ("registered", "inactive_leader", "dispatch"),
    ("registered", "dept", "accept"),  # not dispatched to anyone yet
    ("registered", "dept", "detail"),
    ("dispatched", "police_staff", "accept"),
    ("dispatched", "police_staff", "return"),
    ("dispatched", "police_staff", "detail"),
    ("accepted", "police_staff", "resolve"),
    ("resolved", "foreign_worker", "follow_up"),
    ("resolved", "foreign_worker", "reopen"),
    ("resolved", "neighbour_worker", "follow_up"),
    # Not allowed from this status either: the outsider still learns nothing but "not found".
    ("closed", "foreign_worker", "dispatch"),
    ("closed", "police_staff", "accept"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("stage", "who", "step"), CASES)
def test_out_of_scope_is_a_404_like_a_missing_id_and_writes_nothing(
    world: World, stage: str, who: str, step: str
) -> None:
    petition = world.petition(stage=stage)
    actor = _outsider(world, who)
    before = snapshot(petition.pk)
    events = PetitionEvent.objects.count()
    missing_id = (Petition.objects.aggregate(m=Max("id"))["m"] or 0) + 1000

    with pytest.raises(Http404) as out_of_scope:
        STEPS[step](world, actor, petition.pk)
    with pytest.raises(Http404) as missing:
        STEPS[step](world, actor, missing_id)

    assert str(out_of_scope.value) == str(missing.value)
    assert snapshot(petition.pk) == before
    assert PetitionEvent.objects.count() == events


@pytest.mark.django_db
@pytest.mark.parametrize("bad_id", ["abc", None, -1])
def test_a_malformed_id_is_a_404_too(world: World, bad_id: Any) -> None:
    with pytest.raises(Http404):
        services.petition_accept(actor=world.dept, petition_id=bad_id)


@pytest.mark.django_db
def test_the_official_acts_anywhere_in_the_street(world: World) -> None:
    """The mirror image: a scope that covers the petition lets the step through."""
    neighbour = world.petition(
        actor=world.official, grid=world.other_grid_same_street, title="井盖缺失", description="2栋门口"
    )
    services.petition_dispatch(actor=world.official, petition_id=neighbour.pk, department=world.police)
    services.petition_accept(actor=world.police_staff, petition_id=neighbour.pk)
    neighbour.refresh_from_db()
    assert neighbour.status == "accepted"
