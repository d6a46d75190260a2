"""Reminders are never lost nor doubled: delivery resumes channel by channel, failures are retried.

In-process tests drive the services with a frozen clock; the last ones run a real Celery worker and
beat against a private redis-server (stopped, or the worker SIGKILLed), never the shared one.
"""

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.db import connection, connections
from django.test import override_settings
from django.utils import timezone

from petitions import reminders
from petitions.models import Notification, Petition, Reminder, ReminderSchedule

from ..conftest import World
from ..factories import make_overdue
from ..support.faults import PrivateRedis
from ..support.webhook import FakeWebhook

ROOT = Path(__file__).resolve().parents[2]


def _overdue(world: World, *, hours_late: float = 1) -> Petition:
    petition = world.petition(stage="dispatched", title="楼顶漏水", description="三楼漏水")
    late = timezone.now() - dt.timedelta(hours=hours_late)
    make_overdue(petition, late, accept_due=late)
    return Petition.objects.get(pk=petition.pk)


@pytest.fixture
def robot_department(world: World) -> Iterator[FakeWebhook]:
    world.dept.email = "dept@example.org"
    world.dept.save()
    with FakeWebhook(fail_first=1) as robot:
        world.housing.webhook_url = robot.url
        world.housing.save()
        yield robot


@pytest.mark.django_db
@override_settings(REMINDER_RETRY_BASE_SECONDS=60)
def test_a_failing_webhook_is_retried_with_backoff_and_the_failure_kept(
    world: World, robot_department: FakeWebhook
) -> None:
    _overdue(world)
    [reminder_id] = reminders.record_overdue_reminders()
    assert reminders.deliver(reminder_id) is False  # the robot answered 500
    reminder = Reminder.objects.get()
    assert reminder.sent_at is None and reminder.attempts == 1
    assert reminder.delivery["webhook"]["ok"] is False and "500" in reminder.delivery["webhook"]["error"]
    assert "webhook" in reminder.last_error
    assert reminder.delivery["inapp"]["ok"] and reminder.delivery["email"]["ok"]
    assert reminder.next_attempt_at is not None
    # Not before the backoff: the sweep leaves it; after it, the sweep queues it again.
    assert reminders.due_for_sweep(now=timezone.now() + dt.timedelta(seconds=30)) == []
    assert reminders.due_for_sweep(now=timezone.now() + dt.timedelta(seconds=61)) == [reminder_id]
    assert reminders.deliver(reminder_id) is True
    reminder.refresh_from_db()
    assert reminder.sent_at is not None and reminder.attempts == 2 and reminder.last_error == ""
    assert reminder.delivery["webhook"] == {**reminder.delivery["webhook"], "ok": True, "attempts": 2}
    # The channels that had succeeded were not repeated: one notification, one email, one robot message.
    assert Notification.objects.filter(reminder=reminder).count() == 1
    assert len(mail.outbox) == 1
    assert len(robot_department.bodies) == 1
    assert reminders.deliver(reminder_id) is False  # sent: a late duplicate task sends nothing


@pytest.mark.django_db
@override_settings(REMINDER_LEASE_SECONDS=300)
def test_a_delivery_abandoned_half_way_resumes_after_its_lease(world: World) -> None:
    _overdue(world)
    [reminder_id] = reminders.record_overdue_reminders()
    # A worker took the lease and wrote the in-app notifications, then died before the rest.
    Reminder.objects.filter(pk=reminder_id).update(
        lease_until=timezone.now() + dt.timedelta(seconds=300),
        next_attempt_at=timezone.now() + dt.timedelta(seconds=300),
        attempts=1,
    )
    reminder = Reminder.objects.select_related("petition").get(pk=reminder_id)
    Notification.objects.create(
        user=world.dept, reminder=reminder, petition=reminder.petition, text="…", created_at=timezone.now()
    )
    assert reminders.deliver(reminder_id) is False  # the lease still holds: no second sender
    with time_machine.travel(timezone.now() + dt.timedelta(seconds=301)):
        assert reminders.due_for_sweep() == [reminder_id]
        assert reminders.deliver(reminder_id) is True
    assert Notification.objects.filter(reminder_id=reminder_id).count() == 1  # keyed: none added


