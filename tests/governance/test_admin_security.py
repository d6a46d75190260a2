"""The admin as a security review tries it: exports and actions in scope, spreadsheets that cannot
run formulas, bounded imports, and an audit trail of every change that nobody can edit."""

import csv
import io
from typing import Any

import openpyxl
import pytest
from django.db import DatabaseError, connection, transaction
from django.test import Client

from grids.models import Building, Household, Resident

from ..conftest import World
from ..factories import BuildingFactory, HouseholdFactory, valid_id_card
from ..grids.test_import import HEADERS, csv_text, xlsx_bytes
from .conftest import _client

EXPORT_FIELDS = {
    "householdexportresource_building": "on",
    "householdexportresource_room": "on",
    "householdexportresource_kind": "on",
}


def export(client: Client, fmt: str) -> bytes:
    """Export the household list as the admin's export page does; fmt is "0" (CSV) or "1" (XLSX)."""
    response = client.post("/admin/grids/household/export/", {"resource": "0", "format": fmt, **EXPORT_FIELDS})
    assert response.status_code == 200, response.content[:500]
    return b"".join(response.streaming_content) if response.streaming else response.content  # type: ignore[attr-defined]


def csv_rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def xlsx_cells(data: bytes) -> list[list[Any]]:
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    assert sheet is not None
    return [[cell.value for cell in row] for row in sheet.iter_rows()]


@pytest.mark.django_db
class TestExports:
    def test_a_staff_official_exports_only_their_street(
        self, world: World, staff_official: Any, two_streets: dict[str, Any]
    ) -> None:
        rooms = csv_rows(export(_client(staff_official), "0"))[1:]
        assert [row[1] for row in rooms] == [two_streets["near_resident"].household.room]

    def test_cells_that_would_run_as_formulas_are_exported_as_text(self, world: World) -> None:
        building = BuildingFactory.create(grid=world.grid, code="lf-01")
        for room in ('=HYPERLINK("h")', "+1+1", "-2+3", "@SUM(A1)", "\t=1", "101"):
            HouseholdFactory.create(building=building, room=room)
        client = _client(world.admin)
        for rows in (csv_rows(export(client, "0"))[1:], xlsx_cells(export(client, "1"))[1:]):
            rooms = sorted(str(row[1]) for row in rows)
            assert "101" in rooms
            dangerous = [r for r in rooms if r != "101"]
            assert len(dangerous) == 5
            assert all(r.startswith("'") for r in dangerous), dangerous
        # In the workbook each is a text cell, not a formula.
        book = openpyxl.load_workbook(io.BytesIO(export(client, "1")))
        assert book.active is not None
        assert all(cell.data_type == "s" for row in book.active.iter_rows(min_row=2) for cell in row)


@pytest.mark.django_db
class TestActions:
    def test_a_bulk_delete_cannot_reach_another_street(
        self, world: World, staff_official: Any, two_streets: dict[str, Any]
    ) -> None:
        far, near = two_streets["far_resident"], two_streets["near_resident"]
        _client(staff_official).post(
            "/admin/grids/resident/",
            {"action": "delete_selected", "_selected_action": [far.pk, near.pk], "post": "yes"},
        )
        assert Resident.objects.filter(pk=far.pk).exists()


def upload(name: str, data: bytes) -> io.BytesIO:
    file = io.BytesIO(data)
    file.name = name
    return file


