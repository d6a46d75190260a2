"""The service card and the public pages behind its QR code, through the Django test client.

A resident reports from the card's page without signing in and follows the report through a private
link; the pages name nobody (no other resident, no staff), limits answer 429, and a satisfaction
answer goes through the workflow's follow-up step.
"""

import re
import uuid
from pathlib import Path
from typing import Any

import pytest
import segno
from django.conf import settings as django_settings
from django.test import Client
from django.urls import reverse

from governance.models import User
from grids.models import GridAssignment
from parties.models import Kind, Member
from petitions import cards, services
from petitions.models import Channel, FollowUp, Petition, PetitionPhoto, PublicReport, ServiceCard, Status
from petitions.public import PUBLIC_USERNAME

from ..conftest import World
from ..factories import node
from ..support.images import MAKER, has_gps, jpeg_with_gps, upload
from .test_pages import login

pytestmark = pytest.mark.django_db

PHONE_A, PHONE_B = "13912345678", "13698765432"


@pytest.fixture(autouse=True)
def isolated(settings: Any, tmp_path: Path) -> None:
    """Photos in a temporary directory, the limits' counters under a prefix of this test's own, no wait."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path)}},
    }
    settings.CACHES = {"default": {**settings.CACHES["default"], "KEY_PREFIX": uuid.uuid4().hex}}
    settings.PUBLIC_FORM_MIN_SECONDS = 0


def card_url(world: World) -> str:
    return reverse("public-report", args=[cards.card_for(world.grid).token])


def fill(client: Client, url: str, **fields: Any) -> dict[str, Any]:
    """What a resident sends: the form's own challenge, answered, and ``fields``."""
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    a, b = map(int, re.search(r'id="question">(\d+) \+ (\d+) =', html).groups())  # type: ignore[union-attr]
    challenge = re.search(r'name="challenge" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]
    return {"challenge": challenge, "answer": str(a + b), "website": "", "place": "", "phone": "", **fields}


def report(client: Client, world: World, description: str, **fields: Any) -> Any:
    url = card_url(world)
    data = fill(client, url, category=world.category.code, description=description, **fields)
    return client.post(url, data)


def status_token(response: Any) -> str:
    assert response.status_code == 302, response.content.decode()[:2000]
    match = re.fullmatch(r"/s/([\w-]+)/", response["Location"])
    assert match
    return match.group(1)


# ---------------------------------------------------------------------------------------- the card


def test_the_card_shows_the_grid_its_people_and_a_qr_code_of_the_public_page(client: Client, world: World) -> None:
    world.worker.first_name = "李网格"
    world.worker.save()
    GridAssignment.objects.create(
        grid=world.grid, user=world.worker, role=GridAssignment.Role.FULL_TIME, work_phone="027-88886666"
    )
    group = node(Kind.BUILDING_GROUP, world.branch, name="3栋党小组")
    household = node(Kind.MEMBER_HOUSEHOLD, group, name="3栋党员中心户")
    household.secretary = Member.objects.create(name="王红梅", organization=household)
    household.save()

    page = login(client, world.worker).get(reverse("petitions:service-card", args=[world.grid.code]))
    assert page.status_code == 200
    html = page.content.decode()
    for shown in (world.grid.name, world.branch.name, "李网格", "027-88886666", "3栋党员中心户", "王红梅"):
        assert shown in html
    card = ServiceCard.objects.get(grid=world.grid)
    url = f"http://testserver/r/{card.token}/"
    # The token is random, not the grid's id or code, and long enough not to be guessed.
    assert len(card.token) >= 16 and str(world.grid.pk) != card.token and world.grid.code not in card.token
    # The code on the page is segno's code of exactly that address.
    expected = segno.make(url, **cards.QR_OPTIONS)
    assert expected.svg_inline(**cards.QR_SVG_OPTIONS) in html and url in html
    assert expected.designator and expected.mode == "byte"
    # Printed on A6.
    css = (Path(django_settings.BASE_DIR) / "static/css/card.css").read_text()
    assert "size: A6" in css and "card.css" in html
    # The same card every time (the printed code keeps working).
    official = login(Client(), world.official)
    assert official.get(reverse("petitions:service-card", args=[world.grid.code])).status_code == 200
    assert ServiceCard.objects.get(grid=world.grid).token == card.token
    # The home page links to it.
    assert reverse("petitions:service-card", args=[world.grid.code]) in client.get(reverse("home")).content.decode()


def test_the_card_of_a_grid_outside_the_scope_is_a_404(world: World) -> None:
    path = reverse("petitions:service-card", args=[world.grid.code])
    assert login(Client(), world.foreign_worker).get(path).status_code == 404
    assert login(Client(), world.dept).get(path).status_code == 404
    assert ServiceCard.objects.count() == 0


def test_a_new_token_retires_the_printed_code(client: Client, world: World) -> None:
    old = card_url(world)
    assert client.get(old).status_code == 200
    card = ServiceCard.objects.get()
    card.token = "x" * 20
    card.save()
    assert client.get(old).status_code == 404
    assert client.get("/r/not-a-card-token/").status_code == 404
    assert client.get("/s/not-a-status-token/").status_code == 404


# ------------------------------------------------------------------------------------ the report page


def test_a_report_arrives_on_the_grid_as_a_card_petition_with_its_photo(client: Client, world: World) -> None:
    form_page = client.get(card_url(world)).content.decode()
    assert world.grid.name in form_page and 'capture="environment"' in form_page
    response = report(
        client, world, "5栋门口的路灯坏了，晚上很黑。", place="5栋门口", phone=PHONE_A,
        photo=upload(jpeg_with_gps(), "IMG_1.jpg"),
    )
    token = status_token(response)
    petition = Petition.objects.get()
    assert petition.grid == world.grid and petition.channel == Channel.CARD and petition.place == "5栋门口"
    assert petition.status == Status.REGISTERED and petition.reporter_phone == PHONE_A
    assert petition.registered_by.username == PUBLIC_USERNAME and petition.title.startswith("5栋门口的路灯坏了")
    assert not petition.registered_by.has_usable_password()
    photo = petition.photos.get()
    assert photo.kind == PetitionPhoto.Kind.PROBLEM
    data = photo.image.read()
    photo.image.close()
    assert not has_gps(data) and MAKER.encode() not in data
    # Only a hash of the private link is kept.
    stored = PublicReport.objects.get(petition=petition)
    assert stored.token_hash != token and token not in stored.token_hash
    # The status page says the number once, with the link to keep.
    page = client.get(f"/s/{token}/").content.decode()
    assert petition.number in page and 'id="public-new"' in page and f"/s/{token}/" in page
    assert 'id="public-new"' not in client.get(f"/s/{token}/").content.decode()
    # The worker sees it in their grid's list, with the channel.
    assert login(Client(), world.worker).get(petition.get_absolute_url()).status_code == 200


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"answer": "999"}, "answer"),
        ({"challenge": "forged"}, "answer"),
        ({"phone": "12345"}, "phone"),
        ({"description": ""}, "description"),
        ({"description": "长" * 1001}, "description"),
    ],
)
def test_bad_input_is_refused_naming_the_field_and_nothing_is_written(
    client: Client, world: World, change: dict[str, str], field: str
) -> None:
    url = card_url(world)
    data = {**fill(client, url, category=world.category.code, description="楼道堆放杂物"), **change}
    response = client.post(url, data)
    assert response.status_code == 400
    assert f'data-field="{field}"' in response.content.decode()
    assert Petition.objects.count() == 0
    # A fresh question is asked; what was typed stays.
    assert 'name="answer"' in response.content.decode() and data["challenge"] not in response.content.decode()


