"""Deadlines on China's working-day calendar (statutory holidays and make-up working days, 调休).

Which days are working days, first match wins:

1. the district's working calendar (``CalendarDay``, maintained in admin): the State Council's
   schedule for a year the package does not know yet, and local holidays;
2. the maintained ``chinesecalendar`` package, for the years it covers;
3. for a year neither covers: the statutory holidays themselves, which are known in advance (the
   ``holidays`` package lists China's, lunar ones included), and Monday–Friday otherwise. Only the
   make-up working days are unknown, so such a deadline is *provisional* (``Deadline.provisional``,
   kept on the petition) and recomputed once the schedule is entered. A deadline is never refused.

The accept clock (签收, in hours) runs on the category's working hours on working days, unless the
category runs it around the clock; urgent petitions always run around the clock.
"""

import datetime as dt
import logging
from dataclasses import dataclass
from functools import lru_cache

import chinese_calendar
import holidays
from django.utils import timezone

logger = logging.getLogger(__name__)

# How far ahead a deadline computation reads the district's entries: days × this + slack covers the
# longest run of holidays (the Spring Festival) many times over.
_WINDOW_FACTOR, _WINDOW_SLACK = 3, 30


@dataclass(frozen=True)
class Deadline:
    at: dt.datetime
    provisional: bool = False


@lru_cache(maxsize=64)
def _package_covers(year: int) -> bool:
    try:
        chinese_calendar.is_workday(dt.date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


@lru_cache(maxsize=64)
def _statutory_holidays(year: int) -> frozenset[dt.date]:
    return frozenset(holidays.country_holidays("CN", years=year))


class WorkingCalendar:
    """The calendar for one computation: the district's entries for a window, loaded in one query."""

    def __init__(self, start: dt.date, end: dt.date) -> None:
        from .models import CalendarDay

        rows = CalendarDay.objects.filter(date__range=(start, end)).values_list("date", "kind", "official")
        self.overrides: dict[dt.date, bool] = {}
        self.published: set[int] = set()
        for day, kind, official in rows:
            self.overrides[day] = kind == CalendarDay.Kind.WORKDAY
            if official:
                self.published.add(day.year)
        self.provisional = False

    def is_working_day(self, day: dt.date) -> bool:
        if day in self.overrides:
            return self.overrides[day]
        if _package_covers(day.year):
            return bool(chinese_calendar.is_workday(day))
        if day.year not in self.published and not year_is_published(day.year):
            self.provisional = True
            _warn_uncovered(day.year)
        return day.weekday() < 5 and day not in _statutory_holidays(day.year)


def year_is_published(year: int) -> bool:
    """Whether the year's schedule is known: the package covers it or the district entered it."""
    from .models import CalendarDay

    return _package_covers(year) or CalendarDay.objects.filter(date__year=year, official=True).exists()


@lru_cache(maxsize=16)
def _warn_uncovered(year: int) -> None:
    logger.warning("no working calendar for %s: counting its statutory holidays and Monday–Friday", year)


def _local(start: dt.datetime) -> dt.datetime:
    return timezone.localtime(start, timezone.get_default_timezone())


def is_working_day(day: dt.date) -> bool:
    return WorkingCalendar(day, day).is_working_day(day)


def working_days_deadline(start: dt.datetime, days: int) -> Deadline:
    """The same local time of day on the ``days``-th working day after ``start``'s date.

    Counted on the district's calendar (``TIME_ZONE``, Asia/Shanghai), whatever time zone is active.
    """
    local = _local(start)
    day = local.date()
    calendar = WorkingCalendar(day, day + dt.timedelta(days=days * _WINDOW_FACTOR + _WINDOW_SLACK))
    remaining = days
    while remaining > 0:
        day += dt.timedelta(days=1)
        if calendar.is_working_day(day):
            remaining -= 1
    return Deadline(local.replace(year=day.year, month=day.month, day=day.day), calendar.provisional)


def add_working_days(start: dt.datetime, days: int) -> dt.datetime:
    return working_days_deadline(start, days).at


def working_hours_deadline(start: dt.datetime, hours: int, opens: dt.time, closes: dt.time) -> Deadline:
    """``hours`` of working time after ``start``: only the hours between ``opens`` and ``closes`` on
    working days count (Friday 17:00 + 2 h with 08:30–17:30 is Monday 10:00)."""
    local = _local(start)
    tz = local.tzinfo
    calendar = WorkingCalendar(local.date(), local.date() + dt.timedelta(days=hours // 8 * 3 + _WINDOW_SLACK))
    left = dt.timedelta(hours=hours)
    cursor = local
    while True:
        day = cursor.date()
        if calendar.is_working_day(day):
            opening = dt.datetime.combine(day, opens, tzinfo=tz)
            closing = dt.datetime.combine(day, closes, tzinfo=tz)
            begin = max(cursor, opening)
            if begin < closing:
                if begin + left <= closing:
                    return Deadline(begin + left, calendar.provisional)
                left -= closing - begin
        cursor = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0, 0), tzinfo=tz)


def add_hours(start: dt.datetime, hours: int) -> dt.datetime:
    return start + dt.timedelta(hours=hours)
