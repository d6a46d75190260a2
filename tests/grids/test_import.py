"""Importing households and residents from a spreadsheet, as the district admin does it."""

import csv
import io
from typing import Any

import openpyxl
import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from import_export.formats.base_formats import CSV, XLSX
from import_export.results import Result

from governance.models import User
from grids.identity import id_card_hash
from grids.importers import BUILDING, ID_CARD, KIND, NAME, PHONE, ROOM, HouseholdResidentResource
from grids.models import Building, Household, Resident

from ..conftest import World
from ..factories import BuildingFactory, HouseholdFactory, ResidentFactory, valid_id_card

HEADERS = [BUILDING, ROOM, KIND, NAME, ID_CARD, PHONE]


def wrong_check_digit(id_card: str) -> str:
    return id_card[:17] + ("0" if id_card[17] != "0" else "1")


@pytest.fixture
def buildings(world: World) -> tuple[Building, Building]:
    return (
        BuildingFactory.create(grid=world.grid, code="lf-01", name="1栋"),
        BuildingFactory.create(grid=world.grid, code="lf-02", name="2栋"),
    )


def csv_text(rows: list[list[Any]], headers: list[str] = HEADERS) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers)
    writer.writerows(rows)
    return out.getvalue()


def xlsx_bytes(rows: list[list[Any]], headers: list[str] = HEADERS) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def run_import(text: str, *, dry_run: bool = False, user: Any = None) -> Result:
    """Import as ``user`` (the district admin unless said): the importer always has an acting user."""
    dataset = CSV(encoding="utf-8").create_dataset(text)
    user = user or User.objects.get(username="admin")
    return HouseholdResidentResource().import_data(dataset, dry_run=dry_run, user=user)


GOOD_ROWS: list[list[Any]] = [
    ["lf-01", "101", "住宅", "张伟", valid_id_card(1), "13812345678"],
    ["lf-01", "101", "住宅", "李娜", valid_id_card(2), ""],
    ["lf-01", "102", "商铺", "王强", valid_id_card(3), "13912345678"],
    ["lf-02", "201", "驻区单位", "赵敏", valid_id_card(4), "15012345678"],
]


