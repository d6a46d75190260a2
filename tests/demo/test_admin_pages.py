"""Every admin page a district admin can reach answers, on the seeded demo district (``conftest.demo_district``);
lists mask personal data."""

from typing import Any

import pytest
from django.contrib import admin
from django.db.models import Model
from django.test import Client, RequestFactory
from django.urls import reverse
from import_export.admin import ExportMixin, ImportMixin

from governance.models import User
from grids.identity import mask_id_card, mask_phone
from grids.models import Resident

REGISTERED = sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)


def url(model: type[Model], view: str, *args: Any) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


@pytest.mark.parametrize(("model", "model_admin"), REGISTERED, ids=[m._meta.label for m, _a in REGISTERED])
def test_admin_pages_answer(superuser_client: Client, model: type[Model], model_admin: admin.ModelAdmin) -> None:
    request = RequestFactory().get("/")
    request.user = User.objects.get(username="admin")

    assert superuser_client.get(url(model, "changelist")).status_code == 200
    if model_admin.has_add_permission(request):
        assert superuser_client.get(url(model, "add")).status_code == 200
    first = model._default_manager.order_by("pk").first()
    if first is not None:
        assert superuser_client.get(url(model, "change", first.pk)).status_code == 200
    if isinstance(model_admin, ImportMixin):
        assert superuser_client.get(url(model, "import")).status_code == 200
    if isinstance(model_admin, ExportMixin):
        assert superuser_client.get(url(model, "export")).status_code == 200


def test_resident_list_masks_phone_and_id(superuser_client: Client) -> None:
    response = superuser_client.get(url(Resident, "changelist"))
    shown = list(response.context["cl"].result_list)
    page = response.content.decode()

    assert shown
    for resident in shown:
        assert mask_phone(resident.phone) in page and resident.phone not in page
        assert mask_id_card(resident.id_card) in page and resident.id_card not in page


@pytest.mark.parametrize(("model", "model_admin"), REGISTERED, ids=[m._meta.label for m, _a in REGISTERED])
def test_no_list_shows_a_whole_phone_or_id(
    superuser_client: Client, model: type[Model], model_admin: admin.ModelAdmin
) -> None:
    page = superuser_client.get(url(model, "changelist"), {"all": ""}).content.decode()
    for id_card, phone in Resident.objects.values_list("id_card", "phone").iterator():
        assert id_card not in page
        assert not phone or phone not in page


def test_admin_finds_a_petition_by_its_number_or_title(superuser_client: Client) -> None:
    from petitions.models import Petition

    petition, other = Petition.objects.order_by("pk")[:2]
    changelist = url(Petition, "changelist")

    page = superuser_client.get(changelist, {"q": petition.number}).content.decode()
    assert page.count('class="field-number"') == 1 and petition.number in page
    assert other.number not in page
    by_title = superuser_client.get(changelist, {"q": petition.title}).content.decode()
    assert petition.number in by_title
