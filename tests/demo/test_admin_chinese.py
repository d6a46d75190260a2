"""The admin speaks Chinese: every change list and change form, as the superuser, on the demo district.

The walk reads what a user sees (text, titles, placeholders, aria labels) and fails on English
words found in the admin before issue 11; the history, the permission widget and the exported
sheet are checked where they are made.
"""

import io
import re
from typing import Any

import openpyxl
import pytest
from django.contrib.admin.models import LogEntry
from django.test import Client

from governance.models import Department

from .test_admin_pages import REGISTERED, url

# Whole words or phrases, case-sensitive: what an English admin shows and a Chinese one must not.
ENGLISH = (
    "Axes", "Access attempts", "Access logs", "Access failures", "Access attempt", "Get full name",
    "GET FULL NAME", "Model name", "Add link", "Change or view list link", "Can add", "Can change",
    "Can delete", "Can view", "Select all", "Tablib Dataset", "User Agent", "IP Address",
    "Attempt Time", "Logout Time", "Path", "Changed", "Added", "Name", "Hold down", "Choose all",
    "Remove all", "Locked Out", "Meta Data", "Form Data", "Save", "Delete", "History", "Search",
    "Filter", "Action", "resolve_on_grid", "follow_up", "reopen_on_grid", "full_time", "part_time",
)
_ENGLISH = re.compile(r"(?<![A-Za-z_])(" + "|".join(map(re.escape, ENGLISH)) + r")(?![A-Za-z_])")


def shown_text(html: str) -> str:
    html = re.sub(r"<script.*?</script>|<style.*?</style>", " ", html, flags=re.S)
    attributes = " ".join(re.findall(r'(?:title|placeholder|aria-label|alt)="([^"]*)"', html))
    return re.sub(r"<[^>]+>", " ", html) + " " + attributes


def english_in(client: Client, path: str) -> list[str]:
    response = client.get(path)
    assert response.status_code == 200, path
    return sorted(set(_ENGLISH.findall(shown_text(response.content.decode()))))


def test_the_index_is_chinese(superuser_client: Client) -> None:
    assert english_in(superuser_client, "/admin/") == []


@pytest.mark.parametrize("model", [m for m, _a in REGISTERED], ids=[m._meta.label for m, _a in REGISTERED])
def test_every_list_and_form_is_chinese(superuser_client: Client, model: Any) -> None:
    found = {"changelist": english_in(superuser_client, url(model, "changelist"))}
    first = model._default_manager.order_by("pk").first()
    if first is not None:
        found["change"] = english_in(superuser_client, url(model, "change", first.pk))
    assert all(not words for words in found.values()), found


def test_the_permission_widget_lists_permissions_in_chinese(superuser_client: Client) -> None:
    page = superuser_client.get("/admin/auth/group/add/").content.decode()
    assert "可以查看 住户" in page or "可以查看 户" in page or "可以查看" in page
    assert not re.search(r">\s*[^<]*\bCan (add|change|delete|view)\b", page)


def test_history_names_the_changed_fields_in_chinese(superuser_client: Client) -> None:
    department = Department.objects.order_by("pk").first()
    assert department is not None
    change = url(Department, "change", department.pk)
    form = superuser_client.get(change).context["adminform"].form
    data = {name: ("" if value is None else value) for name, value in form.initial.items()}
    data.update({"name": department.name + "（新）", "is_active": "on" if department.is_active else ""})
    response = superuser_client.post(change, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    entry = LogEntry.objects.filter(object_id=str(department.pk)).latest("action_time")
    # Django's change log names the field in Chinese …
    assert entry.get_change_message() == "已修改名称。"
    # … and the object's history page (django-simple-history's audit trail) lists the change, in Chinese.
    history = superuser_client.get(url(Department, "history", department.pk)).content.decode()
    text = shown_text(history)
    assert department.name + "（新）" in text and "历史" in text
    assert "Name" not in text and "Changed" not in text


def test_the_exported_sheet_is_named_in_chinese(superuser_client: Client) -> None:
    from grids.models import Household

    export = url(Household, "export")
    form = superuser_client.get(export).context["form"]
    ticked = {n: "on" for n, f in form.fields.items() if getattr(f, "is_selectable_field", False)}
    formats = dict((label, value) for value, label in form.fields["format"].choices)
    xlsx = next(value for label, value in formats.items() if "xlsx" in str(label).lower())
    response = superuser_client.post(export, {"resource": "0", "format": xlsx, **ticked})
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == [str(Household._meta.verbose_name_plural)]
    assert "Tablib" not in book.sheetnames[0]
