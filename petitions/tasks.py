"""Celery tasks: thin, ids in, services out. Deliveries run on their own queue (``reminders``)."""

import logging

from celery import shared_task

from . import idempotency, reminders

logger = logging.getLogger(__name__)

DELIVERY_QUEUE = "reminders"


def queue_deliveries(reminder_ids: list[int]) -> None:
    """Hand recorded reminders to the workers. A broker that is down or hung loses nothing: the row
    stays pending and the sweep queues it again once its next attempt is due."""
    for reminder_id in reminder_ids:
        try:
            deliver_reminder.apply_async((reminder_id,), queue=DELIVERY_QUEUE, retry=False)
        except Exception as exc:  # the broker's errors vary by transport; the sweep is the fallback
            logger.warning("could not queue reminder %s (%s); the sweep will", reminder_id, exc)
            return


@shared_task(name="petitions.tasks.scan_overdue")
def scan_overdue() -> int:
    """Record (once) a reminder or escalation for every open petition newly past a deadline, and queue it."""
    return len(reminders.record_overdue_reminders(queue=queue_deliveries))


@shared_task(name="petitions.tasks.sweep_reminders")
def sweep_reminders() -> int:
    """Queue again every pending reminder whose next attempt is due (lost, failed or abandoned)."""
    ids = reminders.due_for_sweep()
    queue_deliveries(ids)
    return len(ids)


@shared_task(name="petitions.tasks.deliver_reminder")
def deliver_reminder(reminder_id: int) -> bool:
    """Deliver one recorded reminder on its channels; a repeat sends only what was not recorded as done."""
    return reminders.deliver(reminder_id)


@shared_task(name="petitions.tasks.purge_idempotency_keys")
def purge_idempotency_keys() -> int:
    """Forget Idempotency-Key answers older than 24 hours (run daily by beat)."""
    return idempotency.purge_expired()


@shared_task(name="petitions.tasks.warn_calendar")
def warn_calendar() -> int | None:
    """Daily: say, in the log, when next year's working calendar is due and missing."""
    from .calendar import warn_missing_year

    return warn_missing_year()
