"""Overdue handling (督办): at a stage's deadline remind whoever holds it, later escalate.

The database is the source of truth; the broker only carries hints.

Recording: the scan reads only the schedule rows (``ReminderSchedule``, a narrow table of its own)
whose ``next_reminder_at`` has come (a partial index), records the levels now due on the ladder
(``models.reminder_ladder``; unique per petition, stage, level and round, inserted in one statement)
and moves each ``next_reminder_at`` to the next rung, or clears it, in one set-based UPDATE, in the
same transaction. A later scan with nothing new reads nothing. One scan runs at a time (a PostgreSQL
advisory lock); schedule rows a transition holds are skipped this time.

Delivering: a reminder is pending (``sent_at`` NULL) until every channel has recorded success. A
worker takes a lease on the row, then works channel by channel, recording each outcome as it goes:
in-app notifications (unique per reminder and user, so a second run adds none), email, and the
department's group-robot webhook (WeCom and DingTalk robots both take ``{"msgtype": "text", ...}``).
A channel that failed is retried with exponential backoff, its attempts and last error kept. The
periodic sweep re-queues every pending reminder whose next attempt is due: one whose queueing failed
(broker down), whose message was lost (broker restarted), or whose worker died (its lease ran out).

Guarantee: every recorded reminder is delivered on every channel at least once, as long as the
channel eventually accepts it. A channel is repeated only when a worker dies after that channel
accepted the message and before its success was recorded (one UPDATE later): for a robot webhook,
which takes no idempotency key, that window is the only way to a duplicate; in-app notifications are
never doubled.
"""

import datetime as dt
import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any

import psycopg
import requests
from django.conf import settings
from django.core.mail import send_mail
from django.db import connection, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from governance.access import covering
from governance.models import User
from grids.models import GridAssignment

from .models import Notification, Reminder, ReminderSchedule, Status, next_reminder_at, reminder_ladder

logger = logging.getLogger(__name__)

WEBHOOK_TIMEOUT_SECONDS = 5
SCAN_LOCK = 0x7767_0014  # the advisory-lock key of the overdue scan
Queue = Callable[[list[int]], None]


def _seconds(name: str, default: int) -> dt.timedelta:
    return dt.timedelta(seconds=getattr(settings, name, default))


@contextmanager
def _scan_lock() -> Iterator[bool]:
    """One scan at a time: a session advisory lock (released by PostgreSQL if the worker dies)."""
    if connection.vendor != "postgresql":
        yield True
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [SCAN_LOCK])
        got = bool(cursor.fetchone()[0])
    try:
        yield got
    finally:
        if got:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [SCAN_LOCK])


def record_overdue_reminders(
    *, now: dt.datetime | None = None, batch: int = 2000, queue: Queue | None = None
) -> list[int]:
    """Record each newly due reminder once; ``queue`` gets each batch's new ids once it commits.

    Returns the ids of the new reminders ([] when another scan is running).
    """
    now = now or timezone.now()
    created: list[int] = []
    with _scan_lock() as got:
        if not got:
            logger.info("overdue scan skipped: another scan is running")
            return []
        while True:
            new_ids, done = _record_batch(now, batch, queue)
            created.extend(new_ids)
            if done:
                return created


def _record_batch(now: dt.datetime, batch: int, queue: Queue | None) -> tuple[list[int], bool]:
    sweep_after = _seconds("REMINDER_SWEEP_AFTER_SECONDS", 120)
    with transaction.atomic():
        # Only the schedule rows are locked: a transition holding one is skipped this time, and a
        # transition that comes after this batch writes its own schedule once the batch commits.
        due = list(
            ReminderSchedule.objects.filter(next_reminder_at__lte=now)
            .order_by("next_reminder_at")
            .select_for_update(of=("self",), skip_locked=True)
            .values_list(
                "petition_id", "petition__status", "petition__current_due", "petition__rehandle_count",
                "petition__warn_yellow_at", "petition__warn_red_at",
                "petition__category__escalate_street_after_hours",
                "petition__category__escalate_district_after_hours",
            )[:batch]
        )
        rows: list[tuple[int, str, str, int]] = []
        following: list[tuple[int, dt.datetime | None]] = []
        for petition_id, status, due_at, rehandles, yellow_at, red_at, street_hours, district_hours in due:
            ladder = reminder_ladder(due_at, yellow_at, red_at, escalations=(street_hours, district_hours), now=now)
            rows += [(petition_id, status, level, rehandles) for level, at in ladder if at <= now]
            following.append((petition_id, next_reminder_at(ladder, now)))
        new_ids = _insert_reminders(rows, now, now + sweep_after)
        _set_next_reminder(following)
        if new_ids and queue is not None:
            transaction.on_commit(partial(queue, new_ids))
    return new_ids, len(due) < batch