def test_the_honeypot_the_replay_and_the_too_fast_are_refused(client: Client, world: World, settings: Any) -> None:
    url = card_url(world)
    data = fill(client, url, category=world.category.code, description="楼道堆放杂物", website="http://spam")
    assert client.post(url, data).status_code == 400
    data = fill(client, url, category=world.category.code, description="楼道堆放杂物")
    assert client.post(url, data).status_code == 302
    assert client.post(url, data).status_code == 400  # the same solved question, sent again
    settings.PUBLIC_FORM_MIN_SECONDS = 60
    data = fill(client, url, category=world.category.code, description="楼道堆放杂物又一次")
    assert client.post(url, data).status_code == 400
    assert Petition.objects.count() == 1


def test_too_many_reports_from_one_address_answer_429(client: Client, world: World, settings: Any) -> None:
    settings.PUBLIC_REPORTS_PER_ADDRESS = "2/h"
    for n in range(2):
        assert report(client, world, f"第{n}次反映：垃圾未清运").status_code == 302
    refused = report(client, world, "第三次反映：垃圾未清运")
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert 'id="limited"' in refused.content.decode()
    assert Petition.objects.count() == 2
    # Another address may still report.
    assert report(Client(REMOTE_ADDR="10.1.2.3"), world, "另一位居民：垃圾未清运").status_code == 302


def test_too_many_reports_to_one_grid_answer_429(world: World, settings: Any) -> None:
    settings.PUBLIC_REPORTS_PER_GRID = "3/h"
    # Garbage from many addresses does not use up the grid's allowance (it never passes the form).
    for n in range(5):
        assert report(Client(REMOTE_ADDR=f"10.0.1.{n + 1}"), world, "垃圾", answer="0").status_code == 400
    for n in range(3):
        assert report(Client(REMOTE_ADDR=f"10.0.0.{n + 1}"), world, f"居民{n}：井盖松动").status_code == 302
    assert report(Client(REMOTE_ADDR="10.0.0.9"), world, "居民9：井盖松动").status_code == 429
    assert Petition.objects.count() == 3


# ------------------------------------------------------------------------------------ the status page


def _resolve(world: World, petition: Petition, result: str) -> None:
    services.petition_dispatch(actor=world.official, petition_id=petition.pk, department=world.housing,
                               note="内部备注：请联系物业经理赵强")
    services.petition_accept(actor=world.dept, petition_id=petition.pk, note="已派人")
    services.petition_resolve(actor=world.dept, petition_id=petition.pk, result=result)


