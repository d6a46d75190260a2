"""Every signed-in user lands on a home page that shows their scope, in Chinese; English on request."""

import pytest
from django.test import Client
from django.urls import reverse

from ..conftest import World


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("who", "scope_text"),
    [
        ("worker", "交通街道 / 磷肥厂社区 / 磷肥厂社区第一网格党支部"),
        ("official", "交通街道"),
        ("dept", "区住房和城乡建设局"),
        ("admin", "全区"),
    ],
)
def test_home_shows_the_scope_in_chinese(world: World, client: Client, who: str, scope_text: str) -> None:
    client.force_login(getattr(world, who))
    response = client.get(reverse("home"))
    html = response.content.decode()
    assert response.status_code == 200
    assert 'lang="zh-hans"' in html
    assert "您的管辖范围" in html
    assert scope_text in html


@pytest.mark.django_db
def test_language_switch_to_english_and_back(world: World, client: Client) -> None:
    client.force_login(world.official)
    response = client.post(reverse("set_language"), {"language": "en", "next": "/"}, follow=True)
    html = response.content.decode()
    assert 'lang="en"' in html and "Your scope" in html and "Log a petition" in html
    response = client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"}, follow=True)
    assert "登记诉求" in response.content.decode()


@pytest.mark.django_db
def test_anonymous_visitor_is_sent_to_the_chinese_sign_in_page(client: Client) -> None:
    response = client.get(reverse("home"), follow=True)
    html = response.content.decode()
    assert response.redirect_chain[-1][0].startswith(reverse("login"))
    assert "登录" in html and "用户名" in html and "密码" in html


def test_no_page_asset_comes_from_a_cdn() -> None:
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "templates"
    for template in root.rglob("*.html"):
        text = template.read_text()
        assert "//cdn" not in text and "https://" not in text, template


@pytest.mark.django_db
def test_an_english_browser_still_gets_chinese_until_the_user_switches(world: World, client: Client) -> None:
    client.force_login(world.worker)
    html = client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert 'lang="zh-hans"' in html and "您的管辖范围" in html
    admin_html = Client()
    admin_html.force_login(world.admin)
    assert "网格化基层治理" in admin_html.get("/admin/", HTTP_ACCEPT_LANGUAGE="en-US").content.decode()
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert "Your scope" in client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()


@pytest.mark.django_db
def test_api_clients_may_ask_for_english_messages(client: Client) -> None:
    zh = client.post("/api/v1/auth/token/", {"username": "nobody", "password": "x"}, content_type="application/json")
    en = client.post(
        "/api/v1/auth/token/",
        {"username": "nobody", "password": "x"},
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert zh.status_code == en.status_code == 400
    assert "用户名或密码不正确" in zh.content.decode()
    assert "Unable to sign in" in en.content.decode()