def _bound_cursor() -> psycopg.Cursor[Any]:
    """A cursor on Django's connection (so in its transaction) that sends parameters apart from the
    SQL, in binary: Django's own cursor quotes each array element into the statement's text, which
    for a batch's thousands of elements cost more than the statement."""
    connection.ensure_connection()
    return psycopg.Cursor(connection.connection)


def _insert_reminders(rows: list[tuple[int, str, str, int]], now: dt.datetime, attempt_at: dt.datetime) -> list[int]:
    """Insert the rows not recorded yet (reminder_once); the ids of those inserted."""
    if not rows:
        return []
    if connection.vendor == "postgresql":  # one statement, RETURNING the new ids
        petition_ids, stages, levels, rounds = (list(c) for c in zip(*rows, strict=True))
        with _bound_cursor() as cursor:
            cursor.execute(
                f"""INSERT INTO {Reminder._meta.db_table}
                        (petition_id, stage, level, round, created_at, next_attempt_at,
                         delivery, attempts, last_error, given_up)
                    SELECT p, s, l, r, %b, %b, '{{}}'::jsonb, 0, '', false
                    FROM unnest(%b::bigint[], %b::text[], %b::text[], %b::int[]) AS v(p, s, l, r)
                    ON CONFLICT DO NOTHING RETURNING id""",
                [now, attempt_at, petition_ids, stages, levels, rounds],
            )
            return [r[0] for r in cursor.fetchall()]
    Reminder.objects.bulk_create(
        [
            Reminder(petition_id=p, stage=s, level=lv, round=r, created_at=now, next_attempt_at=attempt_at)
            for p, s, lv, r in rows
        ],
        ignore_conflicts=True,
    )
    return list(
        Reminder.objects.filter(petition_id__in={r[0] for r in rows}, created_at=now).values_list("id", flat=True)
    )


def _set_next_reminder(following: list[tuple[int, dt.datetime | None]]) -> None:
    """Advance the batch's schedule rows in one set-based UPDATE."""
    if not following:
        return
    if connection.vendor == "postgresql":
        ids, times = (list(c) for c in zip(*following, strict=True))
        with _bound_cursor() as cursor:
            cursor.execute(
                f"""UPDATE {ReminderSchedule._meta.db_table} s SET next_reminder_at = v.t
                    FROM unnest(%b::bigint[], %b::timestamptz[]) AS v(id, t) WHERE s.petition_id = v.id""",
                [ids, times],
            )
        return
    ReminderSchedule.objects.bulk_update(
        [ReminderSchedule(petition_id=pk, next_reminder_at=at) for pk, at in following],
        ["next_reminder_at"],
        batch_size=500,
    )


def recipients(reminder: Reminder) -> QuerySet[User]:
    """Who hears of it: the holder of the stage, then the street's officials, then leadership.

    Only those whose scope covers the petition (``governance.access.covers``): an assignment to a
    grid outside one's scope does not bring its petitions' reminders.
    """
    return _candidates(reminder).filter(pk__in=[user.pk for user in _recipient_list(reminder)])


def _recipient_list(reminder: Reminder) -> list[User]:
    """``recipients`` in two queries however many they are (the candidates, then who covers it)."""
    candidates = list(_candidates(reminder))
    covered = covering(candidates, reminder.petition)
    return [user for user in candidates if user.pk in covered]


