"""Overdue reminders and escalation: recorded once, sent once, to the right people, on every channel."""

import datetime as dt
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from petitions import reminders, tasks
from petitions.models import Notification, Petition, Reminder

from ..conftest import World
from ..factories import UserFactory, make_overdue
from ..support.webhook import FakeWebhook

ROOT = Path(__file__).resolve().parents[2]


def _overdue_dispatched(world: World, *, days_late: float) -> Petition:
    petition = world.petition(stage="dispatched", title="楼顶漏水", description="三楼漏水")
    # Arrange: the accept deadline passed ``days_late`` days ago.
    late = timezone.now() - dt.timedelta(days=days_late)
    make_overdue(petition, late, accept_due=late)
    return Petition.objects.get(pk=petition.pk)


@pytest.mark.django_db
def test_each_level_is_recorded_once_however_often_beat_scans(world: World, django_capture_on_commit_callbacks) -> None:
    petition = _overdue_dispatched(world, days_late=0.5)
    with django_capture_on_commit_callbacks() as queued:
        assert tasks.scan_overdue() == 1
        assert tasks.scan_overdue() == 0
    assert len(queued) == 1  # one delivery queued
    assert list(Reminder.objects.values_list("level", flat=True)) == [Reminder.Level.REMIND]

    late = timezone.now() - dt.timedelta(days=4)
    make_overdue(petition, late)
    with django_capture_on_commit_callbacks():
        assert tasks.scan_overdue() == 2  # street, then district
        assert tasks.scan_overdue() == 0
    assert sorted(Reminder.objects.values_list("level", flat=True)) == ["district", "remind", "street"]


@pytest.mark.django_db
def test_reminder_reaches_department_by_notification_email_and_webhook_once(world: World) -> None:
    world.dept.email = "dept@example.org"
    world.dept.save()
    other_dept_staff = world.police_staff
    with FakeWebhook() as robot:
        world.housing.webhook_url = robot.url
        world.housing.save()
        petition = _overdue_dispatched(world, days_late=0.1)
        reminders.record_overdue_reminders()
        reminder = Reminder.objects.get()
        assert reminders.deliver(reminder.pk) is True
        assert reminders.deliver(reminder.pk) is False  # a retried task sends nothing more
    assert [n.user for n in Notification.objects.all()] == [world.dept]
    assert not Notification.objects.filter(user=other_dept_staff).exists()
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["dept@example.org"]
    assert str(petition.number) in str(mail.outbox[0].body)
    assert len(robot.bodies) == 1
    assert robot.bodies[0]["msgtype"] == "text" and petition.number in robot.bodies[0]["text"]["content"]
    reminder.refresh_from_db()
    assert reminder.sent_at is not None and reminder.delivery["webhook"]["ok"]
    assert reminder.delivery["webhook"]["detail"] == "HTTP 200" and reminder.delivery["email"]["attempts"] == 1


@pytest.mark.django_db
def test_escalation_goes_to_the_street_then_the_district(world: World) -> None:
    leader = UserFactory.create(username="leader", role="leader")
    _overdue_dispatched(world, days_late=4)
    reminders.record_overdue_reminders()
    for reminder in Reminder.objects.all():
        reminders.deliver(reminder.pk)
    by_level = {
        level: set(Notification.objects.filter(reminder__level=level).values_list("user__username", flat=True))
        for level in ("remind", "street", "district")
    }
    assert by_level == {"remind": {"dept"}, "street": {"official"}, "district": {"admin", leader.username}}


