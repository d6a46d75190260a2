"""Residents' names and phones: masked in lists, whole only where the scope covers them, each viewing logged."""

import pytest
from django.test import Client

from governance.models import PersonalDataAccess

from ..api.conftest import token_client
from ..conftest import World


@pytest.mark.django_db
class TestReporterName:
    def test_lists_mask_the_name_like_the_phone(self, world: World, client: Client) -> None:
        world.petition(reporter_name="李秀英", reporter_phone="13812345678")
        client.force_login(world.worker)
        page = client.get("/petitions/").content.decode()
        assert "李**" in page and "李秀英" not in page
        assert "13812345678" not in page
        body = token_client(world.worker).get("/api/v1/petitions/").json()
        assert body["results"][0]["reporter_name"] == "李**"
        assert body["results"][0]["reporter_phone"] == "138****5678"
        assert not PersonalDataAccess.objects.exists()  # nothing was shown whole

    def test_the_detail_shows_it_whole_to_the_chain_scope_and_logs_it(self, world: World, client: Client) -> None:
        petition = world.petition(stage="dispatched", reporter_name="李秀英", reporter_phone="13812345678")
        client.force_login(world.worker)
        assert "李秀英" in client.get(f"/petitions/{petition.pk}/").content.decode()
        assert token_client(world.worker).get(f"/api/v1/petitions/{petition.pk}/").json()["reporter_name"] == "李秀英"
        assert PersonalDataAccess.objects.filter(user=world.worker, object_id=petition.pk).count() == 2

        dept = Client()
        dept.force_login(world.dept)
        page = dept.get(f"/petitions/{petition.pk}/").content.decode()
        assert "李**" in page and "李秀英" not in page
        assert token_client(world.dept).get(f"/api/v1/petitions/{petition.pk}/").json()["reporter_name"] == "李**"
        assert not PersonalDataAccess.objects.filter(user=world.dept).exists()

    def test_the_admin_petition_page_logs_the_whole_viewing(self, world: World, client: Client) -> None:
        petition = world.petition(reporter_name="李秀英", reporter_phone="13812345678")
        client.force_login(world.admin)
        page = client.get(f"/admin/petitions/petition/{petition.pk}/change/").content.decode()
        assert "13812345678" in page
        viewing = PersonalDataAccess.objects.get(user=world.admin, object_id=petition.pk)
        assert "reporter_phone" in viewing.fields and "reporter_name" in viewing.fields
