"""The page, its exports and the API give the same figures for the same period and place, and every
count on the page links to exactly the petitions behind it (the small history of test_metrics)."""

import csv
import datetime as dt
import io
import re
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from petitions.metrics import percent

from ..api.conftest import token_client
from ..conftest import World
from .test_metrics import SINCE, UNTIL, History, history  # noqa: F401 (the fixture)
from .test_pages import login

PERIOD = {"since": SINCE.isoformat(), "until": UNTIL.isoformat()}


def _table(html: str, table: str) -> list[list[str]]:
    """The visible text of each cell of a table on the page."""
    body = html.split(f'id="{table}"')[1].split("</tbody>")[0].split("<tbody>")[1]
    rows = re.findall(r"<tr .*?</tr>", body, flags=re.S)
    cells = [re.findall(r"<td[^>]*>(.*?)</td>", row, flags=re.S) for row in rows]
    return [[re.sub(r"<[^>]+>", "", c).replace(" 红榜", "").replace(" 黑榜", "").strip() for c in r] for r in cells]


@pytest.mark.django_db
def test_page_csv_xlsx_and_api_agree(history: History, client: Client) -> None:  # noqa: F811
    w = history.world
    login(client, w.official)
    html = client.get(reverse("petitions:dashboard"), PERIOD).content.decode()
    api = token_client(w.official).get("/api/v1/dashboard/", PERIOD).json()

    page = _table(html, "departments")
    response = client.get(reverse("petitions:dashboard_export", args=["departments", "csv"]), PERIOD)
    assert response["Content-Type"].startswith("text/csv")
    lines = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert "2026-03-02" in lines[2][0] and "交通街道" in lines[1][0]  # the period and the scope on top
    assert lines[4:] == page
    # Departments: name, dispatched, response, resolved, on time, ...; the same as the API's figures.
    for row, dept in zip(page, api["departments"], strict=True):
        assert row[0].startswith(dept["name"])
        assert row[1] == str(dept["totals"]["dispatched"])
        assert row[2] == percent(dept["rates"]["response_rate"])
        assert row[4] == percent(dept["rates"]["on_time_rate"])
    assert page[0][4] == "33.3%"  # housing: 1 of 3 resolutions on time

    response = client.get(reverse("petitions:dashboard_export", args=["all", "xlsx"]), PERIOD)
    book = load_workbook(io.BytesIO(response.content))
    sheet = book.worksheets[1]  # the departments' assessment
    assert "交通街道" in sheet["A2"].value and "2026-03-15" in sheet["A3"].value
    housing = [c.value for c in sheet[5]]
    assert housing[1] == api["departments"][0]["totals"]["dispatched"]
    assert housing[4] == pytest.approx(api["departments"][0]["rates"]["on_time_rate"])
    assert sheet.cell(row=5, column=5).number_format == "0.0%"
    assert len(book.worksheets) == 7  # one sheet per table (by channel: issue 8)


@pytest.mark.django_db
def test_every_count_links_to_exactly_its_petitions(history: History, client: Client) -> None:  # noqa: F811
    w = history.world
    login(client, w.official)
    html = client.get(reverse("petitions:dashboard"), PERIOD).content.decode()
    api = token_client(w.official)
    checked = 0
    for table in ("children", "departments", "categories"):
        part = html.split(f'id="{table}"')[1].split("</table>")[0]
        for value, href in re.findall(r'data-value="(\d+)"><a href="(/petitions/\?[^"]+)"', part):
            query: dict[str, Any] = dict(parse_qsl(urlsplit(href.replace("&amp;", "&")).query))
            listed = api.get("/api/v1/petitions/", query).json()
            assert listed["count"] == int(value), (table, query)
            checked += 1
    assert checked >= 15


@pytest.mark.django_db
def test_a_bad_period_on_the_list_names_the_field(history: History) -> None:  # noqa: F811
    api = token_client(history.world.official)
    response = api.get("/api/v1/petitions/", {"stage": "resolved", "since": "2026-03-10", "until": "2026-03-01"})
    assert response.status_code == 400 and "until" in response.json()


@pytest.mark.django_db
def test_the_departments_assessment_counts_approved_extensions(world: World, client: Client) -> None:
    """延期: an approved extension counts for the department holding the petition, in the period it was
    approved; a refused one does not. The page, the CSV and the API agree; the daily figures too."""
    from django.utils import timezone

    from petitions import services
    from petitions.metrics import dashboard_for, refresh_daily_figures

    today = timezone.localdate()
    extended = world.petition(stage="accepted")
    refused = world.petition(stage="accepted")
    for p in (extended, refused):
        services.petition_request_extension(
            actor=world.dept, petition_id=p.pk, reason="需协调物业", proposed_due=today + dt.timedelta(days=30)
        )
    services.petition_approve_extension(actor=world.official, petition_id=extended.pk)
    services.petition_refuse_extension(actor=world.official, petition_id=refused.pk, reason="期限足够")
    period = {"since": today.isoformat(), "until": today.isoformat()}

    login(client, world.official)
    html = client.get(reverse("petitions:dashboard"), period).content.decode()
    assert "延期" in html.split('id="departments"')[1].split("</thead>")[0]
    housing_row = _table(html, "departments")[0]
    assert housing_row[0].startswith(world.housing.name) and housing_row[-2] == "1"  # extensions, then overdue
    response = client.get(reverse("petitions:dashboard_export", args=["departments", "csv"]), period)
    lines = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert lines[3][-2] == "延期次数" and lines[4][-2] == "1"
    api = token_client(world.official).get("/api/v1/dashboard/", period).json()
    assert [d["totals"]["extended"] for d in api["departments"]] == [1]
    assert api["totals"]["extended"] == 1

    plain = dashboard_for(world.official, since=today, until=today)
    refresh_daily_figures(full=True)
    fast = dashboard_for(world.official, since=today, until=today)
    assert fast["as_of"] is not None and fast["departments"] == plain["departments"]


@pytest.mark.django_db
def test_the_page_lists_the_workers_who_need_a_word_first_and_the_export_every_one(
    history: History,  # noqa: F811
    client: Client,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A district has thousands of grid workers: past WORKERS_SHOWN the page lists the most overdue first
    and says how many it leaves to the export, which lists every one with the same figures."""
    from governance.models import User
    from petitions import views
    from petitions.models import Petition

    from ..factories import UserFactory

    w = history.world
    # A second worker of the branch, with one petition overdue now.
    second = UserFactory.create(username="worker2", role=User.Role.WORKER, scope_node=w.worker.scope_node)
    late = w.petition(actor=second)
    Petition.objects.filter(pk=late.pk).update(current_due=timezone.now() - dt.timedelta(days=1))
    login(client, w.official)
    url = reverse("petitions:dashboard")
    everyone = _table(client.get(url, PERIOD).content.decode(), "workers")
    assert len(everyone) == 2
    monkeypatch.setattr(views, "WORKERS_SHOWN", 1)
    html = client.get(url, PERIOD).content.decode()
    shown = _table(html, "workers")
    assert len(shown) == 1 and shown[0] in everyone
    assert (int(shown[0][5]), int(shown[0][4])) == max((int(r[5]), int(r[4])) for r in everyone)
    assert f"最需关注的 1 名（共 {len(everyone)} 名" in html
    response = client.get(reverse("petitions:dashboard_export", args=["workers", "csv"]), PERIOD)
    lines = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert lines[4:] == everyone
