"""Celery tasks: thin, ids in, services out."""

from functools import partial

from celery import shared_task
from django.db import transaction

from . import idempotency, metrics, reminders


@shared_task(name="petitions.tasks.scan_overdue")
def scan_overdue() -> int:
    """Record (once) a reminder or escalation for every open petition past its stage deadline, and queue it."""
    created = reminders.record_overdue_reminders()
    for reminder_id in created:
        transaction.on_commit(partial(deliver_reminder.delay, reminder_id))
    return len(created)


@shared_task(name="petitions.tasks.deliver_reminder")
def deliver_reminder(reminder_id: int) -> bool:
    """Send one recorded reminder on its channels; a repeat delivery of the same id sends nothing."""
    return reminders.deliver(reminder_id)


@shared_task(name="petitions.tasks.purge_idempotency_keys")
def purge_idempotency_keys() -> int:
    """Forget Idempotency-Key answers older than 24 hours (run daily by beat)."""
    return idempotency.purge_expired()


@shared_task(name="petitions.tasks.refresh_daily_figures")
def refresh_daily_figures() -> int:
    """Bring the dashboards' daily figures up to date (beat, every ``DASHBOARD_REFRESH_SECONDS``)."""
    return metrics.refresh_daily_figures()
