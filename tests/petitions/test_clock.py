"""The clock of a stage: yellow and red warnings before the deadline, extensions, pausing (挂起)."""

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from governance.exceptions import TransitionNotAllowed
from governance.models import User
from petitions import reminders, services
from petitions.models import Extension, Notification, Petition, Reminder

from ..api.conftest import token_client
from ..conftest import World
from ..factories import make_overdue

pytestmark = pytest.mark.django_db


def _accepted(world: World) -> Petition:
    return world.petition(stage="accepted")


def _flag(client: Client, petition: Petition, user: User) -> str:
    # Signed in at the moment travelled to: a session idle for days has ended (the session timeouts).
    client.force_login(user)
    html = client.get(petition.get_absolute_url()).content.decode()
    for flag in ('data-overdue="true"', 'data-warning="red"', 'data-warning="yellow"'):
        if flag in html:
            return flag
    return ""


def test_yellow_then_red_warnings_on_the_card_and_to_the_holder(world: World, client: Client) -> None:
    petition = _accepted(world)
    start, due = petition.resolve_started_at, petition.resolve_due
    assert start is not None and due is not None
    span = due - start
    client.force_login(world.dept)
    assert _flag(client, petition, world.dept) == ""
    with time_machine.travel(start + span * 0.55):
        assert _flag(client, petition, world.dept) == 'data-warning="yellow"'
        assert [Reminder.objects.get(pk=i).level for i in reminders.record_overdue_reminders()] == ["yellow"]
    with time_machine.travel(start + span * 0.8):
        assert _flag(client, petition, world.dept) == 'data-warning="red"'
        [red] = reminders.record_overdue_reminders()
        assert reminders.record_overdue_reminders() == []  # once
        assert reminders.deliver(red)
    assert Notification.objects.get(reminder_id=red).user == world.dept  # whoever holds the stage
    with time_machine.travel(due + dt.timedelta(minutes=1)):
        assert _flag(client, petition, world.dept) == 'data-overdue="true"'
        assert [Reminder.objects.get(pk=i).level for i in reminders.record_overdue_reminders()] == ["remind"]


def test_the_list_shows_warnings_in_a_constant_number_of_queries(
    world: World, client: Client, django_assert_max_num_queries: Any
) -> None:
    petitions = [_accepted(world) for _ in range(3)]
    start, due = petitions[0].resolve_started_at, petitions[0].resolve_due
    assert start is not None and due is not None
    later = start + (due - start) * 0.6
    with time_machine.travel(later):
        client.force_login(world.official)  # at that moment: a session idle for days has ended
        with django_assert_max_num_queries(12):
            html = client.get("/petitions/").content.decode()
    assert html.count('data-warning="yellow"') == 3


def test_an_extension_approved_moves_the_deadline_and_is_recorded(world: World) -> None:
    petition = _accepted(world)
    before = timezone.localtime(petition.resolve_due)
    proposed = before.date() + dt.timedelta(days=10)
    # The department asks; a date not after the current deadline is refused, naming the field.
    with pytest.raises(ValidationError) as refused:
        services.petition_request_extension(
            actor=world.dept, petition_id=petition.pk, reason="等待配件", proposed_due=before.date()
        )
    assert "proposed_due" in refused.value.message_dict
    assert not Extension.objects.exists()
    services.petition_request_extension(
        actor=world.dept, petition_id=petition.pk, reason="等待配件", proposed_due=proposed
    )
    with pytest.raises(TransitionNotAllowed):  # one pending at a time
        services.petition_request_extension(
            actor=world.dept, petition_id=petition.pk, reason="再等", proposed_due=proposed
        )
    # The street approves: the deadline moves, same time of day, and the timeline says so.
    p = services.petition_approve_extension(actor=world.official, petition_id=petition.pk, note="同意")
    assert timezone.localtime(p.resolve_due) == before.replace(year=proposed.year, month=proposed.month,
                                                                 day=proposed.day)
    assert p.current_due == p.resolve_due and p.extension_count == 1
    event = p.events.get(action="approve_extension")
    assert f"{proposed:%Y-%m-%d}" in event.note and event.actor == world.official
    assert Extension.objects.get().decision == "approved"
    # Overdue now counts against the extended deadline.
    with time_machine.travel(before + dt.timedelta(days=1)):
        assert not Petition.objects.overdue().filter(pk=p.pk).exists()
    with pytest.raises(TransitionNotAllowed):  # nothing pending any more
        services.petition_approve_extension(actor=world.official, petition_id=petition.pk)


