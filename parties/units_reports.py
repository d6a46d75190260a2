"""The unit's annual assessment (年度考核) as XLSX: title rows, bold headers, the page's figures."""

import io
import re
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from governance.spreadsheets import neutralise


def _header(sheet: Any, labels: list[str]) -> None:
    sheet.append(labels)
    row = sheet.max_row
    for i in range(1, len(labels) + 1):
        cell = sheet.cell(row=row, column=i)
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDEBF7")
        cell.alignment = Alignment(horizontal="center", wrap_text=True)
        sheet.column_dimensions[get_column_letter(i)].width = 24 if i == 1 else 14
    sheet.freeze_panes = sheet.cell(row=row + 1, column=2)


def unit_assessment_xlsx(page: dict[str, Any]) -> bytes:
    """One sheet: the unit's reporting rate and flag, then each in-service member's services, points and flag."""
    unit, year = page["unit"], page["year"]
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = re.sub(r"[\[\]:*?/\\]", " ", str(_("Annual assessment")))[:31]
    yes, no = _("yes"), _("no")
    sheet.append([neutralise(_("%(unit)s: 双报到 annual assessment %(year)s") % {"unit": unit.name, "year": year})])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append([neutralise(_("Party organisation: %(org)s") % {"org": unit.party_organisation})])
    sheet.append([_("Period: %(since)s – %(until)s") % {"since": f"{year}-01-01", "until": f"{year}-12-31"}])
    sheet.append([_("Rules: a reporting rate below %(rate)d %% may not be rated excellent; fewer than %(n)d "
                    "confirmed services in the year may not be rated excellent.")
                  % {"rate": settings.UNIT_REPORTING_RATE_MIN, "n": settings.MEMBER_SERVICES_MIN}])
    sheet.append([])
    _header(sheet, [_("Unit"), _("In-service members"), _("Reported"), _("Reporting rate"),
                    _("Not to be rated excellent")])
    sheet.append([neutralise(unit.name), unit.in_service, unit.reported,
                  float(unit.rate) if unit.rate is not None else None, yes if unit.flagged else no])
    sheet.cell(row=sheet.max_row, column=4).number_format = "0.0%"
    sheet.append([])
    _header(sheet, [_("Party member"), _("Reported to"), _("Confirmed services"), _("Points"),
                    _("Not to be rated excellent")])
    for member in page["members"]:
        sheet.append([neutralise(member.name), neutralise(member.reported_to or "—"), member.services,
                      member.points, yes if member.flagged else no])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
