"""The rough edges found trying each role (issue 11): each one, as the user meets it."""

import io
import re
from typing import Any

import pytest
from django.contrib.staticfiles import finders
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone, translation
from django.views import defaults

from governance.models import PersonalDataAccess
from grids.importers import BUILDING, PHONE
from petitions import services
from petitions.models import Petition, Status

from .conftest import World
from .factories import BuildingFactory, HouseholdFactory, ResidentFactory, valid_id_card
from .grids.test_import import GOOD_ROWS, xlsx_bytes

pytestmark = pytest.mark.django_db


def login(user: Any) -> Client:
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


def test_a_department_returning_a_petition_lands_on_its_list_with_a_message(world: World) -> None:
    p = world.petition(stage="dispatched")
    dept = login(world.dept)
    response = dept.post(reverse("petitions:return", args=[p.pk]), {"reason": "不属于本部门职责"}, follow=True)
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == reverse("petitions:list")
    shown = [str(m) for m in response.context["messages"]]
    assert any(p.number in m for m in shown), shown
    assert Petition.objects.get(pk=p.pk).status == Status.REGISTERED


def test_a_step_that_keeps_the_petition_in_scope_still_shows_it(world: World) -> None:
    p = world.petition(stage="dispatched")
    response = login(world.dept).post(reverse("petitions:accept", args=[p.pk]), {"note": ""})
    assert response.status_code == 302 and response["Location"] == p.get_absolute_url()


@pytest.mark.parametrize("language, heading", [("zh-hans", "页面不存在"), ("en", "Page not found")])
def test_the_404_page_has_the_sites_header_and_a_way_back_in_the_users_language(
    world: World, language: str, heading: str
) -> None:
    client = login(world.worker)
    client.cookies["django_language"] = language
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    page = response.content.decode()
    assert heading in page
    assert 'id="back-home"' in page and 'class="brand"' in page
    # Outside the scope looks the same as missing, with the same page.
    foreign = world.petition(grid=world.foreign_grid, actor=world.foreign_worker)
    assert heading in client.get(foreign.get_absolute_url()).content.decode()


@pytest.mark.parametrize(
    "view, status, heading",
    [
        (defaults.bad_request, 400, "请求有误"),
        (defaults.permission_denied, 403, "无权操作"),
        (defaults.server_error, 500, "出错了"),
    ],
)
def test_the_other_error_pages_are_styled_and_chinese(world: World, view: Any, status: int, heading: str) -> None:
    request = RequestFactory().get("/")
    request.user = world.worker
    with translation.override("zh-hans"):  # what LocaleMiddleware sets for a Chinese user
        response = view(request) if view is defaults.server_error else view(request, Exception())
    assert response.status_code == status
    page = response.content.decode()
    assert heading in page and 'id="back-home"' in page and "pico.min.css" in page


def test_the_favicon_is_served(client: Client) -> None:
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"].endswith("favicon.ico") and response["Location"].startswith("/static/")
    found = finders.find("favicon.ico")
    assert found is not None
    with open(found, "rb") as icon:
        assert icon.read(4) == b"\x00\x00\x01\x00"  # an ICO file


def test_a_filter_error_names_the_field_by_its_label(world: World) -> None:
    page = login(world.official).get(reverse("petitions:list") + "?status=nonsense").content.decode()
    errors = re.search(r'<p class="message error" role="alert" id="filter-errors">(.*?)</p>', page, re.S)
    assert errors is not None
    assert "状态" in errors.group(1)
    assert not re.search(r"\bstatus\b", re.sub(r"<[^>]+>", "", errors.group(1)))


def test_a_reopened_petition_shows_earlier_results_in_the_timeline_only(world: World) -> None:
    p = world.petition(stage="resolved", result="第一次：已更换防水层")
    services.petition_follow_up(
        actor=world.worker, petition_id=p.pk, reached=True, solved=False, satisfaction="dissatisfied"
    )
    page = login(world.worker).get(p.get_absolute_url()).content.decode()
    assert 'id="result"' not in page
    timeline = page[page.index('id="timeline"'):]
    assert "第一次：已更换防水层" in timeline

    services.petition_accept(actor=world.dept, petition_id=p.pk)
    services.petition_resolve(actor=world.dept, petition_id=p.pk, result="第二次：重新做了防水")
    page = login(world.worker).get(p.get_absolute_url()).content.decode()
    current = re.search(r'id="result">(.*?)</p>', page, re.S)
    assert current is not None and "第二次" in current.group(1) and "第一次" not in current.group(1)