def test_an_extension_refused_keeps_the_deadline(world: World) -> None:
    petition = _accepted(world)
    deadline = petition.resolve_due
    api = token_client(world.dept)
    proposed = timezone.localtime(petition.resolve_due).date() + dt.timedelta(days=3)
    response = api.post(f"/api/v1/petitions/{petition.pk}/request-extension/",
                        {"reason": "需要协调", "proposed_due": proposed.isoformat()}, format="json")
    assert response.status_code == 200, response.content
    # The department may not decide on its own request.
    assert api.post(f"/api/v1/petitions/{petition.pk}/approve-extension/", {}, format="json").status_code == 403
    official = token_client(world.official)
    assert official.post(f"/api/v1/petitions/{petition.pk}/refuse-extension/", {"reason": ""},
                         format="json").status_code == 400
    response = official.post(f"/api/v1/petitions/{petition.pk}/refuse-extension/", {"reason": "可以按期完成"},
                             format="json")
    assert response.status_code == 200
    petition.refresh_from_db()
    assert petition.resolve_due == deadline and petition.current_due == deadline
    assert petition.extension_count == 0 and Extension.objects.get().decision == "refused"
    assert petition.events.filter(action="refuse_extension", note="可以按期完成").exists()


def test_the_clock_paused_and_resumed(world: World) -> None:
    world.category.max_pause_days = 3
    world.category.save()
    petition = _accepted(world)
    due = petition.resolve_due
    assert due is not None
    t0 = timezone.now()
    with time_machine.travel(t0):
        p = services.petition_pause(actor=world.dept, petition_id=petition.pk, reason="等待居民提供材料")
    assert p.is_paused and p.current_due == due + dt.timedelta(days=3)  # the latest it could be
    with pytest.raises(TransitionNotAllowed):
        services.petition_pause(actor=world.dept, petition_id=petition.pk, reason="again")
    # Not overdue while paused, even past the original deadline.
    with time_machine.travel(due + dt.timedelta(hours=1)):
        assert not Petition.objects.overdue().filter(pk=p.pk).exists()
    with time_machine.travel(t0 + dt.timedelta(days=1)):
        p = services.petition_resume(actor=world.dept, petition_id=petition.pk, note="材料已收到")
    assert not p.is_paused
    assert p.resolve_due is not None and p.resolve_due == p.current_due
    assert abs((p.resolve_due - due) - dt.timedelta(days=1)) < dt.timedelta(seconds=5)
    assert [e.action for e in p.events.all()][-2:] == ["pause", "resume"]
    # Two days of pause left; a second pause is bounded by them.
    with time_machine.travel(t0 + dt.timedelta(days=2)):
        p = services.petition_pause(actor=world.dept, petition_id=petition.pk, reason="再次等待")
    assert p.pause_until is not None and p.paused_at is not None
    assert abs((p.pause_until - p.paused_at) - dt.timedelta(days=2)) < dt.timedelta(seconds=5)


def test_the_ladder_is_configured_per_category(world: World) -> None:
    world.category.escalate_street_after_hours = 2
    world.category.save()
    petition = world.petition(stage="dispatched")
    late = timezone.now() - dt.timedelta(hours=3)
    make_overdue(petition, late)
    levels = sorted(Reminder.objects.get(pk=i).level for i in reminders.record_overdue_reminders())
    assert levels == ["remind", "street"]
