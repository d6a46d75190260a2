"""Work queues: each role's counts on the home page match the lists one tap away, soonest deadline first."""

import datetime as dt
import re
from typing import Any

import pytest
from django.db.models import F
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from governance.models import User
from petitions import services
from petitions.models import Petition, Reminder, Status
from tests.api.conftest import token_client
from tests.factories import UserFactory

from ..conftest import World

pytestmark = pytest.mark.django_db


def _home_counts(client: Client) -> dict[str, int]:
    html = client.get(reverse("home")).content.decode()
    found = re.findall(r'data-queue="(\w+)"[^>]*><strong class="count">(\d+)</strong>', html)
    return {key: int(n) for key, n in found}


def _listed(client: Client, key: str) -> list[str]:
    html = client.get(reverse("petitions:list"), {"queue": key}).content.decode()
    return re.findall(r'<li data-number="([^"]+)"', html)


def _busy_street(world: World) -> dict[str, Petition]:
    """One petition waiting in each queue, and the same again on a grid of another street."""
    now = timezone.now()
    made: dict[str, Petition] = {}
    for prefix, grid, worker in (("", world.grid, world.worker), ("foreign_", world.foreign_grid, None)):
        actor = worker or UserFactory.create(role=User.Role.WORKER, scope_node=grid.branch)
        official = world.official if worker else UserFactory.create(
            role=User.Role.OFFICIAL, scope_node=grid.branch.get_root()
        )
        p: dict[str, Any] = {"grid": grid, "actor": actor, "official": official}
        reported = world.petition(**p)
        services.petition_report(actor=actor, petition_id=reported.pk, note="网格解决不了")
        made[prefix + "reported"] = reported
        returned = world.petition("dispatched", **p)
        services.petition_return(actor=world.dept, petition_id=returned.pk, reason="不属于本部门")
        made[prefix + "returned"] = returned
        extension = world.petition("accepted", **p)
        services.petition_request_extension(
            actor=world.dept, petition_id=extension.pk, reason="等待配件",
            proposed_due=timezone.localtime(extension.resolve_due).date() + dt.timedelta(days=10),
        )
        made[prefix + "extension"] = extension
        made[prefix + "escalated"] = world.petition("accepted", **p)
        made[prefix + "reminded"] = world.petition("dispatched", **p)
        Reminder.objects.create(
            petition=made[prefix + "reminded"], stage=Status.DISPATCHED, level=Reminder.Level.REMIND, created_at=now
        )
        made[prefix + "due_soon"] = world.petition("accepted", **p)
        made[prefix + "overdue"] = world.petition("dispatched", **p)
        made[prefix + "resolved"] = world.petition("resolved", **p)
        made[prefix + "closed"] = world.petition("closed", **p)
    for prefix in ("", "foreign_"):
        Petition.objects.filter(pk=made[prefix + "escalated"].pk).update(escalated=True)
        Petition.objects.filter(pk=made[prefix + "due_soon"].pk).update(
            warn_yellow_at=now - dt.timedelta(hours=1), current_due=now + dt.timedelta(hours=3)
        )
        Petition.objects.filter(pk=made[prefix + "overdue"].pk).update(current_due=now - dt.timedelta(hours=1))
        # The reminded one was reminded in its stage: it is past its accept deadline too.
        Petition.objects.filter(pk=made[prefix + "reminded"].pk).update(current_due=F("registered_at"))
    return made


def _numbers(*petitions: Petition) -> set[str]:
    return {p.number for p in petitions}


