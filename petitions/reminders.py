"""Overdue handling (督办): at a stage's deadline remind whoever holds it, later escalate.

Recording: each reminder is a row with a unique (petition, stage, level, round), so however many
beat processes scan, and however often a scan is retried, inserting it succeeds once.
Sending: the delivery task first claims the row (``sent_at`` from NULL to now in one UPDATE); only
the process whose UPDATE matched sends, so a reminder is sent once (at most once: a crash after the
claim loses that reminder's messages, which we prefer to nagging a department twice).
Channels: in-app notifications, email to the recipients, and the department's group-robot webhook
(WeCom and DingTalk robots both take ``{"msgtype": "text", "text": {"content": ...}}``).
"""

import datetime as dt
import json
import logging
import urllib.error
import urllib.request
from typing import Any

from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from governance.models import User

from .models import Notification, Petition, Reminder, Status

logger = logging.getLogger(__name__)

# How long past the stage deadline each level fires.
LEVEL_AFTER = (
    (Reminder.Level.REMIND, dt.timedelta(0)),
    (Reminder.Level.STREET, dt.timedelta(days=1)),
    (Reminder.Level.DISTRICT, dt.timedelta(days=3)),
)
WEBHOOK_TIMEOUT_SECONDS = 5


def record_overdue_reminders(*, now: dt.datetime | None = None, batch: int = 500) -> list[int]:
    """Record each due reminder once. Returns the ids of the new ones (``tasks`` queues their delivery)."""
    now = now or timezone.now()
    created: list[int] = []
    overdue = (
        Petition.objects.overdue(now)
        .order_by("current_due")
        .values_list("id", "status", "current_due", "rehandle_count")
    )
    for petition_id, status, due, rehandles in overdue.iterator(chunk_size=batch):
        for level, after in LEVEL_AFTER:
            if due is None or now - due < after:
                break
            try:
                with transaction.atomic():
                    reminder = Reminder.objects.create(
                        petition_id=petition_id, stage=status, level=level, round=rehandles, created_at=now
                    )
            except IntegrityError:
                continue  # recorded already, by an earlier scan or another beat
            created.append(reminder.pk)
    return created


def recipients(reminder: Reminder) -> QuerySet[User]:
    """Who hears of it: the holder of the stage, then the street's officials, then leadership."""
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
    if reminder.level == Reminder.Level.STREET or reminder.stage in (Status.REGISTERED, Status.REPORTED):
        return officials
    if reminder.stage in (Status.DISPATCHED, Status.ACCEPTED) and petition.department_id:
        return active.filter(role=User.Role.DEPARTMENT, department_id=petition.department_id)
    # Follow-up overdue: the grid's own workers.
    return active.filter(
        Q(grid_assignments__grid=petition.grid) | Q(role=User.Role.WORKER, scope_node=branch)
    ).distinct()


def message_for(reminder: Reminder) -> str:
    petition = reminder.petition
    return _("[%(level)s] Petition %(number)s “%(title)s” is overdue at stage %(stage)s (deadline %(due)s).") % {
        "level": reminder.get_level_display(),
        "number": petition.number,
        "title": petition.title,
        "stage": reminder.get_stage_display(),
        "due": timezone.localtime(petition.current_due).strftime("%Y-%m-%d %H:%M") if petition.current_due else "—",
    }


def deliver(reminder_id: int) -> bool:
    """Send one reminder on every channel, once. Returns False when it had been sent already."""
    now = timezone.now()
    if not Reminder.objects.filter(pk=reminder_id, sent_at__isnull=True).update(sent_at=now):
        return False
    reminder = Reminder.objects.select_related("petition__grid__branch", "petition__department").get(pk=reminder_id)
    text = message_for(reminder)
    people = list(recipients(reminder))
    Notification.objects.bulk_create(
        [
            Notification(user=u, reminder=reminder, petition=reminder.petition, text=text[:200], created_at=now)
            for u in people
        ],
        ignore_conflicts=True,
    )
    delivery: dict[str, Any] = {"notified": len(people)}
    emails = sorted({u.email for u in people if u.email})
    if emails:
        try:
            send_mail(_("Overdue petition %(number)s") % {"number": reminder.petition.number}, text, None, emails)
            delivery["emailed"] = len(emails)
        except OSError as exc:
            delivery["email_error"] = str(exc)
    department = reminder.petition.department
    if department is not None and department.webhook_url and reminder.level == Reminder.Level.REMIND:
        delivery["webhook"] = _post_webhook(department.webhook_url, text)
    Reminder.objects.filter(pk=reminder_id).update(delivery=delivery)
    logger.info("reminder %s sent: %s", reminder_id, delivery)
    return True


def _post_webhook(url: str, text: str) -> str:
    body = json.dumps({"msgtype": "text", "text": {"content": text}}, ensure_ascii=False).encode()
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=WEBHOOK_TIMEOUT_SECONDS) as response:
            return f"HTTP {response.status}"
    except (urllib.error.URLError, OSError) as exc:
        logger.warning("webhook %s failed: %s", url, exc)
        return f"failed: {exc}"


__all__ = ["deliver", "recipients", "record_overdue_reminders"]
