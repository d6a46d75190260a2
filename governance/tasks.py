"""The project's own Celery task: beat's heartbeat, read by /healthz."""

from celery import shared_task

from .health import record_heartbeat


@shared_task(name="governance.tasks.heartbeat")
def heartbeat() -> None:
    record_heartbeat()
