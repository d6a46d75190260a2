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

    sender.add_periodic_task(
        settings.OVERDUE_SCAN_SECONDS, sender.signature("petitions.tasks.scan_overdue"), name="scan overdue"
    )
    # Dashboards read the daily figures only while refreshed within a minute (petitions.metrics).
    sender.add_periodic_task(
        settings.DASHBOARD_REFRESH_SECONDS,
        sender.signature("petitions.tasks.refresh_daily_figures"),
        name="refresh dashboard figures",
    )
    sender.add_periodic_task(
        crontab(hour=3, minute=17), sender.signature("petitions.tasks.purge_idempotency_keys"), name="purge keys"
    )
