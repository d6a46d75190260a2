"""The district's working calendar: whether a year's schedule is missing, and the warnings about it.

From 1 November the next year's schedule is due (the State Council publishes it late in the year):
until the package or the district's calendar has it, admins see a banner in admin, ``manage.py
check`` warns (petitions.W001), and a daily task logs it. Deadlines are still set meanwhile, on the
statutory holidays alone, and marked provisional (see ``deadlines``).
"""

import datetime as dt
import logging
from typing import Any

from django.core import checks
from django.db import DatabaseError
from django.utils import timezone

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


def warn_missing_year() -> int | None:
    year = missing_year()
    if year is not None:
        logger.warning("working calendar: the %s schedule has not been entered; deadlines are provisional", year)
    return year