def snapshot() -> list[tuple[Any, ...]]:
    """Every household and resident row as stored (the ID-card column as its ciphertext)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, building_id, room, kind FROM grids_household ORDER BY id")
        households = cursor.fetchall()
        cursor.execute("SELECT id, household_id, name, id_card, id_card_hash, phone FROM grids_resident ORDER BY id")
        residents = cursor.fetchall()
    return households + residents


def invalid_rows(result: Result) -> dict[int, dict[str, list[str]]]:
    return {row.number: row.field_specific_errors for row in result.invalid_rows}


@pytest.mark.django_db
class TestGoodFile:
    def test_households_and_residents_are_created_with_hashes(self, buildings: Any, world: World) -> None:
        result = run_import(csv_text(GOOD_ROWS), user=world.admin)

        assert not result.has_errors() and not result.has_validation_errors()
        assert result.totals["new"] == 4
        households = {(h.building.code, h.room): h.kind for h in Household.objects.select_related("building")}
        assert households == {("lf-01", "101"): "residence", ("lf-01", "102"): "shop", ("lf-02", "201"): "unit"}
        zhang = Resident.objects.get(name="张伟")
        assert zhang.household.room == "101" and zhang.phone == "13812345678"
        for row in GOOD_ROWS:
            resident = Resident.objects.get(name=row[3])
            # Decrypts back to the number in the file, and the look-up hash matches it.
            assert resident.id_card == row[4]
            assert resident.id_card_hash == id_card_hash(row[4])

    def test_id_card_is_stored_encrypted(self, buildings: Any) -> None:
        run_import(csv_text(GOOD_ROWS))
        stored = [row[3] for row in snapshot() if len(row) == 6]
        assert stored and all(valid_id_card(1) != value and value.startswith("gAAAA") for value in stored)

    def test_xlsx_with_english_headers_and_kinds(self, buildings: Any) -> None:
        rows = [["lf-01", 301, "shop", "钱七", valid_id_card(7), 13812340007]]
        data = xlsx_bytes(rows, headers=["building", "room", "kind", "name", "id_card", "phone"])
        dataset = XLSX().create_dataset(data)
        result = HouseholdResidentResource().import_data(dataset, user=User.objects.get(username="admin"))

        assert result.totals["new"] == 1, invalid_rows(result)
        resident = Resident.objects.select_related("household").get()
        assert (resident.household.room, resident.household.kind, resident.phone) == ("301", "shop", "13812340007")

    def test_existing_household_is_matched_not_duplicated(self, buildings: Any) -> None:
        existing = HouseholdFactory.create(building=buildings[0], room="101")
        run_import(csv_text(GOOD_ROWS))
        assert Household.objects.filter(building=buildings[0], room="101").get() == existing
        assert existing.residents.count() == 2

    def test_blank_lines_are_passed_over(self, buildings: Any) -> None:
        result = run_import(csv_text([GOOD_ROWS[0], ["", "", "", "", "", ""], GOOD_ROWS[1]]))
        assert not result.has_validation_errors()
        assert (result.totals["new"], result.totals["skip"]) == (2, 1)

    def test_dry_run_saves_nothing(self, buildings: Any) -> None:
        before = snapshot()
        result = run_import(csv_text(GOOD_ROWS), dry_run=True)
        assert result.totals["new"] == 4
        assert snapshot() == before


@pytest.mark.django_db
class TestBadFile:
    def test_nothing_is_saved_and_every_bad_row_is_named(self, buildings: Any) -> None:
        elsewhere = ResidentFactory.create(household=HouseholdFactory.create(building=buildings[1], room="909"))
        rows = [
            ["lf-01", "101", "住宅", "张伟", valid_id_card(1), "13812345678"],  # 1: good
            ["no-such", "101", "住宅", "李娜", valid_id_card(2), ""],  # 2: unknown building
            ["lf-01", "102", "住宅", "王强", valid_id_card(3), "1381234"],  # 3: malformed phone
            ["lf-01", "103", "住宅", "赵敏", wrong_check_digit(valid_id_card(4)), ""],  # 4: check digit
            ["lf-01", "104", "住宅", "孙丽", valid_id_card(1), ""],  # 5: same ID as row 1
            ["lf-01", "105", "住宅", "周杰", elsewhere.id_card, ""],  # 6: registered in another household
            ["lf-01", "106", "别墅", "吴静", valid_id_card(6), ""],  # 7: unknown kind
        ]
        before = snapshot()

        result = run_import(csv_text(rows))

        assert snapshot() == before
        errors = invalid_rows(result)
        assert sorted(errors) == [2, 3, 4, 5, 6, 7]
        assert list(errors[2]) == [BUILDING] and "no-such" in errors[2][BUILDING][0]
        assert list(errors[3]) == [PHONE]
        assert list(errors[4]) == [ID_CARD]
        assert list(errors[5]) == [ID_CARD] and "1" in errors[5][ID_CARD][0]
        assert list(errors[6]) == [ID_CARD] and "909" in errors[6][ID_CARD][0]
        assert list(errors[7]) == [KIND] and "别墅" in errors[7][KIND][0]

    def test_missing_column_is_refused(self, buildings: Any) -> None:
        result = run_import(csv_text([["lf-01", "101", "张伟"]], headers=[BUILDING, ROOM, NAME]))
        assert result.has_errors()
        assert ID_CARD in str(result.base_errors[0].error)
        assert not Resident.objects.exists() and not Household.objects.exists()

    def test_one_household_with_two_kinds(self, buildings: Any) -> None:
        rows = [GOOD_ROWS[0], ["lf-01", "101", "商铺", "李娜", valid_id_card(2), ""]]
        errors = invalid_rows(run_import(csv_text(rows)))
        assert list(errors) == [2] and list(errors[2]) == [KIND] and "1" in errors[2][KIND][0]
        assert not Household.objects.exists()

    def test_building_outside_the_users_scope_is_unknown(self, buildings: Any, world: World) -> None:
        BuildingFactory.create(grid=world.foreign_grid, code="zj-01")
        result = run_import(csv_text([["zj-01", "101", "住宅", "张伟", valid_id_card(1), ""]]), user=world.worker)
        assert list(invalid_rows(result)[1]) == [BUILDING]
        assert not Resident.objects.exists()


@pytest.mark.django_db
class TestReimport:
    def test_same_file_again_changes_nothing(self, buildings: Any) -> None:
        first = run_import(csv_text(GOOD_ROWS))
        assert first.totals["new"] == 4
        before = snapshot()

        again = run_import(csv_text(GOOD_ROWS))

        assert again.totals["skip"] == 4
        assert again.totals["new"] == again.totals["update"] == 0
        assert [row.import_type for row in again.rows] == ["skip"] * 4
        assert snapshot() == before

    def test_the_dry_run_of_the_same_file_reports_every_row_unchanged(self, buildings: Any) -> None:
        run_import(csv_text(GOOD_ROWS))
        preview = run_import(csv_text(GOOD_ROWS), dry_run=True)
        assert [row.import_type for row in preview.rows] == ["skip"] * 4

    def test_a_changed_phone_is_the_only_update(self, buildings: Any) -> None:
        run_import(csv_text(GOOD_ROWS))
        changed = [list(r) for r in GOOD_ROWS]
        changed[2][5] = "13900000000"

        result = run_import(csv_text(changed))

        assert [row.import_type for row in result.rows] == ["skip", "skip", "update", "skip"]
        assert Resident.objects.get(name="王强").phone == "13900000000"
        assert Resident.objects.count() == 4

    def test_a_changed_kind_updates_the_household(self, buildings: Any) -> None:
        run_import(csv_text(GOOD_ROWS))
        changed = [list(r) for r in GOOD_ROWS]
        changed[2][2] = "住宅"

        result = run_import(csv_text(changed))

        assert result.totals["update"] == 1
        assert Household.objects.get(room="102").kind == "residence"


@pytest.mark.django_db
def test_admin_import_with_dry_run_then_confirm(buildings: Any, world: World, client: Client) -> None:
    client.force_login(world.admin)
    url = reverse("admin:grids_resident_import")
    assert client.get(url).status_code == 200
    upload = io.BytesIO(csv_text(GOOD_ROWS).encode("utf-8-sig"))
    upload.name = "residents.csv"

    # Step 1: upload; the dry run shows the rows that would be created, and saves nothing.
    preview = client.post(url, {"resource": "0", "format": "0", "import_file": upload})

    assert preview.status_code == 200
    page = preview.content.decode()
    assert "confirm_form" in preview.context and preview.context["confirm_form"] is not None
    assert preview.context["result"].totals["new"] == 4
    assert "138****5678" in page and "13812345678" not in page  # the preview masks the phone
    assert any("3" in str(m) for m in preview.context["messages"])  # three households would be created
    assert not Resident.objects.exists() and not Household.objects.exists()

    # Step 2: confirm, as the button on the preview page posts it.
    confirm = preview.context["confirm_form"]
    response = client.post(reverse("admin:grids_resident_process_import"), {**confirm.initial, "confirm": "1"})

    assert response.status_code == 302
    assert Resident.objects.count() == 4 and Household.objects.count() == 3
    follow = client.get(response["Location"])
    shown = " ".join(str(m) for m in follow.context["messages"])
    assert "4" in shown


@pytest.mark.django_db
def test_admin_import_of_a_bad_file_lists_rows_and_offers_no_confirm(
    buildings: Any, world: World, client: Client
) -> None:
    client.force_login(world.admin)
    rows = [GOOD_ROWS[0], ["lf-09", "101", "住宅", "李娜", valid_id_card(2), "12345"]]
    upload = io.BytesIO(xlsx_bytes(rows))
    upload.name = "residents.xlsx"

    response = client.post(
        reverse("admin:grids_household_import"), {"resource": "0", "format": "1", "import_file": upload}
    )

    assert response.status_code == 200
    assert response.context.get("confirm_form") is None
    errors = invalid_rows(response.context["result"])
    assert set(errors) == {2} and set(errors[2]) == {BUILDING, PHONE}
    assert "lf-09" in response.content.decode()
    assert not Resident.objects.exists() and not Household.objects.exists()


@pytest.mark.django_db
def test_admin_export_masks_phone_and_id(buildings: Any, world: World, client: Client) -> None:
    run_import(csv_text(GOOD_ROWS))
    client.force_login(world.admin)

    url = reverse("admin:grids_resident_export")
    form = client.get(url).context["form"]
    # Post the form as the page shows it: every column ticked.
    ticked = {name: "on" for name, field in form.fields.items() if getattr(field, "is_selectable_field", False)}
    response = client.post(url, {"resource": "0", "format": "0", **ticked})

    assert response.status_code == 200
    text = response.content.decode("utf-8-sig")
    assert text.splitlines()[0].split(",") == [*HEADERS, "居民编号"]  # the key an edited export is matched by
    assert "138****5678" in text and "13812345678" not in text
    id_card = valid_id_card(1)
    assert f"{id_card[:6]}********{id_card[-4:]}" in text and id_card not in text
    assert "商铺" in text


@pytest.mark.django_db
def test_admin_household_export_lists_households_in_the_import_columns(
    buildings: Any, world: World, client: Client
) -> None:
    run_import(csv_text(GOOD_ROWS))
    client.force_login(world.admin)
    url = reverse("admin:grids_household_export")
    form = client.get(url).context["form"]
    ticked = {name: "on" for name, field in form.fields.items() if getattr(field, "is_selectable_field", False)}

    text = client.post(url, {"resource": "0", "format": "0", **ticked}).content.decode("utf-8-sig")

    lines = text.splitlines()
    assert lines[0].split(",") == [BUILDING, ROOM, KIND]
    assert sorted(lines[1:]) == ["lf-01,101,住宅", "lf-01,102,商铺", "lf-02,201,驻区单位"]


@pytest.mark.django_db
def test_admin_confirm_after_the_data_changed_imports_nothing(buildings: Any, world: World, client: Client) -> None:
    client.force_login(world.admin)
    upload = io.BytesIO(csv_text(GOOD_ROWS).encode("utf-8-sig"))
    upload.name = "residents.csv"
    preview = client.post(
        reverse("admin:grids_resident_import"), {"resource": "0", "format": "0", "import_file": upload}
    )
    # Between the preview and the click, someone registers the third row's resident elsewhere.
    elsewhere = HouseholdFactory.create(building=buildings[1], room="909")
    ResidentFactory.create(household=elsewhere, id_card=GOOD_ROWS[2][4])
    before = snapshot()

    response = client.post(
        reverse("admin:grids_resident_process_import"), {**preview.context["confirm_form"].initial, "confirm": "1"}
    )

    assert response.status_code == 302 and response["Location"].endswith(reverse("admin:grids_resident_import"))
    assert snapshot() == before
    follow = client.get(response["Location"])
    assert any(m.level_tag == "error" for m in follow.context["messages"])


@pytest.mark.django_db
def test_the_importer_does_not_run_without_an_acting_user(buildings: Any) -> None:
    # Scope comes from the user; an import with nobody acting could write anywhere, so it never starts.
    dataset = CSV(encoding="utf-8").create_dataset(csv_text(GOOD_ROWS))
    with pytest.raises(TypeError, match="acting user"):
        HouseholdResidentResource().import_data(dataset)
    assert not Resident.objects.exists()


def export_residents(client: Client) -> str:
    """The residents' export as the admin downloads it (CSV, every column ticked)."""
    url = reverse("admin:grids_resident_export")
    form = client.get(url).context["form"]
    ticked = {name: "on" for name, field in form.fields.items() if getattr(field, "is_selectable_field", False)}
    return client.post(url, {"resource": "0", "format": "0", **ticked}).content.decode("utf-8-sig")


