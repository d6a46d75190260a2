"""Deadlines on China's working-day calendar (statutory holidays and make-up working days, 调休).

The calendar comes from the maintained ``chinesecalendar`` package. For a year it does not cover
yet (the State Council publishes each year's schedule late in the year before), we fall back to
Monday–Friday and log a warning once per year, so a deadline is never refused.
"""

import datetime as dt
import logging
from functools import lru_cache

import chinese_calendar
from django.utils import timezone

logger = logging.getLogger(__name__)


@lru_cache(maxsize=4096)
def is_working_day(day: dt.date) -> bool:
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        _warn_uncovered(day.year)
        return day.weekday() < 5


@lru_cache(maxsize=16)
def _warn_uncovered(year: int) -> None:
    logger.warning("chinesecalendar has no %s schedule; counting Monday–Friday as working days", year)


def add_working_days(start: dt.datetime, days: int) -> dt.datetime:
    """The same local time of day on the ``days``-th working day after ``start``'s date.

    Counted on the district's calendar (``TIME_ZONE``, Asia/Shanghai), whatever time zone is active.
    """
    local = timezone.localtime(start, timezone.get_default_timezone())
    day = local.date()
    remaining = days
    while remaining > 0:
        day += dt.timedelta(days=1)
        if is_working_day(day):
            remaining -= 1
    return local.replace(year=day.year, month=day.month, day=day.day)


def add_hours(start: dt.datetime, hours: int) -> dt.datetime:
    return start + dt.timedelta(hours=hours)