@pytest.mark.django_db
def test_closed_and_on_time_petitions_get_no_reminder(world: World) -> None:
    world.petition(title="按时", description="未超期")
    assert reminders.record_overdue_reminders() == []
    assert not Reminder.objects.exists()


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_real_worker_and_two_beats_send_each_reminder_once(
    needs_postgres: None, needs_redis: str, world: World, tmp_path: Path
) -> None:
    """A real Celery worker on Redis with two beat processes scanning every second."""
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "REDIS_URL": needs_redis,
        "WANGGE_OVERDUE_SCAN_SECONDS": "1",
        "EMAIL_URL": "consolemail://",
    }
    celery = [sys.executable, "-m", "celery", "-A", "governance"]
    with FakeWebhook() as robot:
        world.housing.webhook_url = robot.url
        world.housing.save()
        petition = _overdue_dispatched(world, days_late=0.1)
        procs = [
            subprocess.Popen([*celery, "worker", "--concurrency", "2", "--loglevel", "INFO"],
                             cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=(tmp_path / "worker.log").open("w")),
            *[
                subprocess.Popen([*celery, "beat", "--schedule", str(tmp_path / f"beat{i}"), "--loglevel", "INFO"],
                                 cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                 stderr=(tmp_path / f"beat{i}.log").open("w"))
                for i in (1, 2)
            ],
        ]
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and not Reminder.objects.filter(sent_at__isnull=False).exists():
                time.sleep(0.5)
            time.sleep(4)  # several more scans by both beats
        finally:
            for p in procs:
                p.terminate()
            for p in procs:
                p.wait(timeout=30)
    log = (tmp_path / "worker.log").read_text()
    assert Reminder.objects.count() == 1, log[-3000:]
    reminder = Reminder.objects.get()
    assert reminder.sent_at is not None and reminder.petition_id == petition.pk
    assert "scan_overdue" in log and "succeeded" in log
    assert Notification.objects.filter(user=world.dept).count() == 1
    assert len(robot.bodies) == 1


def _unread_link(html: str) -> tuple[str, str] | None:
    """The home page's link to the unread reminders: (where it goes, what it says), if shown."""
    found = re.search(r'<a href="([^"]+)" id="unread">([^<]*)</a>', html)
    return (found.group(1), found.group(2).strip()) if found else None


@pytest.mark.django_db
def test_department_sees_its_reminders_in_the_app(world: World, client: Client) -> None:
    petition = _overdue_dispatched(world, days_late=0.1)
    reminders.record_overdue_reminders()
    reminders.deliver(Reminder.objects.get().pk)
    client.force_login(world.dept)
    link = _unread_link(client.get("/").content.decode())
    assert link == (reverse("petitions:notifications"), "1 条超期督办提醒未读")
    # The link leads to the reminder, which names the petition and links to it.
    page = client.get(link[0]).content.decode()
    item = re.search(r'<li data-unread="1">\s*<a class="title" href="([^"]+)">([^<]*)</a>', page)
    assert item is not None, page
    assert item.group(1) == petition.get_absolute_url() and petition.number in item.group(2)
    client.post(link[0])
    assert 'data-unread="0"' in client.get(link[0]).content.decode()
    assert _unread_link(client.get("/").content.decode()) is None
    # Another department's staff get neither the link nor the reminder.
    client.force_login(world.police_staff)
    assert _unread_link(client.get("/").content.decode()) is None
    assert petition.number not in client.get(link[0]).content.decode()


@pytest.mark.django_db
def test_an_assignment_outside_ones_scope_brings_no_reminders(world: World) -> None:
    from grids.models import GridAssignment

    petition = world.petition(stage="resolved")
    # A worker of the other street, assigned (wrongly, or long ago) to this grid too.
    GridAssignment.objects.create(grid=world.grid, user=world.foreign_worker, role=GridAssignment.Role.PART_TIME)
    GridAssignment.objects.create(grid=world.grid, user=world.worker, role=GridAssignment.Role.FULL_TIME)
    late = timezone.now() - dt.timedelta(days=1)
    make_overdue(petition, late, follow_up_due=late)
    reminders.record_overdue_reminders()
    reminder = Reminder.objects.get(petition=petition, level=Reminder.Level.REMIND)
    people = set(reminders.recipients(reminder).values_list("username", flat=True))
    assert people == {"worker"}