def test_import_errors_are_a_table_of_row_column_and_reason(world: World) -> None:
    BuildingFactory.create(grid=world.grid, code="lf-01", name="1栋")
    rows = [GOOD_ROWS[0], ["lf-09", "101", "住宅", "李娜", valid_id_card(2), "12345"]]
    upload = io.BytesIO(xlsx_bytes(rows))
    upload.name = "residents.xlsx"
    response = login(world.admin).post(
        reverse("admin:grids_household_import"), {"resource": "0", "format": "1", "import_file": upload}
    )
    page = response.content.decode()
    assert "某些行验数据证失败" not in page
    assert "部分行无法导入" in page
    table = re.search(r'<table class="import-errors" id="import-errors">(.*?)</table>', page, re.S)
    assert table is not None
    cells = [
        [re.sub(r"\s+", " ", c).strip() for c in re.findall(r"<td>(.*?)</td>", row, re.S)]
        for row in re.findall(r"<tr>(.*?)</tr>", table.group(1), re.S)
    ]
    columns = {(row[0], row[1]) for row in cells if row}
    assert columns == {("2", BUILDING), ("2", PHONE)}
    assert all(row[2] for row in cells if row)


def test_the_admin_timeline_inline_shows_step_names_not_codes(world: World) -> None:
    p = world.petition(stage="dispatched")
    page = login(world.admin).get(reverse("admin:petitions_petition_change", args=[p.pk])).content.decode()
    assert "分派" in page
    assert not re.search(r"<td[^>]*>\s*(<p>)?\s*dispatch\s*(</p>)?\s*</td>", page)


def test_the_personal_data_log_names_whose_data_and_which_fields(
    world: World, django_assert_max_num_queries: Any
) -> None:
    household = HouseholdFactory.create(building=BuildingFactory.create(grid=world.grid))
    residents = [ResidentFactory.create(household=household, name=f"居民{i}") for i in range(5)]
    admin = login(world.admin)
    for resident in residents:
        assert admin.get(reverse("admin:grids_resident_change", args=[resident.pk])).status_code == 200
    p = world.petition(reporter_phone="13812345678")
    admin.get(p.get_absolute_url())

    url = reverse("admin:governance_personaldataaccess_changelist")
    with django_assert_max_num_queries(12):  # one query per kind of object, not one per row
        page = admin.get(url).content.decode()
    for resident in residents:
        assert resident.name in page
    assert p.number in page
    assert "身份证号" in page and "手机号" in page
    shown = re.sub(r"<[^>]+>", " ", page)  # what the reader sees (the filter's links keep the key)
    assert "grids.resident" not in shown and "id_card,phone" not in shown


def test_the_personal_data_log_records_the_page_it_was_seen_on(world: World) -> None:
    household = HouseholdFactory.create(building=BuildingFactory.create(grid=world.grid))
    resident = ResidentFactory.create(household=household, name="居民甲")
    p = world.petition(reporter_phone="13812345678")
    admin = login(world.admin)
    resident_page = reverse("admin:grids_resident_change", args=[resident.pk])
    assert admin.get(resident_page).status_code == 200
    assert admin.get(p.get_absolute_url()).status_code == 200

    seen = PersonalDataAccess.objects.get(object_type="grids.resident", object_id=resident.pk)
    assert (seen.page, seen.view_name) == (resident_page, "admin:grids_resident_change")
    on_petition = PersonalDataAccess.objects.get(object_type="petitions.petition", object_id=p.pk)
    assert (on_petition.page, on_petition.view_name) == (p.get_absolute_url(), "petitions:detail")

    page = admin.get(reverse("admin:governance_personaldataaccess_changelist")).content.decode()
    assert "<th" in page and "页面" in page  # the column, in Chinese
    assert "后台：居民，修改页" in page and resident_page in page
    assert "诉求详情页" in page and p.get_absolute_url() in page


def test_admin_titles_show_the_districts_time(world: World) -> None:
    p = world.petition()
    event = p.events.get()
    local = timezone.localtime(event.at, timezone.get_default_timezone())
    assert f"{local:%Y-%m-%d %H:%M}" in str(event)
    log = PersonalDataAccess(user=world.admin, object_type="grids.resident", object_id=1, fields="phone", at=event.at)
    assert f"{local:%Y-%m-%d %H:%M}" in str(log)


def test_a_shop_reads_the_same_in_admin_and_in_the_spreadsheets(world: World) -> None:
    from grids.importers import KIND_LABELS
    from grids.models import Household

    household = HouseholdFactory.create(building=BuildingFactory.create(grid=world.grid), kind=Household.Kind.SHOP)
    page = login(world.admin).get(reverse("admin:grids_household_change", args=[household.pk])).content.decode()
    selected = re.search(r'<option value="shop" selected>([^<]+)</option>', page)
    assert selected is not None
    assert selected.group(1) == KIND_LABELS[Household.Kind.SHOP][0] == "商铺"


