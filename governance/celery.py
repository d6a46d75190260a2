"""The Celery app. Tasks are thin: ids in, services out."""

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "governance.settings")

app = Celery("wangge")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_finalize.connect
def setup_periodic_tasks(sender: Celery, **kwargs: object) -> None:
    from django.conf import settings

    every = settings.OVERDUE_SCAN_SECONDS
    # A scan or sweep not started within its interval is dropped (the next one does its work), so
    # they never pile up ahead of each other; the scan also takes a lock (petitions.reminders).
    sender.add_periodic_task(
        every, sender.signature("petitions.tasks.scan_overdue", options={"expires": every}), name="scan overdue"
    )
    sender.add_periodic_task(
        every, sender.signature("petitions.tasks.sweep_reminders", options={"expires": every}), name="sweep reminders"
    )
    sender.add_periodic_task(
        settings.HEARTBEAT_SECONDS, sender.signature("governance.tasks.heartbeat"), name="heartbeat"
    )
    # Dashboards read the daily figures only while refreshed within a minute (petitions.metrics).
    sender.add_periodic_task(
        settings.DASHBOARD_REFRESH_SECONDS,
        sender.signature("petitions.tasks.refresh_daily_figures"),
        name="refresh dashboard figures",
    )
    # One at a time: a vacuum not started within its interval is dropped.
    sender.add_periodic_task(
        settings.DASHBOARD_VACUUM_SECONDS,
        sender.signature(
            "petitions.tasks.vacuum_daily_figures", options={"expires": settings.DASHBOARD_VACUUM_SECONDS}
        ),
        name="vacuum dashboard figures",
    )
    sender.add_periodic_task(
        crontab(hour=3, minute=17), sender.signature("petitions.tasks.purge_idempotency_keys"), name="purge keys"
    )
    sender.add_periodic_task(
        crontab(hour=8, minute=0), sender.signature("petitions.tasks.warn_calendar"), name="calendar warning"
    )
