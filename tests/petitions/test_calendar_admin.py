"""The district's working calendar in admin: the missing-year warnings, the import, the recompute button."""

import datetime as dt

import pytest
import time_machine
from django.core import checks
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from petitions.calendar import missing_year
from petitions.models import CalendarDay, Petition

from ..conftest import World
from ..factories import CategoryFactory

pytestmark = pytest.mark.django_db

SHANGHAI = timezone.get_default_timezone()


def test_next_year_is_awaited_from_the_first_of_november() -> None:
    assert missing_year(dt.date(2026, 10, 31)) is None
    assert missing_year(dt.date(2026, 11, 1)) == 2027
    CalendarDay.objects.create(date=dt.date(2027, 1, 1), kind="holiday", name="元旦", source="国办发明电")
    assert missing_year(dt.date(2026, 11, 1)) is None


def test_admins_see_the_banner_and_the_check_warns(world: World, client: Client) -> None:
    client.force_login(world.admin)
    with time_machine.travel(dt.datetime(2026, 11, 2, 9, 0, tzinfo=SHANGHAI)):
        page = client.get("/admin/").content.decode()
        assert 'id="calendar-warning"' in page and "2027" in page
        assert [m.id for m in checks.run_checks() if m.id == "petitions.W001"] == ["petitions.W001"]
    with time_machine.travel(dt.datetime(2026, 10, 2, 9, 0, tzinfo=SHANGHAI)):
        assert 'id="calendar-warning"' not in client.get("/admin/").content.decode()


@time_machine.travel(dt.datetime(2026, 12, 31, 10, 0, tzinfo=SHANGHAI), tick=False)
def test_the_official_list_imported_then_the_button_recomputes(world: World, client: Client) -> None:
    one_day = CategoryFactory(code="one-day", resolve_working_days=1, default_department=world.housing)
    petition = world.petition(category=one_day)
    assert petition.due_provisional
    client.force_login(world.admin)
    sheet = "date,kind,name,source,official\n" + "".join(
        f"2027-01-0{d},holiday,元旦,国办发明电〔2026〕,1\n" for d in (1, 2, 3, 4)
    )
    upload = SimpleUploadedFile("2027.csv", sheet.encode(), content_type="text/csv")
    preview = client.post(
        "/admin/petitions/calendarday/import/",
        {"import_file": upload, "format": "0", "resource": "0"},
    )
    assert preview.status_code == 200, preview.content[:500]
    confirm = preview.context["confirm_form"]
    done = client.post("/admin/petitions/calendarday/process_import/", confirm.initial, follow=True)
    assert done.status_code == 200
    assert CalendarDay.objects.filter(date__year=2027, kind="holiday").count() == 4
    page = client.post("/admin/petitions/calendarday/recompute/", follow=True).content.decode()
    assert "已重算 1 件诉求的期限" in page
    petition = Petition.objects.get(pk=petition.pk)
    assert timezone.localtime(petition.resolve_due).date() == dt.date(2027, 1, 5)
    assert not petition.due_provisional
    assert petition.events.filter(action="recompute_deadlines", actor=world.admin).exists()
