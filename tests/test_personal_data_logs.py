"""No raw phone or ID-card number reaches a log, nor a URL an access log would keep: a full journey
through pages, API, admin, import and failed sign-ins, with every log record captured and scanned."""

import io
import logging
from typing import Any

import pytest
from django.test import Client

from governance.models import PersonalDataAccess
from grids.models import Resident

from .api.conftest import petition_body, token_client
from .conftest import World
from .factories import BuildingFactory, HouseholdFactory, valid_id_card
from .grids.test_import import csv_text

PHONE = "13912345678"
ID_CARD = valid_id_card(42)
OTHER_ID = valid_id_card(43)


@pytest.mark.django_db
def test_a_full_journey_logs_no_phone_or_id_card_number(
    world: World, caplog: pytest.LogCaptureFixture, settings: Any
) -> None:
    settings.LOG_LEVEL = "DEBUG"
    caplog.set_level(logging.DEBUG)
    urls: list[str] = []
    building = BuildingFactory.create(grid=world.grid, code="lf-01")
    household = HouseholdFactory.create(building=building, room="101")

    # A worker logs a petition by API, with a bad phone first, then views it whole.
    api = token_client(world.worker)
    assert (
        api.post("/api/v1/petitions/", petition_body(world, reporter_phone=PHONE + "9"), format="json").status_code
        == 400
    )
    created = api.post("/api/v1/petitions/", petition_body(world, reporter_phone=PHONE), format="json")
    assert created.status_code == 201
    pk = created.json()["id"]
    assert api.get(f"/api/v1/petitions/{pk}/").json()["reporter_phone"] == PHONE
    page = Client()
    page.force_login(world.worker)
    assert PHONE in page.get(f"/petitions/{pk}/").content.decode()

    # The admin registers a resident, searches by the number, opens the record and its history.
    admin = Client()
    admin.force_login(world.admin)
    added = admin.post(
        "/admin/grids/resident/add/",
        {"household": household.pk, "name": "张伟", "id_card": ID_CARD, "phone": PHONE},
    )
    assert added.status_code == 302, added.content[:2000]
    resident = Resident.objects.get()
    found = admin.post("/admin/grids/resident/search/", {"q": ID_CARD})
    assert found.status_code == 302
    urls.append(found["Location"])
    listing = admin.get(found["Location"])
    assert [r.pk for r in listing.context["cl"].result_list] == [resident.pk]
    for url in (f"/admin/grids/resident/{resident.pk}/change/", f"/admin/grids/resident/{resident.pk}/history/"):
        assert admin.get(url).status_code == 200
    # A duplicate refused, naming the field.
    refused = admin.post(
        "/admin/grids/resident/add/", {"household": household.pk, "name": "李娜", "id_card": ID_CARD, "phone": ""}
    )
    assert refused.status_code == 200 and "id_card" in refused.context["adminform"].form.errors

    # An import with one bad row.
    upload = io.BytesIO(
        csv_text(
            [["lf-01", "102", "住宅", "王强", OTHER_ID, PHONE], ["lf-01", "103", "住宅", "赵敏", ID_CARD, "1381"]]
        ).encode()
    )
    upload.name = "residents.csv"
    assert (
        admin.post("/admin/grids/resident/import/", {"resource": "0", "format": "0", "import_file": upload}).status_code
        == 200
    )

    # Someone tries to sign in with the number as the username, and with the phone.
    for username in (ID_CARD, PHONE):
        Client().post("/accounts/login/", {"username": username, "password": "guess"})
        Client().post(
            "/api/v1/auth/token/", {"username": username, "password": "guess"}, content_type="application/json"
        )

    # Each whole viewing is in the personal-data log (the log of record, which names no number).
    assert PersonalDataAccess.objects.filter(user=world.worker).count() == 2
    assert PersonalDataAccess.objects.filter(user=world.admin, object_type="grids.resident").count() >= 2

    logged = "\n".join(
        [caplog.text]
        + [record.getMessage() for record in caplog.records]
        + [repr(record.__dict__) for record in caplog.records]
    )
    assert caplog.records  # the journey did log (axes, bad requests), so the scan means something
    for secret in (PHONE, ID_CARD, OTHER_ID):
        assert secret not in logged, secret
        assert all(secret not in url for url in urls), secret
