"""Overdue handling (督办): at a stage's deadline remind the department, later escalate.

Each reminder is a row with a unique (petition, stage, level, round): whatever the number of beat
processes or retries, inserting it succeeds once, and only the process that inserted it sends it.
"""

import datetime as dt
import logging

from django.db import IntegrityError, transaction
from django.utils import timezone

from .models import OPEN_STATUSES, Petition, Reminder

logger = logging.getLogger(__name__)

# How long past the deadline each level fires.
LEVEL_AFTER = (
    (Reminder.Level.REMIND, dt.timedelta(0)),
    (Reminder.Level.STREET, dt.timedelta(days=1)),
    (Reminder.Level.DISTRICT, dt.timedelta(days=3)),
)


def record_overdue_reminders(*, now: dt.datetime | None = None, batch: int = 500) -> int:
    now = now or timezone.now()
    created = 0
    overdue = (
        Petition.objects.filter(status__in=OPEN_STATUSES, current_due__lt=now)
        .order_by("current_due")
        .values_list("id", "status", "current_due", "rehandle_count")
    )
    for petition_id, status, due, rehandles in overdue.iterator(chunk_size=batch):
        for level, after in LEVEL_AFTER:
            if due is None or now - due < after:
                break
            try:
                with transaction.atomic():
                    Reminder.objects.create(
                        petition_id=petition_id,
                        stage=status,
                        level=level,
                        round=rehandles,
                        created_at=now,
                        sent_at=now,
                    )
            except IntegrityError:
                continue  # already recorded by an earlier scan or another beat
            created += 1
            logger.info("overdue %s petition=%s stage=%s", level, petition_id, status)
    return created
