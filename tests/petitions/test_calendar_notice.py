"""The daily "working calendar missing" reminder: a row per admin and day, shown on their home page."""

import datetime as dt

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.test import Client
from django.utils import timezone

from governance.models import User
from petitions import tasks
from petitions.models import CalendarDay, Notification

from ..conftest import World
from ..factories import UserFactory

pytestmark = pytest.mark.django_db

SHANGHAI = timezone.get_default_timezone()
NOVEMBER = dt.datetime(2026, 11, 2, 8, 0, tzinfo=SHANGHAI)


def _calendar_keeper() -> User:
    keeper = UserFactory.create(username="calendar_keeper", role=User.Role.OFFICIAL, is_staff=True)
    keeper.user_permissions.add(Permission.objects.get(codename="add_calendarday"))
    return keeper


def test_two_beats_the_same_day_make_one_notice_per_admin(world: World) -> None:
    keeper = _calendar_keeper()
    with time_machine.travel(NOVEMBER, tick=False):
        assert tasks.warn_calendar() == 2027
        assert tasks.warn_calendar() == 2027
    notices = Notification.objects.filter(petition=None)
    assert sorted(notices.values_list("user__username", flat=True)) == ["admin", "calendar_keeper"]
    assert all("2027" in n.text for n in notices)
    # Those who may not enter the calendar are not told to.
    assert not Notification.objects.filter(user__in=[world.official, world.dept]).exists()
    # The next day's beat: a new reminder, one more row each.
    with time_machine.travel(NOVEMBER + dt.timedelta(days=1), tick=False):
        tasks.warn_calendar()
    assert Notification.objects.filter(user=keeper, petition=None).count() == 2


def test_no_notice_once_the_schedule_is_entered_or_before_november(world: World) -> None:
    with time_machine.travel(NOVEMBER - dt.timedelta(days=5), tick=False):
        assert tasks.warn_calendar() is None
    CalendarDay.objects.create(
        date=dt.date(2027, 1, 1), kind="holiday", name="元旦", source="国办发明电", official=True
    )
    with time_machine.travel(NOVEMBER, tick=False):
        assert tasks.warn_calendar() is None
    assert not Notification.objects.exists()


def test_the_admin_sees_it_on_the_home_page_and_in_reminders(world: World, client: Client) -> None:
    with time_machine.travel(NOVEMBER, tick=False):
        tasks.warn_calendar()
        client.force_login(world.admin)
        home = client.get("/").content.decode()
        assert "尚未录入 2027 年工作日历" in home
        assert 'href="/admin/petitions/calendarday/"' in home
        page = client.get("/petitions/notifications/").content.decode()
        assert "尚未录入 2027 年工作日历" in page and "通知" in page
        # Read: gone from the home page.
        client.post("/petitions/notifications/")
        assert "尚未录入 2027 年工作日历" not in client.get("/").content.decode()
