"""Spreadsheets in and out of the admin: no formula injection, and bounded uploads.

Export: a text cell that a spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return) is written with a leading apostrophe, so Excel, WPS and
LibreOffice show it as text; the same in XLSX and CSV. Import: such a cell is refused (the
importers call ``formula_error``). An upload larger than ``IMPORT_MAX_BYTES``, with more than
``IMPORT_MAX_ROWS`` rows, or (XLSX) unpacking to more than ``IMPORT_MAX_UNPACKED_BYTES`` is refused
before the file is parsed; ``IMPORT_MAX_CELL_CHARS`` bounds one cell.
"""

import zipfile
from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext as _
from import_export import resources
from import_export.forms import ImportForm

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """A cell's value as a spreadsheet will show it, never run it."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def formula_error(value: Any) -> str | None:
    """Why an imported cell is refused, or None."""
    if isinstance(value, str) and value.lstrip(" ").startswith(FORMULA_START):
        return _("A cell may not start with =, +, -, @ or a tab: a spreadsheet would run it as a formula.")
    if isinstance(value, str) and len(value) > settings.IMPORT_MAX_CELL_CHARS:
        return _("A cell has at most %(n)d characters.") % {"n": settings.IMPORT_MAX_CELL_CHARS}
    return None


class SafeExportResource(resources.ModelResource):
    """A resource whose every exported cell is neutralised."""

    def export_resource(self, instance: Any, selected_fields: Any = None, **kwargs: Any) -> list[Any]:
        return [neutralise(value) for value in super().export_resource(instance, selected_fields, **kwargs)]


def _count_rows(upload: Any, name: str) -> int:
    """Rows of a CSV (its line breaks) or an XLSX (the sheet's declared dimension, read in
    openpyxl's read-only mode, which does not load the cells)."""
    upload.seek(0)
    if name.endswith(".xlsx"):
        from openpyxl import load_workbook

        workbook = load_workbook(upload, read_only=True)
        try:
            sheet = workbook.worksheets[0]
            return int(sheet.max_row or 0)
        finally:
            workbook.close()
    rows = 0
    for chunk in upload.chunks():
        rows += chunk.count(b"\n")
    return rows


class BoundedImportForm(ImportForm):
    """django-import-export's upload form, refusing an oversized file naming the limit it passed."""

    def clean_import_file(self) -> Any:
        upload = self.cleaned_data["import_file"]
        limit = settings.IMPORT_MAX_BYTES
        if upload.size > limit:
            raise forms.ValidationError(
                _("The file is %(size)d KB; at most %(limit)d KB can be imported at once.")
                % {"size": upload.size // 1024, "limit": limit // 1024}
            )
        name = (upload.name or "").lower()
        try:
            if name.endswith(".xlsx"):
                upload.seek(0)
                with zipfile.ZipFile(upload) as archive:
                    unpacked = sum(info.file_size for info in archive.infolist())
                if unpacked > settings.IMPORT_MAX_UNPACKED_BYTES:
                    raise forms.ValidationError(
                        _("The spreadsheet unpacks to more than %(limit)d MB; split it into smaller files.")
                        % {"limit": settings.IMPORT_MAX_UNPACKED_BYTES // (1024 * 1024)}
                    )
            rows = _count_rows(upload, name)
        except (zipfile.BadZipFile, OSError, KeyError, ValueError) as exc:
            raise forms.ValidationError(_("The file cannot be read as a spreadsheet (XLSX or CSV).")) from exc
        finally:
            upload.seek(0)
        if rows - 1 > settings.IMPORT_MAX_ROWS:
            raise forms.ValidationError(
                _("The file has %(rows)d rows; at most %(limit)d can be imported at once.")
                % {"rows": rows - 1, "limit": settings.IMPORT_MAX_ROWS}
            )
        return upload
