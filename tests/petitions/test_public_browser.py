"""The resident's side in Debian's Chromium at 360 px: the worker's service card, the public report
with a photo from the phone, the status page, and the satisfaction answer (Playwright, sync API)."""

import re
import uuid
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse

from petitions import services
from petitions.models import Channel, Petition, PetitionPhoto, Status

from ..conftest import World
from ..support.images import jpeg_with_gps
from .test_browser import OUTPUT, PHONE, browser, sign_in  # noqa: F401  (the browser fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def isolated(settings: Any, tmp_path: Path) -> None:
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path)}},
    }
    settings.CACHES = {"default": {**settings.CACHES["default"], "KEY_PREFIX": uuid.uuid4().hex}}
    settings.PUBLIC_FORM_MIN_SECONDS = 0


def watch_csp(page: Any, found: list[str]) -> None:
    page.on("console", lambda m: found.append(m.text) if "Content Security Policy" in m.text else None)


def test_a_resident_reports_from_the_card_and_follows_it_on_a_phone(
    world: World, live_server: Any, browser: Any  # noqa: F811
) -> None:
    base = live_server.url
    csp: list[str] = []

    # The worker opens the grid's card from the home page; it carries the QR code and the address.
    worker = sign_in(browser, base, "worker", viewport=PHONE)
    watch_csp(worker, csp)
    worker.locator(f"#service-cards a[data-grid='{world.grid.code}']").click()
    worker.wait_for_selector("#service-card")
    assert worker.locator("#card-qr svg").is_visible()
    public_url = worker.locator("#card-url").inner_text().strip()
    assert re.fullmatch(rf"{re.escape(base)}/r/[\w-]+/", public_url)

    # A resident scans it: no sign-in, a phone's screen.
    context = browser.new_context(viewport=PHONE, locale="zh-CN")
    context.set_default_timeout(15_000)
    resident = context.new_page()
    watch_csp(resident, csp)
    resident.goto(public_url)
    form = resident.locator("#public-form")
    assert resident.locator("#public-grid").inner_text() == world.grid.name
    assert form.locator("input[name=photo]").get_attribute("capture") == "environment"
    form.locator("select[name=category]").select_option(world.category.code)
    form.locator("textarea[name=description]").fill("7栋楼顶漏水，雨天家里墙面发霉。")
    form.locator("input[name=place]").fill("7栋顶楼")
    form.locator("input[name=phone]").fill("13912345678")
    form.locator("input[name=photo]").set_input_files(
        {"name": "IMG_2041.jpg", "mimeType": "image/jpeg", "buffer": jpeg_with_gps()}
    )
    a, b = map(int, re.findall(r"\d+", resident.locator("#question").inner_text()))
    form.locator("input[name=answer]").fill(str(a + b))
    honeypot = form.locator("input[name=website]").bounding_box()  # for bots: off the screen, for people
    assert honeypot is None or honeypot["x"] + honeypot["width"] <= 0
    assert resident.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    OUTPUT.mkdir(exist_ok=True)
    resident.screenshot(path=str(OUTPUT / "public-report-360.png"), full_page=True)
    with resident.expect_navigation():
        form.locator("button[type=submit]").click()

    # The number, and the private link to keep.
    assert re.fullmatch(rf"{re.escape(base)}/s/[\w-]+/", resident.url)
    petition = Petition.objects.get()
    assert resident.locator("#number").inner_text() == petition.number
    assert resident.locator("#public-link").inner_text().strip() == resident.url
    assert petition.channel == Channel.CARD and petition.grid == world.grid
    assert resident.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    resident.screenshot(path=str(OUTPUT / "public-status-360.png"), full_page=True)

    # The worker sees the resident's photo on the petition, as a thumbnail that opens the full photo.
    worker.goto(f"{base}{petition.get_absolute_url()}")
    thumb = worker.locator("#photos img").first
    thumb.wait_for()
    assert worker.locator("#photos li").first.get_attribute("data-kind") == PetitionPhoto.Kind.PROBLEM
    assert worker.evaluate("img => img.complete && img.naturalWidth > 0", thumb.element_handle())
    full = worker.locator("#photos a").first.get_attribute("href")
    assert worker.request.get(f"{base}{full}").headers["content-type"] == "image/jpeg"

    # The department resolves it; the resident sees the result and answers.
    services.petition_dispatch(actor=world.official, petition_id=petition.pk, department=world.housing)
    services.petition_accept(actor=world.dept, petition_id=petition.pk)
    services.petition_resolve(actor=world.dept, petition_id=petition.pk, result="已修补楼顶防水层")
    resident.reload()
    assert resident.locator("#result").inner_text() == "已修补楼顶防水层"
    survey = resident.locator("#satisfaction-form")
    survey.locator("input[name=solved][value=true]").check()
    survey.locator("input[name=satisfaction][value=very_satisfied]").check()
    with resident.expect_navigation():
        survey.locator("button[type=submit]").click()
    assert resident.locator("#thanks").is_visible()
    assert resident.locator("#public-status").get_attribute("data-status") == Status.CLOSED
    petition.refresh_from_db()
    assert petition.status == Status.CLOSED
    assert csp == [], csp
    assert reverse("public-status", args=["x"]).startswith("/s/")