def test_the_households_list_shows_and_filters_by_grid_and_community(
    world: World, django_assert_max_num_queries: Any
) -> None:
    from grids.models import Household

    here = HouseholdFactory.create(building=BuildingFactory.create(grid=world.grid, code="here-1"), room="101")
    for i in range(5):
        HouseholdFactory.create(building=BuildingFactory.create(grid=world.foreign_grid, code=f"far-{i}"), room="9")
    admin = login(world.admin)
    changelist = reverse("admin:grids_household_changelist")
    with django_assert_max_num_queries(15):
        page = admin.get(changelist).content.decode()
    assert world.grid.name in page and world.community.name in page
    assert world.foreign_grid.name in page

    community_id = world.grid.branch.parent_id
    filtered = admin.get(changelist, {"building__grid__branch__parent__id__exact": community_id})
    shown = list(filtered.context["cl"].result_list)
    assert shown == [here]
    by_grid = admin.get(changelist, {"q": world.foreign_grid.code}).context["cl"].result_list
    assert {h.building.grid_id for h in by_grid} == {world.foreign_grid.pk}
    assert Household.objects.count() == 6


def test_a_shop_or_unit_imports_without_a_persons_id_card(world: World) -> None:
    from grids.models import Household, Resident

    from .grids.test_import import csv_text, invalid_rows, run_import

    BuildingFactory.create(grid=world.grid, code="lf-01", name="1栋")
    rows = [
        ["lf-01", "101", "住宅", "张伟", valid_id_card(1), "13812345678"],
        ["lf-01", "S1", "商铺", "", "", ""],
        ["lf-01", "U1", "驻区单位", "", "", ""],
    ]
    result = run_import(csv_text(rows))
    assert not result.has_validation_errors() and not result.has_errors()
    assert set(Household.objects.values_list("room", "kind")) == {
        ("101", "residence"), ("S1", "shop"), ("U1", "unit")
    }
    assert list(Resident.objects.values_list("name", flat=True)) == ["张伟"]

    # A residence still needs its person; a shop on an unknown building is still refused.
    bad = run_import(csv_text([["lf-01", "102", "住宅", "", "", ""], ["lf-99", "S2", "商铺", "", "", ""]]))
    errors = invalid_rows(bad)
    assert set(errors) == {1, 2}
    assert set(errors[2]) == {BUILDING}
    assert Household.objects.count() == 3


@pytest.mark.parametrize("model_name", ["resident", "household"])
def test_the_import_page_offers_a_template_that_imports(world: World, model_name: str) -> None:
    import openpyxl

    from grids.importers import COLUMNS
    from grids.models import Household

    admin = login(world.admin)
    page = admin.get(reverse(f"admin:grids_{model_name}_import")).content.decode()
    link = re.search(r'<p id="import-template"><a href="([^"]+)"', page)
    assert link is not None
    response = admin.get(link.group(1))
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    sheet = book.worksheets[0]
    rows = [[c if c is not None else "" for c in row] for row in sheet.iter_rows(values_only=True)]
    assert rows[0] == list(COLUMNS)

    # Filled in (the placeholders replaced), it imports as it is.
    BuildingFactory.create(grid=world.grid, code="lf-01")
    rows[1][0] = rows[2][0] = "lf-01"
    rows[1][4] = valid_id_card(7)
    upload = io.BytesIO(xlsx_bytes([[str(c) for c in r] for r in rows[1:]], headers=rows[0]))
    upload.name = "filled.xlsx"
    preview = admin.post(
        reverse(f"admin:grids_{model_name}_import"), {"resource": "0", "format": "1", "import_file": upload}
    )
    assert preview.context["confirm_form"] is not None, preview.content.decode()[-3000:]
    confirm = preview.context["confirm_form"]
    admin.post(reverse(f"admin:grids_{model_name}_process_import"), {**confirm.initial, "confirm": "1"})
    assert set(Household.objects.values_list("room", "kind")) == {("101", "residence"), ("门面1", "shop")}


def test_the_households_export_imports_again(world: World) -> None:
    from grids.models import Household

    building = BuildingFactory.create(grid=world.grid, code="lf-01")
    HouseholdFactory.create(building=building, room="101", kind=Household.Kind.RESIDENCE)
    HouseholdFactory.create(building=building, room="S1", kind=Household.Kind.SHOP)
    admin = login(world.admin)
    export = reverse("admin:grids_household_export")
    form = admin.get(export).context["form"]
    ticked = {n: "on" for n, f in form.fields.items() if getattr(f, "is_selectable_field", False)}
    exported = admin.post(export, {"resource": "0", "format": "0", **ticked}).content

    # The export, with one kind changed and a new unit added, goes back in through the import page.
    text = exported.decode("utf-8-sig").replace("lf-01,S1,商铺", "lf-01,S1,驻区单位") + "lf-01,U9,驻区单位\r\n"
    upload = io.BytesIO(text.encode("utf-8-sig"))
    upload.name = "households.csv"
    preview = admin.post(
        reverse("admin:grids_household_import"), {"resource": "0", "format": "0", "import_file": upload}
    )
    confirm = preview.context.get("confirm_form")
    assert confirm is not None, re.sub(r"<[^>]+>", " ", preview.content.decode())[-3000:]
    admin.post(reverse("admin:grids_household_process_import"), {**confirm.initial, "confirm": "1"})
    assert set(Household.objects.values_list("room", "kind")) == {
        ("101", "residence"), ("S1", "unit"), ("U9", "unit"),
    }
