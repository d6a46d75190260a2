"""Celery tasks: thin, ids in, services out. Deliveries run on their own queue (``reminders``)."""

import logging

from celery import shared_task

from . import idempotency, metrics, reminders

logger = logging.getLogger(__name__)

DELIVERY_QUEUE = "reminders"
# Reminders per queued message: a scan of 150,000 queues 300 messages, not 150,000. Publishing one
# costs a few milliseconds on a busy machine, which at 50 a message (3,000) outweighed the whole scan;
# 500 is still a few seconds of work for a worker, so two or more share a scan's deliveries evenly.
DELIVERY_CHUNK = 500


def queue_deliveries(reminder_ids: list[int]) -> None:
    """Hand recorded reminders to the workers. A broker that is down or hung loses nothing: the rows
    stay pending and the sweep queues them again once their next attempt is due."""
    start = 0
    try:
        with deliver_reminders.app.producer_or_acquire() as producer:  # one connection for them all
            for start in range(0, len(reminder_ids), DELIVERY_CHUNK):
                chunk = reminder_ids[start : start + DELIVERY_CHUNK]
                deliver_reminders.apply_async((chunk,), queue=DELIVERY_QUEUE, retry=False, producer=producer)
    except Exception as exc:  # the broker's errors vary by transport; the sweep is the fallback
        logger.warning("could not queue %d reminders (%s); the sweep will", len(reminder_ids) - start, exc)


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


@shared_task(name="petitions.tasks.deliver_reminders")
def deliver_reminders(reminder_ids: list[int]) -> int:
    """Deliver recorded reminders on their channels; a repeat sends only what was not recorded as done.
    Returns how many were fully sent now."""
    return sum(reminders.deliver(reminder_id) for reminder_id in reminder_ids)


@shared_task(name="petitions.tasks.purge_idempotency_keys")
def purge_idempotency_keys() -> int:
    """Forget Idempotency-Key answers older than 24 hours (run daily by beat)."""
    return idempotency.purge_expired()


@shared_task(name="petitions.tasks.warn_calendar")
def warn_calendar() -> int | None:
    """Daily: when a year's working calendar is due and missing, a notice to each admin (once a day)."""
    from .calendar import warn_missing_year

    return warn_missing_year()


@shared_task(name="petitions.tasks.refresh_daily_figures")
def refresh_daily_figures() -> int:
    """Bring the dashboards' daily figures up to date (beat, every ``DASHBOARD_REFRESH_SECONDS``)."""
    return metrics.refresh_daily_figures()


@shared_task(name="petitions.tasks.vacuum_daily_figures")
def vacuum_daily_figures() -> bool:
    """Keep the dashboards' reads of the daily figures index-only (beat, every ``DASHBOARD_VACUUM_SECONDS``)."""
    return metrics.vacuum_daily_figures()
