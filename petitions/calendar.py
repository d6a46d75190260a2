"""The district's working calendar: whether a year's schedule is missing, and the warnings about it.

From 1 November the next year's schedule is due (the State Council publishes it late in the year):
until the package or the district's calendar has it, admins see a banner in admin, ``manage.py
check`` warns (petitions.W001), and a daily task writes a notice to each admin. Deadlines are still
set meanwhile, on the statutory holidays alone, and marked provisional (see ``deadlines``).
"""

import datetime as dt
import logging
from typing import Any

from django.core import checks
from django.db import DatabaseError
from django.utils import timezone
from django.utils.translation import gettext as _

from .deadlines import year_is_published

logger = logging.getLogger(__name__)

# The day from which the next year's schedule is awaited (month, day).
WARN_FROM = (11, 1)


def missing_year(today: dt.date | None = None) -> int | None:
    """The year whose schedule deadlines may already fall in but nobody has entered, if any."""
    today = today or timezone.localdate()
    if not year_is_published(today.year):
        return today.year
    if (today.month, today.day) >= WARN_FROM and not year_is_published(today.year + 1):
        return today.year + 1
    return None


def missing_year_text(year: int) -> str:
    """What admins are told while ``year``'s schedule is missing (the banner and the daily notice)."""
    return _(
        "The working calendar for %(year)d has not been entered: deadlines in %(year)d count statutory "
        "holidays only and are provisional. Enter the State Council's schedule under Working calendar."
    ) % {"year": year}


def missing_year_or_none() -> int | None:
    """``missing_year`` where a failing database must not break the page or the check."""
    try:
        return missing_year()
    except DatabaseError:
        return None


@checks.register()
def check_calendar(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    year = missing_year_or_none()
    if year is None:
        return []
    return [
        checks.Warning(
            f"No working calendar for {year}: deadlines in it count statutory holidays only and are provisional.",
            hint="Enter the State Council's schedule in admin (Working calendar), then run recompute_deadlines.",
            id="petitions.W001",
        )
    ]


def warn_missing_year(*, now: dt.datetime | None = None) -> int | None:
    """Daily: while a year's schedule is missing, a notice to each admin who may enter it.

    One row per admin and day (keyed: a second beat the same day adds none), in their reminders and
    on their home page. Returns the missing year, or None.
    """
    from django.contrib.auth import get_user_model
    from django.urls import reverse

    from .models import Notification

    now = now or timezone.now()
    today = timezone.localdate(now)
    year = missing_year(today)
    if year is None:
        return None
    logger.warning("working calendar: the %s schedule has not been entered; deadlines are provisional", year)
    admins = get_user_model().objects.with_perm(
        "petitions.add_calendarday", backend="django.contrib.auth.backends.ModelBackend"
    )
    text = missing_year_text(year)
    Notification.objects.bulk_create(
        [
            Notification(
                user=admin, key=f"calendar-missing:{year}:{today.isoformat()}",
                url=reverse("admin:petitions_calendarday_changelist"), text=text[:200], created_at=now,
            )
            for admin in admins
        ],
        ignore_conflicts=True,
    )
    return year