def _candidates(reminder: Reminder) -> QuerySet[User]:
    petition = reminder.petition
    branch = petition.grid.branch
    active = User.objects.filter(is_active=True)
    if reminder.level == Reminder.Level.DISTRICT:
        return active.filter(role=User.Role.LEADER)
    # The officials whose scope node is the branch or above it (the branch lies in their subtree).
    officials = active.filter(
        role=User.Role.OFFICIAL,
        scope_node__tree_id=branch.tree_id,
        scope_node__lft__lte=branch.lft,
        scope_node__rght__gte=branch.rght,
    )
    # Warnings go to whoever holds the stage, like the first reminder.
    if reminder.level == Reminder.Level.STREET or reminder.stage in (Status.REGISTERED, Status.REPORTED):
        return officials
    if reminder.stage in (Status.DISPATCHED, Status.ACCEPTED) and petition.department_id:
        return active.filter(role=User.Role.DEPARTMENT, department_id=petition.department_id)
    # Follow-up overdue: the grid's own workers.
    # Two index lookups OR-ed by id (a join OR-ed with a column, made DISTINCT, read every user).
    assigned = GridAssignment.objects.filter(grid_id=petition.grid_id).values("user_id")
    return active.filter(Q(pk__in=assigned) | Q(role=User.Role.WORKER, scope_node=branch))


WARNINGS = frozenset({Reminder.Level.YELLOW, Reminder.Level.RED})


def message_for(reminder: Reminder) -> str:
    petition = reminder.petition
    values = {
        "level": reminder.get_level_display(),
        "number": petition.number,
        "title": petition.title,
        "stage": reminder.get_stage_display(),
        "due": timezone.localtime(petition.current_due).strftime("%Y-%m-%d %H:%M") if petition.current_due else "—",
    }
    if reminder.level in WARNINGS:
        return _("[%(level)s] Petition %(number)s “%(title)s” is due at stage %(stage)s by %(due)s.") % values
    return _("[%(level)s] Petition %(number)s “%(title)s” is overdue at stage %(stage)s (deadline %(due)s).") % values


def _backoff(attempts: int) -> dt.timedelta:
    base = getattr(settings, "REMINDER_RETRY_BASE_SECONDS", 60)
    return dt.timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), 6 * 3600))


def deliver(reminder_id: int) -> bool:
    """Deliver one reminder on every channel not yet recorded as done. True once it is fully sent.

    Returns False, sending nothing, when it was sent already or another worker holds its lease.

    Commits: one for the lease together with the in-app notifications and their record (nothing
    leaves the database in it, so it succeeds or leaves no trace), then one after each outside
    channel (email, webhook), the last of them together with the final state: a delivery with a
    webhook is two or three commits, not six.
    """
    now = timezone.now()
    lease = _seconds("REMINDER_LEASE_SECONDS", 300)
    with transaction.atomic():
        claimed = (
            Reminder.objects.filter(pk=reminder_id, sent_at__isnull=True, given_up=False)
            .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
            .update(lease_until=now + lease, next_attempt_at=now + lease, attempts=F("attempts") + 1)
        )
        if not claimed:
            return False
        reminder = Reminder.objects.select_related("petition__grid__branch", "petition__department").get(
            pk=reminder_id
        )
        text = message_for(reminder)
        people = _recipient_list(reminder)
        delivery: dict[str, Any] = dict(reminder.delivery)

        def record(channel: str, ok: bool, detail: str) -> None:
            entry = dict(delivery.get(channel) or {})
            entry.update(ok=ok, at=timezone.now().isoformat(), attempts=entry.get("attempts", 0) + 1)
            entry["detail" if ok else "error"] = detail
            delivery[channel] = entry

        def pending(channel: str) -> bool:
            return not (delivery.get(channel) or {}).get("ok")

        if pending("inapp"):
            Notification.objects.bulk_create(
                [
                    Notification(user=u, reminder=reminder, petition=reminder.petition, text=text[:200], created_at=now)
                    for u in people
                ],
                ignore_conflicts=True,
            )
            record("inapp", True, str(len(people)))
        outside = _outside_channels(reminder, people, text, pending)
        if not outside:
            return _finish(reminder, delivery)
        Reminder.objects.filter(pk=reminder_id).update(delivery=delivery)
    for position, (channel, send) in enumerate(outside, start=1):
        ok, detail = send()
        record(channel, ok, detail)
        if position < len(outside):  # the last one is recorded with the final state
            Reminder.objects.filter(pk=reminder_id).update(delivery=delivery)
    return _finish(reminder, delivery)


