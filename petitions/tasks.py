"""Celery tasks: thin, ids in, services out."""

from celery import shared_task

from . import idempotency, reminders


@shared_task(name="petitions.tasks.scan_overdue")
def scan_overdue() -> int:
    """Record (once) a reminder or escalation for every open petition past its stage deadline."""
    return reminders.record_overdue_reminders()


@shared_task(name="petitions.tasks.deliver_reminder")
def deliver_reminder(reminder_id: int) -> bool:
    """Send one recorded reminder on its channels; a repeat delivery of the same id sends nothing."""
    return reminders.deliver(reminder_id)


@shared_task(name="petitions.tasks.purge_idempotency_keys")
def purge_idempotency_keys() -> int:
    """Forget Idempotency-Key answers older than 24 hours (run daily by beat)."""
    return idempotency.purge_expired()