def test_the_status_page_shows_stages_and_result_and_nobody(client: Client, world: World) -> None:
    world.worker.first_name, world.official.first_name, world.dept.first_name = "李网格", "陈街道", "周部门"
    for user in (world.worker, world.official, world.dept):
        user.save()
    token_a = status_token(report(client, world, "A：2栋电梯经常停运", phone=PHONE_A))
    token_b = status_token(report(Client(REMOTE_ADDR="10.9.9.9"), world, "B：小区门口积水严重", phone=PHONE_B))
    a, b = Petition.objects.order_by("id")
    worker_petition = world.petition(reporter_name="张桂英", reporter_phone="13812345678")
    _resolve(world, a, "已更换电梯控制板")

    page = client.get(f"/s/{token_a}/").content.decode()
    assert a.number in page and "已更换电梯控制板" in page and world.housing.name in page
    assert re.findall(r'<li data-to="(\w+)"', page) == ["registered", "dispatched", "accepted", "resolved"]
    hidden = [
        b.number, "小区门口积水严重", PHONE_B, PHONE_A, PHONE_A[-4:], worker_petition.number, "张桂英", "13812345678",
        "李网格", "陈街道", "周部门", "worker", "official", "赵强", "已派人", PUBLIC_USERNAME,
    ]
    assert [text for text in hidden if text in page] == []
    # B's page says nothing of A either, and no result before there is one.
    page_b = client.get(f"/s/{token_b}/").content.decode()
    assert b.number in page_b and a.number not in page_b and "已更换电梯控制板" not in page_b
    assert 'id="satisfaction"' not in page_b
    # The report form names only the grid.
    form_page = client.get(card_url(world)).content.decode()
    assert [text for text in ("李网格", PHONE_A, a.number, "电梯") if text in form_page] == []


def test_a_satisfaction_answer_is_the_follow_up_through_the_workflow(client: Client, world: World) -> None:
    token = status_token(report(client, world, "路灯不亮"))
    petition = Petition.objects.get()
    _resolve(world, petition, "已修复路灯")
    page = client.get(f"/s/{token}/").content.decode()
    assert 'id="satisfaction-form"' in page
    bad = client.post(f"/s/{token}/", {"solved": "true"})
    assert bad.status_code == 400 and 'data-field="satisfaction"' in bad.content.decode()
    assert client.post(f"/s/{token}/", {"solved": "true", "satisfaction": "satisfied"}).status_code == 302
    petition.refresh_from_db()
    assert petition.status == Status.CLOSED
    follow_up = FollowUp.objects.get()
    assert follow_up.by.username == PUBLIC_USERNAME and follow_up.reached and follow_up.satisfaction == "satisfied"
    assert petition.events.filter(action="follow_up", actor__username=PUBLIC_USERNAME).exists()
    page = client.get(f"/s/{token}/").content.decode()
    assert 'id="thanks"' in page and 'id="satisfaction-form"' not in page
    # Once answered, a second answer changes nothing.
    client.post(f"/s/{token}/", {"solved": "false", "satisfaction": "very_dissatisfied"})
    assert FollowUp.objects.count() == 1


def test_dissatisfied_reopens_it_and_a_grid_call_first_means_thanks(client: Client, world: World) -> None:
    token = status_token(report(client, world, "污水外溢"))
    petition = Petition.objects.get()
    _resolve(world, petition, "已疏通")
    client.post(f"/s/{token}/", {"solved": "false", "satisfaction": "dissatisfied"})
    petition.refresh_from_db()
    assert petition.status == Status.DISPATCHED and petition.rehandle_count == 1  # 重办, by the workflow's rule
    services.petition_accept(actor=world.dept, petition_id=petition.pk)
    services.petition_resolve(actor=world.dept, petition_id=petition.pk, result="已更换管道")
    # The grid calls back before the resident answers: the page thanks instead of asking.
    services.petition_follow_up(actor=world.worker, petition_id=petition.pk, reached=True, solved=True,
                                satisfaction="very_satisfied")
    page = client.get(f"/s/{token}/").content.decode()
    assert 'id="thanks"' in page and 'id="satisfaction-form"' not in page and "已更换管道" in page
    assert User.objects.filter(username=PUBLIC_USERNAME).count() == 1


def test_with_the_cache_away_the_public_page_fails_open(
    client: Client, world: World, settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """No Redis (nothing listens on the port): the limits let the resident through and say so in the log."""
    url = card_url(world)
    data = fill(client, url, category=world.category.code, description="路面塌陷，车辆绕行")
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_timeout": 0.3, "socket_connect_timeout": 0.3},
        }
    }
    settings.PUBLIC_REPORTS_PER_ADDRESS = "0/h"
    assert status_token(client.post(url, data))
    assert Petition.objects.filter(channel=Channel.CARD).count() == 1
    assert "rate limit public-address unavailable" in caplog.text
