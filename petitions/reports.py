"""The dashboard's tables, declared once: the page renders them, the XLSX and CSV exports write them.

The figures come from ``metrics.dashboard_for``; this module only says which columns each table has,
how a cell reads (a count, a rate rounded once by ``metrics.percent``) and which petitions a count
links to (the list's filters, ``metrics.petitions_behind``).
"""

import csv
import io
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from .metrics import percent

COUNT, RATE, TEXT = "count", "rate", "text"


@dataclass(frozen=True)
class Column:
    key: str  # "totals.registered", "rates.on_time_rate", "name", or a key of the row itself
    label: Promise
    kind: str = COUNT
    # The list's filters for the petitions behind a count: {"stage": "resolved", "outcome": "late"}.
    behind: Mapping[str, str] | None = None


@dataclass(frozen=True)
class Table:
    name: str
    title: Promise
    source: str  # the key of ``dashboard_for``'s answer holding the rows
    columns: tuple[Column, ...]


NAME = Column("name", gettext_lazy("Name"), TEXT)
REGISTERED = Column("totals.registered", gettext_lazy("Registered"), behind={"stage": "registered"})
DISPATCHED = Column("totals.dispatched", gettext_lazy("Dispatched"), behind={"stage": "dispatched"})
RESOLVED = Column("totals.resolved", gettext_lazy("Resolved"), behind={"stage": "resolved"})
LATE = Column("late", gettext_lazy("Resolved late"), behind={"stage": "resolved", "outcome": "late"})
OVERDUE = Column("totals.overdue", gettext_lazy("Overdue now"), behind={"overdue": "true"})
FOLLOW_UPS = Column("totals.follow_up_calls", gettext_lazy("Follow-ups"), behind={"stage": "followed_up"})
UNSATISFIED = Column(
    "unsatisfied", gettext_lazy("Not satisfied"), behind={"stage": "followed_up", "satisfied": "false"}
)
RESPONSE = Column("rates.response_rate", gettext_lazy("Response rate"), RATE)
ON_TIME = Column("rates.on_time_rate", gettext_lazy("On-time rate"), RATE)
SATISFACTION = Column("rates.satisfaction_rate", gettext_lazy("Satisfaction rate"), RATE)
RESOLUTION = Column("rates.resolution_rate", gettext_lazy("Resolution rate"), RATE)
ON_GRID = Column("rates.on_grid_rate", gettext_lazy("Handled on the grid"), RATE)

TABLES = {
    t.name: t
    for t in (
        Table(
            "children",
            gettext_lazy("By area"),
            "children",
            (NAME, REGISTERED, DISPATCHED, RESOLVED, LATE, OVERDUE, RESPONSE, ON_TIME, SATISFACTION, ON_GRID),
        ),
        Table(
            "departments",
            gettext_lazy("Departments: assessment (考评)"),
            "departments",
            (
                NAME,
                DISPATCHED,
                RESPONSE,
                RESOLVED,
                ON_TIME,
                FOLLOW_UPS,
                SATISFACTION,
                UNSATISFIED,
                Column("totals.returned", gettext_lazy("Returned")),
                Column("totals.rehandled", gettext_lazy("Re-handled")),
                Column("totals.extended", gettext_lazy("Extensions")),
                OVERDUE,
            ),
        ),
        Table(
            "categories",
            gettext_lazy("Categories"),
            "categories",
            (NAME, REGISTERED, RESOLVED, OVERDUE, ON_TIME, RESOLUTION, SATISFACTION),
        ),
        Table(
            "channels",
            gettext_lazy("By channel"),
            "channels",
            (
                NAME,
                Column("registered", gettext_lazy("Registered"), behind={"stage": "registered"}),
                Column("open", gettext_lazy("Still open")),
                Column("overdue", gettext_lazy("Overdue now"), behind={"overdue": "true"}),
            ),
        ),
        Table(
            "weekly",
            gettext_lazy("Weekly trend"),
            "weekly",
            (
                Column("start", gettext_lazy("Week"), TEXT),
                REGISTERED,
                DISPATCHED,
                RESOLVED,
                RESPONSE,
                ON_TIME,
                SATISFACTION,
            ),
        ),
        Table(
            "workers",
            gettext_lazy("Grid workers: assessment (考评)"),
            "workers",
            (
                NAME,
                Column("registered", gettext_lazy("Registered")),
                Column("resolved_on_grid", gettext_lazy("Resolved on the grid")),
                Column("follow_ups", gettext_lazy("Follow-ups done")),
                Column("own_follow_ups", gettext_lazy("Follow-ups on own cases (背对背)")),
                Column("overdue", gettext_lazy("Overdue now")),
            ),
        ),
        Table(
            "overdue",
            gettext_lazy("Overdue now, longest first"),
            "overdue_list",
            (
                Column("number", gettext_lazy("Number"), TEXT),
                Column("title", gettext_lazy("Title"), TEXT),
                Column("holder", gettext_lazy("Held by"), TEXT),
                Column("overdue_hours", gettext_lazy("Hours overdue")),
            ),
        ),
    )
}