@pytest.mark.parametrize("who", ["official", "dept", "worker"])
def test_each_roles_counts_match_the_lists_one_tap_away(world: World, client: Client, who: str) -> None:
    made = _busy_street(world)
    client.force_login(getattr(world, who))
    counts = _home_counts(client)
    expected_keys = {
        "official": ["to_dispatch", "escalated", "extension", "due_soon", "overdue"],
        "dept": ["to_accept", "in_progress", "reminded", "due_soon", "overdue"],
        "worker": ["to_follow_up", "returned", "mine", "due_soon"],
    }[who]
    assert list(counts) == expected_keys
    api = token_client(getattr(world, who))
    for key, count in counts.items():
        listed = _listed(client, key)
        assert len(listed) == count, key
        body = api.get("/api/v1/petitions/", {"queue": key}).json()
        assert body["count"] == count, key
        assert {p["number"] for p in body["results"]} == set(listed), key
    # What each queue holds: the street's own (the other street's copies are never counted), and
    # for the department, what was dispatched to it in both streets.
    prefixes = ("", "foreign_") if who == "dept" else ("",)

    def of(*keys: str) -> set[str]:
        return _numbers(*(made[prefix + key] for prefix in prefixes for key in keys))

    want = {
        "to_dispatch": of("reported", "returned"),
        "returned": of("returned"),
        "escalated": of("escalated"),
        "extension": of("extension"),
        "due_soon": of("due_soon"),
        "overdue": of("overdue", "reminded"),
        "to_accept": of("reminded", "overdue"),
        "in_progress": of("extension", "escalated", "due_soon"),
        "reminded": of("reminded", "escalated"),
        "to_follow_up": of("resolved"),
    }
    for key in counts:
        if key in want:
            assert set(_listed(client, key)) == want[key], key
    if who == "dept":  # wherever the grid: what was dispatched to this department
        assert counts["in_progress"] == 6 and counts["overdue"] == 4
    if who == "worker":  # what the worker logged and is not closed or cancelled
        mine = {p.number for k, p in made.items() if not k.startswith("foreign_") and k != "closed"}
        assert set(_listed(client, "mine")) == mine


def test_a_queue_lists_soonest_deadline_first_with_the_time_left(world: World, client: Client) -> None:
    now = timezone.now()
    sooner = world.petition("dispatched")
    later = world.petition("dispatched")  # registered last: first in the plain list
    Petition.objects.filter(pk=later.pk).update(current_due=now + dt.timedelta(hours=5))
    Petition.objects.filter(pk=sooner.pk).update(current_due=now + dt.timedelta(hours=1))
    client.force_login(world.dept)
    assert _listed(client, "to_accept") == [sooner.number, later.number]
    html = client.get(reverse("petitions:list"), {"queue": "to_accept"}).content.decode()
    assert "剩余" in html  # the time left, in words
    # The plain list stays newest first.
    assert re.findall(r'<li data-number="([^"]+)"', client.get(reverse("petitions:list")).content.decode()) == [
        later.number, sooner.number,
    ]


def test_the_home_page_counts_in_a_constant_number_of_queries(
    world: World, client: Client, django_assert_max_num_queries: Any
) -> None:
    client.force_login(world.official)
    client.get(reverse("home"))  # the session and caches warmed
    _busy_street(world)
    # Every app's panel counts in its own few queries (queues, reminders, wishes, units, deliberations, field
    # work); the second run pins that none grows with the data.
    with django_assert_max_num_queries(24) as few:
        client.get(reverse("home"))
    _busy_street(world)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(reverse("home"))


def test_an_account_with_no_scope_is_not_offered_to_register(world: World, client: Client) -> None:
    member = UserFactory.create(username="member", role=User.Role.WORKER)  # a party member's account
    client.force_login(member)
    home = client.get(reverse("home")).content.decode()
    assert reverse("petitions:register") not in home
    assert 'id="queues"' not in home
    refused = client.get(reverse("petitions:register"))
    assert refused.status_code == 403 and "不能登记诉求" in refused.content.decode()
    client.force_login(world.worker)
    assert reverse("petitions:register") in client.get(reverse("home")).content.decode()


def test_an_unknown_queue_is_a_clear_filter_error(world: World, client: Client) -> None:
    client.force_login(world.worker)
    html = client.get(reverse("petitions:list"), {"queue": "nonsense"}).content.decode()
    assert 'data-field="queue"' in html
