"""Deadlines on China's working-day calendar, and the deadlines a petition gets from its category."""

import datetime as dt
import logging
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone

from petitions import deadlines, services
from petitions.deadlines import (
    Deadline,
    add_hours,
    add_working_days,
    is_working_day,
    working_days_deadline,
    working_hours_deadline,
)
from petitions.models import CalendarDay, Petition, Priority

from ..conftest import World
from ..factories import CategoryFactory

SHANGHAI = ZoneInfo("Asia/Shanghai")
UTC = dt.UTC


def at(year: int, month: int, day: int, hour: int = 10, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)



# The district's working calendar is read from the database for every deadline.
pytestmark = pytest.mark.django_db


@pytest.fixture
def fresh_calendar_cache() -> Iterator[None]:
    """The once-per-year warning is cached per process."""
    deadlines._warn_uncovered.cache_clear()
    yield
    deadlines._warn_uncovered.cache_clear()


class TestNationalDay2026:
    """Checked against the State Council's 2026 schedule: Mid-Autumn Festival Fri 25 – Sun 27 September
    off; National Day Thu 1 – Wed 7 October off; Saturday 10 October a make-up working day (调休)."""

    def test_the_calendar_itself(self) -> None:
        assert not is_working_day(dt.date(2026, 9, 25))  # Friday, Mid-Autumn
        assert is_working_day(dt.date(2026, 9, 28))  # Monday
        assert [is_working_day(dt.date(2026, 10, d)) for d in range(1, 8)] == [False] * 7
        assert is_working_day(dt.date(2026, 10, 8))
        assert is_working_day(dt.date(2026, 10, 10))  # Saturday, make-up day
        assert not is_working_day(dt.date(2026, 10, 11))  # Sunday

    def test_one_working_day_from_the_eve_of_national_day_is_the_day_after_it(self) -> None:
        assert add_working_days(at(2026, 9, 30), 1) == at(2026, 10, 8)

    def test_three_working_days_after_the_holiday_count_the_make_up_saturday(self) -> None:
        assert add_working_days(at(2026, 10, 8), 3) == at(2026, 10, 12)
        assert add_working_days(at(2026, 10, 9), 1) == at(2026, 10, 10)

    def test_five_working_days_span_both_holidays(self) -> None:
        # Thu 24 Sep: 28, 29, 30 Sep, then 8 and 9 Oct.
        assert add_working_days(at(2026, 9, 24, 16, 30), 5) == at(2026, 10, 9, 16, 30)
        assert add_working_days(at(2026, 9, 24), 1) == at(2026, 9, 28)

    def test_registered_during_the_holiday_counts_from_the_first_working_day(self) -> None:
        assert add_working_days(at(2026, 10, 3, 21, 15), 1) == at(2026, 10, 8, 21, 15)

    def test_counted_on_the_beijing_calendar_date_not_the_utc_date(self) -> None:
        # 17:00 UTC on Friday 9 October is 01:00 on Saturday 10 October in Beijing (a working day).
        start = dt.datetime(2026, 10, 9, 17, 0, tzinfo=UTC)
        assert add_working_days(start, 1) == at(2026, 10, 12, 1, 0)

    def test_the_active_time_zone_does_not_move_the_deadline(self) -> None:
        # 01:00 on Saturday 10 October in Beijing is still Friday evening in London.
        with timezone.override("Europe/London"):
            assert add_working_days(at(2026, 10, 10, 1, 0), 1) == at(2026, 10, 12, 1, 0)

    def test_accept_hours_are_clock_hours(self) -> None:
        assert add_hours(at(2026, 9, 30, 23, 0), 2) == at(2026, 10, 1, 1, 0)

def test_a_year_the_calendar_does_not_cover_counts_the_statutory_holidays_with_a_warning(
    fresh_calendar_cache: None, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="petitions.deadlines")
    # Friday 1 October 2027 (the schedule is not published yet): National Day 1–5 October is known.
    deadline = working_days_deadline(at(2027, 9, 30), 1)
    assert deadline == Deadline(at(2027, 10, 6), provisional=True)
    assert not is_working_day(dt.date(2027, 10, 1)) and not is_working_day(dt.date(2027, 10, 4))
    assert is_working_day(dt.date(2027, 9, 30))
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1  # once per year, not once per day looked up
    assert "2027" in warnings[0].getMessage()