def value(row: Mapping[str, Any], key: str) -> Any:
    """A cell's figure: ``totals.x`` and ``rates.x`` from the figures, a few derived counts, or the row's own."""
    if key == "late":
        return row["totals"]["resolved"] - row["totals"]["resolved_on_time"]
    if key == "unsatisfied":
        return row["totals"]["reached"] - row["totals"]["satisfied"]
    head, _dot, tail = key.partition(".")
    return row[head][tail] if tail else row.get(head, "")


def text(column: Column, cell: Any) -> str:
    """A cell as the page and the CSV show it: rates rounded once (``metrics.percent``)."""
    return percent(cell) if column.kind == RATE else str(cell)


def row_filters(table: str, row: Mapping[str, Any], data: Mapping[str, Any]) -> dict[str, str]:
    """The list's filters narrowing a count of this row to its petitions (place, department, week)."""
    where: dict[str, str] = {"since": data["since"], "until": data["until"]}
    if data.get("grid"):
        where["grid"] = data["grid"]["code"]
    elif data["node"]["id"]:
        where["node"] = str(data["node"]["id"])
    if table == "children":
        where.pop("node", None)
        if row.get("level") == "grid":
            where["grid"] = row["code"]
        elif row.get("id"):
            where["node"] = str(row["id"])
    elif table == "departments":
        where["department"] = row["code"]
    elif table == "categories":
        where["category"] = row["code"]
    elif table == "channels":
        where["channel"] = row["channel"]
    elif table == "weekly":
        where["since"], where["until"] = row["start"], row["end"]
    return where


def link(
    column: Column, table: str, row: Mapping[str, Any], data: Mapping[str, Any], base: str | None = None
) -> str | None:
    """The petition list filtered to the petitions behind this cell's count (``base``: the list's URL)."""
    if column.behind is None or table in ("workers", "overdue"):
        return None
    filters = row_filters(table, row, data)
    if column.behind.get("overdue"):
        filters = {k: v for k, v in filters.items() if k not in ("since", "until")}
    return f"{base or reverse('petitions:list')}?{urlencode({**filters, **column.behind})}"


def rows(table: Table, data: Mapping[str, Any]) -> Iterator[list[dict[str, Any]]]:
    """Each row of ``table`` as cells: value, text and link (for the page)."""
    base = reverse("petitions:list")
    for row in data[table.source]:
        yield [
            {
                "value": (cell := value(row, c.key)),
                "text": text(c, cell),
                "link": link(c, table.name, row, data, base),
                "kind": c.kind,
            }
            for c in table.columns
        ]


def _title_rows(table: Table, data: Mapping[str, Any]) -> list[str]:
    place = data["grid"]["name"] if data.get("grid") else data["node"]["name"]
    return [
        str(table.title),
        _("Scope: %(place)s") % {"place": place},
        _("Period: %(since)s – %(until)s") % {"since": data["since"], "until": data["until"]},
    ]


def to_csv(table: Table, data: Mapping[str, Any]) -> str:
    """The table as CSV, with the same figures as the page (rates as the page shows them)."""
    out = io.StringIO()
    writer = csv.writer(out)
    for line in _title_rows(table, data):
        writer.writerow([line])
    writer.writerow([str(c.label) for c in table.columns])
    for cells in rows(table, data):
        writer.writerow([cell["text"] for cell in cells])
    return "\ufeff" + out.getvalue()  # a BOM so that Excel reads the Chinese as UTF-8


def to_xlsx(tables: list[Table], data: Mapping[str, Any]) -> bytes:
    """The tables as a workbook, one sheet each: title rows (table, scope, period), bold headers, rates
    as percentages (the exact fraction, shown with one decimal)."""
    book = Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    for table in tables:
        # Excel refuses []:*?/\ in a sheet's name and more than 31 characters.
        sheet = book.create_sheet(re.sub(r"[\[\]:*?/\\]", " ", str(table.title))[:31].strip())
        for line in _title_rows(table, data):
            sheet.append([line])
        sheet["A1"].font = Font(bold=True, size=14)
        sheet.append([str(c.label) for c in table.columns])
        header = sheet.max_row
        for i, _column in enumerate(table.columns, start=1):
            cell = sheet.cell(row=header, column=i)
            cell.font = Font(bold=True)
            cell.fill = PatternFill("solid", fgColor="DDEBF7")
            cell.alignment = Alignment(horizontal="center", wrap_text=True)
        for cells in rows(table, data):
            sheet.append([cell["value"] for cell in cells])
            for i, column in enumerate(table.columns, start=1):
                if column.kind == RATE:
                    sheet.cell(row=sheet.max_row, column=i).number_format = "0.0%"
        for i, column in enumerate(table.columns, start=1):
            sheet.column_dimensions[get_column_letter(i)].width = 28 if column.kind == TEXT else 14
        sheet.freeze_panes = sheet.cell(row=header + 1, column=2)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