@pytest.mark.django_db
def test_a_later_scan_reads_only_what_is_newly_due(world: World, django_assert_max_num_queries: Any) -> None:
    for _ in range(5):
        _overdue(world)
    assert len(reminders.record_overdue_reminders()) == 5
    assert not ReminderSchedule.objects.filter(next_reminder_at__lte=timezone.now()).exists()
    with django_assert_max_num_queries(5):  # lock, savepoint, select (nothing), release, unlock
        assert reminders.record_overdue_reminders() == []
    # A day later the street level is due for each, and only that.
    with time_machine.travel(timezone.now() + dt.timedelta(hours=24)):
        assert len(reminders.record_overdue_reminders()) == 5
    assert sorted(set(Reminder.objects.values_list("level", flat=True))) == ["remind", "street"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_scans_never_overlap(needs_postgres: None, world: World) -> None:
    _overdue(world)
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [reminders.SCAN_LOCK])
        assert reminders.record_overdue_reminders() == []  # another scan holds the lock
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [reminders.SCAN_LOCK])
    finally:
        other.close()
    assert len(reminders.record_overdue_reminders()) == 1


# --- a real worker and beat against a private Redis


def _env(redis_url: str) -> dict[str, str]:
    db = connection.settings_dict
    return {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "REDIS_URL": redis_url,
        "WANGGE_OVERDUE_SCAN_SECONDS": "1",
        "WANGGE_REMINDER_LEASE_SECONDS": "4",
        "WANGGE_REMINDER_SWEEP_AFTER_SECONDS": "2",
        "EMAIL_URL": "consolemail://",
    }


def _celery(env: dict[str, str], log: Path, *args: str) -> "subprocess.Popen[bytes]":
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "governance", *args, "--loglevel", "INFO"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log.open("w"),
    )


def _wait(condition: Any, seconds: float = 60) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def _stop(*procs: "subprocess.Popen[bytes]") -> None:
    for p in procs:
        if p.poll() is None:
            p.terminate()
    for p in procs:
        try:
            p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_worker_killed_during_a_slow_webhook_then_a_new_worker_delivers_it(
    needs_postgres: None, world: World, tmp_path: Path
) -> None:
    with PrivateRedis() as broker, FakeWebhook(delay=3) as robot:
        world.housing.webhook_url = robot.url
        world.housing.save()
        _overdue(world)
        env = _env(broker.url)
        beat = _celery(env, tmp_path / "beat.log", "beat", "--schedule", str(tmp_path / "beat"))
        first = _celery(env, tmp_path / "worker1.log", "worker", "--pool", "solo")
        second = None
        try:
            assert _wait(lambda: robot.requests >= 1), (tmp_path / "worker1.log").read_text()[-3000:]
            first.send_signal(signal.SIGKILL)  # mid-POST: the robot has the request, no answer recorded
            first.wait()
            reminder = Reminder.objects.get()
            assert reminder.sent_at is None and reminder.delivery["inapp"]["ok"]
            second = _celery(env, tmp_path / "worker2.log", "worker", "--pool", "solo")
            assert _wait(lambda: Reminder.objects.filter(sent_at__isnull=False).exists()), (
                (tmp_path / "worker2.log").read_text()[-3000:]
            )
        finally:
            _stop(beat, first, *([second] if second else []))
    reminder = Reminder.objects.get()
    assert reminder.delivery["webhook"]["ok"] and reminder.attempts == 2
    assert Notification.objects.filter(reminder=reminder, user=world.dept).count() == 1
    assert reminder.delivery["inapp"]["attempts"] == 1  # not repeated by the second worker
    # The robot has the message; at most twice, the one window the README states (died mid-POST).
    assert 1 <= len(robot.bodies) <= 2


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_redis_stopped_when_the_scan_commits_then_the_sweep_queues_it(
    needs_postgres: None, world: World, tmp_path: Path
) -> None:
    broker = PrivateRedis()  # not running: the scan records, queueing fails
    env = _env(broker.url)
    petition = _overdue(world)
    scan = subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); from petitions.tasks import scan_overdue; "
         "print(scan_overdue())"],
        cwd=ROOT, env={**env, "DJANGO_SETTINGS_MODULE": "governance.settings"}, capture_output=True, text=True,
        timeout=60,
    )
    assert scan.stdout.strip() == "1", scan.stderr[-3000:]
    assert "the sweep will" in scan.stderr
    reminder = Reminder.objects.get()
    assert reminder.sent_at is None and reminder.attempts == 0
    with broker:
        beat = _celery(env, tmp_path / "beat.log", "beat", "--schedule", str(tmp_path / "beat"))
        worker = _celery(env, tmp_path / "worker.log", "worker", "--concurrency", "2")
        try:
            assert _wait(lambda: Reminder.objects.filter(sent_at__isnull=False).exists()), (
                (tmp_path / "worker.log").read_text()[-3000:]
            )
        finally:
            _stop(beat, worker)
    assert Notification.objects.filter(petition=petition, user=world.dept).count() == 1
    assert "sweep_reminders" in (tmp_path / "worker.log").read_text()