def test_year_end_one_working_day_is_not_new_years_day(fresh_calendar_cache: None) -> None:
    # Thu 31 Dec 2026 + 1 working day: Friday 1 Jan 2027 is New Year's Day, then a weekend.
    assert working_days_deadline(at(2026, 12, 31), 1) == Deadline(at(2027, 1, 4), provisional=True)


def test_the_districts_entries_override_the_package_and_settle_the_year(fresh_calendar_cache: None) -> None:
    # The State Council's 2027 schedule as the district enters it: 1–3 January off, then work.
    for day in (1, 2, 3):
        CalendarDay.objects.create(date=dt.date(2027, 1, day), kind="holiday", name="元旦", source="国办发明电〔2026〕")
    assert working_days_deadline(at(2026, 12, 31), 1) == Deadline(at(2027, 1, 4), provisional=False)
    # A local holiday inside a year the package covers (Corban, Karamay): the package is overridden.
    assert is_working_day(dt.date(2026, 5, 27))
    CalendarDay.objects.create(
        date=dt.date(2026, 5, 27), kind="holiday", name="古尔邦节", source="新疆维吾尔自治区", official=False
    )
    assert not is_working_day(dt.date(2026, 5, 27))
    assert working_days_deadline(at(2026, 5, 26), 1).at == at(2026, 5, 28)
    # And a make-up working day on a Sunday.
    CalendarDay.objects.create(date=dt.date(2027, 1, 10), kind="workday", name="调休上班", source="国办")
    assert is_working_day(dt.date(2027, 1, 10))


class TestAcceptClockOnWorkingHours:
    """签收 in hours: 08:30–17:30 on working days by default; around the clock for urgent petitions."""

    def test_friday_evening_dispatch_is_due_on_monday_morning(self) -> None:
        # Friday 16 October 2026 at 17:00, 2 hours: half an hour on Friday, 1.5 on Monday.
        deadline = working_hours_deadline(at(2026, 10, 16, 17, 0), 2, dt.time(8, 30), dt.time(17, 30))
        assert deadline.at == at(2026, 10, 19, 10, 0)

    def test_dispatched_at_night_starts_at_the_next_opening(self) -> None:
        deadline = working_hours_deadline(at(2026, 9, 30, 21, 0), 2, dt.time(8, 30), dt.time(17, 30))
        assert deadline.at == at(2026, 10, 8, 10, 30)  # after the National Day holiday


def test_friday_evening_petition_is_not_overdue_on_friday_night(world: World) -> None:
    petition = world.petition(category=world.category)
    friday_5pm = at(2026, 10, 16, 17, 0)
    with time_machine.travel(friday_5pm, tick=False):
        services.petition_dispatch(actor=world.official, petition_id=petition.pk, department=world.housing)
    petition.refresh_from_db()
    assert petition.accept_due == at(2026, 10, 19, 8, 30) + dt.timedelta(hours=world.category.accept_hours - 0.5)
    assert not Petition.objects.overdue(at(2026, 10, 16, 19, 0)).filter(pk=petition.pk).exists()
    # A category that runs its accept clock around the clock says so.
    world.category.accept_on_working_hours = False
    world.category.save()
    other = world.petition(category=world.category)
    with time_machine.travel(friday_5pm, tick=False):
        services.petition_dispatch(actor=world.official, petition_id=other.pk, department=world.housing)
    assert Petition.objects.overdue(at(2026, 10, 16, 19, 30)).filter(pk=other.pk).exists()