@pytest.mark.django_db
def test_the_residents_export_imports_again_unchanged(buildings: Any, world: World, client: Client) -> None:
    run_import(csv_text(GOOD_ROWS))
    shop = HouseholdFactory.create(building=buildings[1], room="门面1", kind=Household.Kind.SHOP)
    client.force_login(world.admin)
    exported = export_residents(client)
    assert "13812345678" not in exported and valid_id_card(1) not in exported  # still masked
    before = snapshot()

    result = run_import(exported)

    assert not result.has_errors() and not result.has_validation_errors(), invalid_rows(result)
    assert result.totals["new"] == 0 and result.totals["update"] == 0
    assert snapshot() == before
    assert Household.objects.get(pk=shop.pk).kind == Household.Kind.SHOP


@pytest.mark.django_db
def test_an_edited_export_changes_what_was_edited_and_keeps_the_masked_values(
    buildings: Any, world: World, client: Client
) -> None:
    run_import(csv_text(GOOD_ROWS))
    client.force_login(world.admin)
    rows = list(csv.reader(io.StringIO(export_residents(client))))
    header, body = rows[0], rows[1:]
    name, phone = header.index(NAME), header.index(PHONE)
    zhang = next(row for row in body if row[name] == "张伟")
    zhang[name] = "张卫"  # a corrected name; the masked ID card and phone stay as exported
    wang = next(row for row in body if row[name] == "王强")
    wang[phone] = "13700001111"  # a new phone, written whole

    result = run_import(csv_text(body, headers=header))

    assert not result.has_errors() and not result.has_validation_errors(), invalid_rows(result)
    assert result.totals["update"] == 2
    corrected = Resident.objects.get(name="张卫")
    assert corrected.id_card == valid_id_card(1) and corrected.phone == "13812345678"
    assert corrected.id_card_hash == id_card_hash(valid_id_card(1))
    assert Resident.objects.get(name="王强").phone == "13700001111"


@pytest.mark.django_db
def test_a_masked_value_that_is_not_the_stored_ones_is_refused(buildings: Any, world: World, client: Client) -> None:
    run_import(csv_text(GOOD_ROWS))
    client.force_login(world.admin)
    rows = list(csv.reader(io.StringIO(export_residents(client))))
    header, body = rows[0], rows[1:]
    id_column, phone, key = header.index(ID_CARD), header.index(PHONE), header.index("居民编号")
    body[0][phone] = "139****0000"  # not the mask of the stored phone
    body[1][id_column], body[2][id_column] = body[2][id_column], body[1][id_column]  # masks swapped
    body[3][key] = ""  # a masked number without the row's resident number
    before = snapshot()

    result = run_import(csv_text(body, headers=header))

    errors = invalid_rows(result)
    assert set(errors) == {1, 2, 3, 4}
    assert PHONE in errors[1] and ID_CARD in errors[2] and ID_CARD in errors[3] and ID_CARD in errors[4]
    assert snapshot() == before
