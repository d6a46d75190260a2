"""People pressing the same button at the same moment, each on their own database connection.

The row lock in ``workflow.apply`` makes one of them win; the others are told the petition has moved
on (TransitionNotAllowed) and write nothing.
"""

import threading
from collections import Counter
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import pytest
from django.db import connection
from django.http import Http404

from governance.models import User
from petitions import services
from petitions.models import FollowUp, Petition, PetitionEvent, Status
from petitions.workflow import TransitionNotAllowed

from ..conftest import World

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def race(calls: Sequence[Callable[[], Any]]) -> list[str]:
    """Run the calls at once, one thread and one connection each; what happened to each, in order."""
    barrier = threading.Barrier(len(calls))
    outcomes: list[str] = [""] * len(calls)

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            calls[i]()
            outcomes[i] = "ok"
        except TransitionNotAllowed:
            outcomes[i] = "refused"
        except Http404:
            outcomes[i] = "not found"
        except BaseException as exc:  # anything else is a failure the test reports
            outcomes[i] = f"error: {exc!r}"
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a thread is stuck"
    return outcomes


def _staff(world: World, n: int) -> list[User]:
    """``n`` staff of the housing department (separate accounts, as in a busy office)."""
    return [
        User.objects.create_user(f"housing{i}", role=User.Role.DEPARTMENT, department=world.housing) for i in range(n)
    ]


def test_twenty_people_accept_at_once_and_one_acceptance_is_recorded(world: World, needs_postgres: None) -> None:
    petition = world.petition(stage="dispatched")
    staff = [world.dept, *_staff(world, 19)]
    accepts = [partial(services.petition_accept, actor=u, petition_id=petition.pk, note=u.username) for u in staff]
    outcomes = race(accepts)
    assert Counter(outcomes) == {"ok": 1, "refused": 19}
    petition.refresh_from_db()
    assert petition.status == Status.ACCEPTED
    recorded = PetitionEvent.objects.filter(petition=petition, action="accept")
    assert recorded.count() == 1
    # The one acceptance on record is the one whose caller was told "ok".
    winner = staff[outcomes.index("ok")]
    assert recorded.get().actor == winner and recorded.get().note == winner.username


def test_dispatch_and_cancel_at_once_leave_one_consistent_outcome(world: World, needs_postgres: None) -> None:
    officials = [world.official] + [
        User.objects.create_user(f"official{i}", role=User.Role.OFFICIAL, scope_node=world.street) for i in range(9)
    ]
    for _round in range(5):
        petition = world.petition()
        calls: list[Callable[[], Any]] = [
            partial(services.petition_cancel, actor=o, petition_id=petition.pk, reason="重复")
            if i % 2
            else partial(services.petition_dispatch, actor=o, petition_id=petition.pk, department=world.housing)
            for i, o in enumerate(officials)
        ]
        outcomes = race(calls)
        assert Counter(outcomes) == {"ok": 1, "refused": 9}
        petition.refresh_from_db()
        steps = list(PetitionEvent.objects.filter(petition=petition).exclude(action="register").values_list("action"))
        won_by_dispatch = outcomes.index("ok") % 2 == 0
        if won_by_dispatch:
            assert steps == [("dispatch",)]
            assert petition.status == Status.DISPATCHED and petition.department == world.housing
            assert petition.accept_due is not None
        else:
            assert steps == [("cancel",)]
            assert petition.status == Status.CANCELLED and petition.department is None
            assert petition.current_due is None


def test_two_follow_up_calls_at_once_record_one(world: World, needs_postgres: None) -> None:
    """One caller says satisfied, the other dissatisfied: either it closes or it is reopened, never both."""
    petition = world.petition(stage="resolved")
    colleague = User.objects.create_user("worker2", role=User.Role.WORKER, scope_node=world.branch)
    outcomes = race(
        [
            partial(
                services.petition_follow_up,
                actor=world.worker, petition_id=petition.pk, reached=True, solved=True, satisfaction="satisfied",
            ),
            partial(
                services.petition_follow_up,
                actor=colleague, petition_id=petition.pk, reached=True, solved=False, satisfaction="dissatisfied",
            ),
        ]
    )
    assert sorted(outcomes) == ["ok", "refused"]
    petition.refresh_from_db()
    assert FollowUp.objects.filter(petition=petition).count() == 1
    if outcomes[0] == "ok":
        assert petition.status == Status.CLOSED and petition.rehandle_count == 0
    else:
        assert petition.status == Status.DISPATCHED and petition.rehandle_count == 1


def test_accept_and_return_at_once_leave_one_step(world: World, needs_postgres: None) -> None:
    """Ten accept, ten return: one step wins and the timeline has exactly one step after dispatch.

    If a return wins, the petition is no longer the department's: the others, waiting on the row lock,
    then find nothing they may see (404), as they would on reloading the page."""
    petition = world.petition(stage="dispatched")
    staff = [world.dept, *_staff(world, 19)]
    calls: list[Callable[[], Any]] = [
        partial(services.petition_return, actor=u, petition_id=petition.pk, reason="错派")
        if i % 2
        else partial(services.petition_accept, actor=u, petition_id=petition.pk)
        for i, u in enumerate(staff)
    ]
    outcomes = race(calls)
    actions = list(PetitionEvent.objects.filter(petition=petition).values_list("action", flat=True))
    assert actions[:2] == ["register", "dispatch"] and len(actions) == 3
    if actions[2] == "accept":
        assert Counter(outcomes) == {"ok": 1, "refused": 19}
        assert Petition.objects.get(pk=petition.pk).status == Status.ACCEPTED
    else:
        assert Counter(outcomes) == {"ok": 1, "not found": 19}
        assert Petition.objects.get(pk=petition.pk).status == Status.REGISTERED