@pytest.mark.django_db
class TestImports:
    def post(self, client: Client, file: io.BytesIO) -> Any:
        fmt = "1" if file.name.endswith(".xlsx") else "0"  # type: ignore[attr-defined]
        return client.post("/admin/grids/resident/import/", {"resource": "0", "format": fmt, "import_file": file})

    def test_a_cell_that_would_run_as_a_formula_is_refused_naming_the_row(self, world: World) -> None:
        BuildingFactory.create(grid=world.grid, code="lf-01")
        rows = [
            ["lf-01", "101", "住宅", "张伟", valid_id_card(1), ""],
            ["lf-01", "=cmd|' /C calc'!A0", "住宅", "李娜", valid_id_card(2), ""],
        ]
        result = self.post(_client(world.admin), upload("residents.csv", csv_text(rows).encode()))
        page = result.content.decode()
        assert result.status_code == 200
        assert "公式" in page  # the reason, in Chinese
        assert result.context["result"].has_validation_errors()
        assert [row.number for row in result.context["result"].invalid_rows] == [2]
        assert not Resident.objects.exists() and not Household.objects.exists()

    def test_too_many_rows_is_refused_before_parsing_with_the_limit(self, world: World, settings: Any) -> None:
        settings.IMPORT_MAX_ROWS = 3
        BuildingFactory.create(grid=world.grid, code="lf-01")
        rows = [["lf-01", str(100 + n), "住宅", "张伟", valid_id_card(n), ""] for n in range(5)]
        for name, data in (("r.csv", csv_text(rows).encode()), ("r.xlsx", xlsx_bytes(rows))):
            response = self.post(_client(world.admin), upload(name, data))
            page = response.content.decode()
            assert response.status_code == 200
            assert "5" in page and "3" in page and "行" in page
            assert "Traceback" not in page and "/work/" not in page and "site-packages" not in page
        assert not Resident.objects.exists()

    def test_too_large_a_file_is_refused_with_the_limit(self, world: World, settings: Any) -> None:
        settings.IMPORT_MAX_BYTES = 1024
        data = csv_text([["lf-01", "101", "住宅", "张" * 40, valid_id_card(n), ""] for n in range(30)]).encode()
        page = self.post(_client(world.admin), upload("big.csv", data)).content.decode()
        assert "1 KB" in page
        assert not Resident.objects.exists()

    def test_a_zip_bomb_is_refused_before_it_is_unpacked(self, world: World, settings: Any) -> None:
        settings.IMPORT_MAX_UNPACKED_BYTES = 1024 * 1024
        book = openpyxl.Workbook()
        sheet = book.active
        assert sheet is not None
        sheet.append(HEADERS)
        for n in range(60):  # 60 cells of 30,000 characters: small zipped, 1.8 MB unpacked
            sheet.append(["lf-01", str(n), "住宅", "张伟", valid_id_card(n), "A" * 30_000])
        out = io.BytesIO()
        book.save(out)
        page = self.post(_client(world.admin), upload("bomb.xlsx", out.getvalue())).content.decode()
        assert "MB" in page
        assert not Resident.objects.exists()

    def test_a_file_that_is_not_a_spreadsheet_gets_a_message_not_a_traceback(self, world: World) -> None:
        response = self.post(_client(world.admin), upload("r.xlsx", b"PK\x03\x04 not really a zip"))
        page = response.content.decode()
        assert response.status_code == 200
        assert "XLSX" in page and "Traceback" not in page


@pytest.mark.django_db
class TestAuditTrail:
    def test_every_admin_change_is_recorded_with_who_before_and_after(self, world: World) -> None:
        client = _client(world.admin)
        building = BuildingFactory.create(grid=world.grid, code="lf-01", name="1栋")
        response = client.post(
            f"/admin/grids/building/{building.pk}/change/", {"grid": world.grid.pk, "code": "lf-01", "name": "一号楼"}
        )
        assert response.status_code == 302
        last = Building.history.filter(id=building.pk).order_by("-history_id").first()
        assert last is not None and last.history_user == world.admin and last.history_type == "~"
        delta = last.diff_against(last.prev_record)
        assert [(c.field, c.old, c.new) for c in delta.changes] == [("name", "1栋", "一号楼")]

        page = client.get(f"/admin/grids/building/{building.pk}/history/").content.decode()
        assert "一号楼" in page and "1栋" in page and world.admin.username in page

    def test_nobody_can_revert_or_edit_the_trail(self, world: World) -> None:
        building = BuildingFactory.create(grid=world.grid, code="lf-01", name="1栋")
        building.name = "一号楼"
        building.save()
        first = Building.history.filter(id=building.pk).order_by("history_id").first()
        assert first is not None
        client = _client(world.admin)
        # The admin's revert page changes nothing, even for a superuser.
        records = Building.history.count()
        url = f"/admin/grids/building/{building.pk}/history/{first.history_id}/"
        assert client.post(url, {"grid": world.grid.pk, "code": "lf-01", "name": "1栋"}).status_code == 403
        building.refresh_from_db()
        assert building.name == "一号楼"
        assert Building.history.count() == records
        # And the database refuses to rewrite it.
        if connection.vendor == "postgresql":
            with pytest.raises(DatabaseError), transaction.atomic():
                Building.history.filter(history_id=first.history_id).update(name="forged")
            with pytest.raises(DatabaseError), transaction.atomic():
                Building.history.filter(history_id=first.history_id).delete()

    def test_a_staff_official_cannot_read_another_streets_history(
        self, world: World, staff_official: Any, two_streets: dict[str, Any]
    ) -> None:
        client = _client(staff_official)
        far = two_streets["far_resident"].household
        near = two_streets["near_resident"].household
        assert client.get(f"/admin/grids/household/{far.pk}/history/").status_code == 404
        assert client.get(f"/admin/grids/household/{near.pk}/history/").status_code == 200

    def test_the_trail_keeps_no_id_card_number_or_password(self, world: World) -> None:
        resident = Resident.objects.create(
            household=HouseholdFactory.create(building=BuildingFactory.create(grid=world.grid)),
            name="张伟",
            id_card=valid_id_card(3),
            id_card_hash="x" * 64,
        )
        record = resident.history.first()  # type: ignore[attr-defined]
        assert not hasattr(record, "id_card") and not hasattr(record, "id_card_hash")
        world.worker.set_password("another-password-1")
        world.worker.save()
        assert not hasattr(world.worker.history.first(), "password")  # type: ignore[attr-defined]