def test_registered_on_new_years_eve_with_a_frozen_clock(world: World) -> None:
    one_day = CategoryFactory(code="one-day", resolve_working_days=1, default_department=world.housing)
    with time_machine.travel(at(2026, 12, 31, 10, 0), tick=False):
        petition = world.petition(category=one_day)
    assert timezone.localtime(petition.resolve_due).date() == dt.date(2027, 1, 4)
    assert petition.due_provisional
    # The schedule is entered (2 January made a holiday as well, 4 January too, say): recompute once.
    for day in (1, 2, 3, 4):
        CalendarDay.objects.create(date=dt.date(2027, 1, day), kind="holiday", name="元旦", source="国办")
    with time_machine.travel(at(2026, 12, 31, 12, 0), tick=False):
        assert services.petition_recompute_deadlines(actor=world.admin) == 1
        assert services.petition_recompute_deadlines(actor=world.admin) == 0  # once
    petition.refresh_from_db()
    assert timezone.localtime(petition.resolve_due).date() == dt.date(2027, 1, 5)
    assert not petition.due_provisional and petition.current_due == petition.resolve_due
    event = petition.events.get(action="recompute_deadlines")
    assert "2027-01-04" in event.note and "2027-01-05" in event.note


# --- the deadlines a petition gets through the services


@pytest.mark.django_db
def test_resolve_deadline_follows_the_category(world: World) -> None:
    consultation = CategoryFactory(code="consult", resolve_working_days=1, default_department=world.housing)
    help_request = CategoryFactory(code="help", resolve_working_days=5, default_department=world.housing)
    complaint = CategoryFactory(code="complaint", resolve_working_days=10, default_department=world.housing)
    dues = []
    for category in (consultation, help_request, complaint):
        p = world.petition(category=category)
        assert p.resolve_due == add_working_days(p.registered_at, category.resolve_working_days)
        assert p.current_due == p.resolve_due
        # Same time of day, on a later date, at least as many calendar days on as working days.
        local_registered, local_due = timezone.localtime(p.registered_at), timezone.localtime(p.resolve_due)
        assert local_due.time() == local_registered.time()
        assert (local_due.date() - local_registered.date()).days >= category.resolve_working_days
        dues.append(p.resolve_due)
    assert dues == sorted(dues) and len(set(dues)) == 3


@pytest.mark.django_db
def test_urgent_petitions_run_on_the_shorter_deadlines(world: World) -> None:
    category = CategoryFactory(
        code="fire-lane",
        accept_on_working_hours=False,
        accept_hours=2,
        resolve_working_days=5,
        urgent_accept_hours=1,
        urgent_resolve_working_days=1,
        default_department=world.housing,
    )
    normal = world.petition(category=category)
    urgent = world.petition(category=category, priority=Priority.URGENT)
    assert urgent.resolve_due == add_working_days(urgent.registered_at, 1)
    assert normal.resolve_due == add_working_days(normal.registered_at, 5)
    assert urgent.resolve_due < normal.resolve_due

    for p, hours in ((normal, 2), (urgent, 1)):
        p = services.petition_dispatch(actor=world.official, petition_id=p.pk, department=world.housing)
        p.refresh_from_db()
        assert p.dispatched_at is not None
        assert p.accept_due == p.dispatched_at + dt.timedelta(hours=hours)
        assert p.current_due == p.accept_due


@pytest.mark.django_db
def test_follow_up_and_rehandle_deadlines(world: World) -> None:
    p = world.petition(stage="resolved", result="已答复")
    assert p.resolved_at is not None
    assert p.follow_up_due == add_working_days(p.resolved_at, world.category.follow_up_working_days)
    services.petition_follow_up(
        actor=world.worker, petition_id=p.pk, reached=True, solved=False, satisfaction="dissatisfied"
    )
    p.refresh_from_db()
    # Re-handling starts a fresh resolve clock and a fresh accept clock from the moment it is reopened.
    assert p.dispatched_at is not None
    assert p.resolve_due == add_working_days(p.dispatched_at, world.category.resolve_working_days)
    c = world.category
    assert p.accept_due == working_hours_deadline(p.dispatched_at, c.accept_hours, c.work_starts, c.work_ends).at