def _finish(reminder: Reminder, delivery: dict[str, Any]) -> bool:
    """Record the outcome: sent when every channel succeeded, else the error and the next attempt."""
    reminder_id = reminder.pk
    failed = {c: e["error"] for c, e in delivery.items() if not e.get("ok")}
    done = timezone.now()
    if not failed:
        Reminder.objects.filter(pk=reminder_id).update(
            delivery=delivery, sent_at=done, lease_until=None, next_attempt_at=None, last_error=""
        )
        logger.info("reminder %s sent: %s", reminder_id, delivery)
        return True
    error = "; ".join(f"{c}: {e}" for c, e in sorted(failed.items()))
    attempts = reminder.attempts
    give_up = attempts >= getattr(settings, "REMINDER_MAX_ATTEMPTS", 10)
    Reminder.objects.filter(pk=reminder_id).update(
        delivery=delivery, lease_until=None, next_attempt_at=None if give_up else done + _backoff(attempts),
        last_error=error[:2000], given_up=give_up,
    )
    logger.warning("reminder %s not fully delivered (attempt %s): %s", reminder_id, attempts, error)
    return False


Send = Callable[[], tuple[bool, str]]


def _outside_channels(
    reminder: Reminder, people: list[User], text: str, pending: Callable[[str], bool]
) -> list[tuple[str, Send]]:
    """The channels outside the database still to do, in order: email, then the department's robot."""
    channels: list[tuple[str, Send]] = []
    emails = sorted({u.email for u in people if u.email})
    if emails and pending("email"):
        subject = (
            _("Deadline warning for petition %(number)s")
            if reminder.level in WARNINGS
            else _("Overdue petition %(number)s")
        ) % {"number": reminder.petition.number}
        channels.append(("email", partial(_send_email, subject, text, emails)))
    department = reminder.petition.department
    if (
        department is not None
        and department.webhook_url
        and reminder.level == Reminder.Level.REMIND
        and pending("webhook")
    ):
        channels.append(("webhook", partial(_post_webhook, department.webhook_url, text)))
    return channels


def _send_email(subject: str, text: str, emails: list[str]) -> tuple[bool, str]:
    try:
        send_mail(subject, text, None, emails)
    except OSError as exc:
        return False, str(exc)
    return True, str(len(emails))


def due_for_sweep(*, now: dt.datetime | None = None, limit: int = 5000) -> list[int]:
    """Pending reminders whose next attempt is due, pushed a sweep interval on so the next sweep
    does not queue them again while they wait in the queue."""
    now = now or timezone.now()
    with transaction.atomic():
        ids = list(
            Reminder.objects.filter(sent_at__isnull=True, given_up=False, next_attempt_at__lte=now)
            .order_by("next_attempt_at")
            .select_for_update(skip_locked=True)
            .values_list("id", flat=True)[:limit]
        )
        Reminder.objects.filter(pk__in=ids).update(
            next_attempt_at=now + _seconds("REMINDER_SWEEP_AFTER_SECONDS", 120)
        )
    return ids


_sessions: dict[int, requests.Session] = {}


def _http() -> requests.Session:
    """One pooled HTTP session per worker process (keep-alive to the robots; never shared by a fork)."""
    pid = os.getpid()
    if pid not in _sessions:
        _sessions.clear()
        _sessions[pid] = requests.Session()
    return _sessions[pid]


def _post_webhook(url: str, text: str) -> tuple[bool, str]:
    try:
        response = _http().post(
            url, json={"msgtype": "text", "text": {"content": text}}, timeout=WEBHOOK_TIMEOUT_SECONDS
        )
    except requests.RequestException as exc:
        logger.warning("webhook %s failed: %s", url, exc)
        return False, str(exc)
    return 200 <= response.status_code < 300, f"HTTP {response.status_code}"


__all__ = ["deliver", "due_for_sweep", "recipients", "record_overdue_reminders"]
