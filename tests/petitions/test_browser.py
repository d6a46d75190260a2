"""The request loop walked through the real pages in Debian's Chromium (Playwright, sync API).

A worker on a phone (360×740) logs a petition, a street official dispatches it, the department
accepts and resolves it, the worker calls the resident back, and the timeline ends in "closed".
Elements are found by name, role and URL, not by translated text (the zh-hans catalogue is written
separately); texts are asserted where they are data typed in, or a label computed with gettext.
"""

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from petitions.models import Status

from ..conftest import World
from ..factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
PHONE = {"width": 360, "height": 740}
OUTPUT = Path(settings.BASE_DIR) / "test-output"


@pytest.fixture
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"the browser tests drive Debian's Chromium at {CHROMIUM}; install the chromium package")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop in this thread; the ORM calls the test makes between
    # steps are ordinary synchronous ones, so let Django allow them.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


# What the browser reports refusing under the Content Security Policy, on every page any test opens.
CSP_VIOLATIONS: list[str] = []


def sign_in(browser: Any, base: str, username: str, viewport: dict[str, int] | None = None) -> Any:
    context = browser.new_context(viewport=viewport or {"width": 1280, "height": 900}, locale="zh-CN")
    context.set_default_timeout(15_000)
    page = context.new_page()
    # Chromium reports each refusal on the console ("Refused to ... Content Security Policy ...").
    page.on(
        "console",
        lambda message: CSP_VIOLATIONS.append(f"{page.url}: {message.text}")
        if "Content Security Policy" in message.text
        else None,
    )
    page.goto(f"{base}{reverse('login')}")
    page.locator("main input[name=username]").fill(username)
    page.locator("main input[name=password]").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(f"{base}{reverse('home')}")
    return page


def open_petition(page: Any, base: str, title: str) -> None:
    page.goto(f"{base}{reverse('petitions:list')}")
    page.get_by_role("link", name=title).click()
    page.wait_for_selector("#petition")


def submit_action(page: Any, action: str) -> None:
    with page.expect_navigation():
        page.locator(f"form[name='{action}'] button[type=submit]").click()


def status_of(page: Any) -> str:
    return str(page.locator("#petition").get_attribute("data-status"))


def test_the_request_loop_in_the_browser(world: World, live_server: Any, browser: Any) -> None:
    base = live_server.url
    title = "3栋楼道灯不亮"

    # The worker, on a phone, logs the resident's request.
    worker = sign_in(browser, base, "worker", viewport=PHONE)
    assert worker.evaluate("document.documentElement.lang") == "zh-hans"
    worker.locator(f"main a[href='{reverse('petitions:register')}']").click()
    worker.wait_for_url(f"{base}{reverse('petitions:register')}")
    form = worker.locator("#register-form")
    assert form.locator("select[name=grid]").input_value() == world.grid.code  # their own grid, pre-selected
    form.locator("select[name=category]").select_option(world.category.code)
    form.locator("input[name=title]").fill(title)
    form.locator("textarea[name=description]").fill("3栋二单元楼道灯坏了一周，老人夜里上下楼不安全。")
    form.locator("input[name=reporter_name]").fill("张桂英")
    form.locator("input[name=reporter_phone]").fill("13812345678")
    # Nothing on the form is wider than the phone.
    assert worker.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    OUTPUT.mkdir(exist_ok=True)
    worker.screenshot(path=str(OUTPUT / "worker-register-360.png"), full_page=True)
    with worker.expect_navigation():
        form.locator("button[type=submit]").click()
    assert "/petitions/" in worker.url and worker.locator("h1").inner_text() == title
    number = worker.locator("#number").inner_text()
    assert number and number in worker.locator(".message.success").inner_text()
    assert status_of(worker) == Status.REGISTERED
    assert worker.locator("#phone").inner_text() == "13812345678"  # the worker's scope covers it
    detail_url = worker.url
    worker.goto(f"{base}{reverse('petitions:list')}")
    assert worker.locator("#petitions li").first.get_attribute("data-number") == number
    assert "138****5678" in worker.locator("#petitions li").first.inner_text()
    worker.screenshot(path=str(OUTPUT / "worker-list-360.png"), full_page=True)

    # The street official dispatches it to the category's department (pre-selected).
    official = sign_in(browser, base, "official")
    open_petition(official, base, title)
    assert official.locator("form[name=dispatch] select[name=department]").input_value() == "housing"
    official.locator("form[name=dispatch] textarea[name=note]").fill("请住建局尽快处理")
    submit_action(official, "dispatch")
    assert status_of(official) == Status.DISPATCHED
    assert official.locator("form[name=dispatch]").count() == 0

    # The department reports in and records the result; it sees the resident's phone masked.
    dept = sign_in(browser, base, "dept")
    open_petition(dept, base, title)
    assert dept.locator("#phone").inner_text() == "138****5678"
    submit_action(dept, "accept")
    assert status_of(dept) == Status.ACCEPTED
    dept.locator("form[name=resolve] textarea[name=result]").fill("已更换楼道灯具")
    submit_action(dept, "resolve")
    assert status_of(dept) == Status.RESOLVED

    # The worker calls the resident back: reached, solved, satisfied.
    worker.goto(detail_url)
    follow_up = worker.locator("form[name='follow-up']")
    follow_up.locator("input[name=reached][value=true]").check()
    follow_up.locator("input[name=solved][value=true]").check()
    follow_up.locator("input[name=satisfaction][value=satisfied]").check()
    submit_action(worker, "follow-up")

    assert status_of(worker) == Status.CLOSED
    last = worker.locator("#timeline li").last
    assert last.get_attribute("data-to") == Status.CLOSED
    with translation.override("zh-hans"):
        closed = str(Status.CLOSED.label)  # 已办结 once the catalogue has it
    assert last.locator("[data-status=closed]").inner_text() == closed
    assert "已更换楼道灯具" in worker.locator("#timeline").inner_text()
    assert [li.get_attribute("data-action") for li in worker.locator("#timeline li").all()] == [
        "register", "dispatch", "accept", "resolve", "follow_up",
    ]
    worker.screenshot(path=str(OUTPUT / "worker-detail-closed-360.png"), full_page=True)

    # Every page of the journey, and the dashboard, the API docs and the admin, ran under the
    # Content Security Policy without a single refusal: no inline script or style anywhere.
    worker.goto(f"{base}{reverse('petitions:dashboard')}")
    worker.wait_for_selector("main")
    with worker.expect_navigation():
        worker.locator("#language-form select[name=language]").select_option("en")
    assert worker.evaluate("document.documentElement.lang") == "en"  # the switch's script ran (from a file)
    admin = sign_in(browser, base, "admin")
    for url in (
        "/admin/", "/admin/grids/resident/", "/admin/grids/resident/add/", "/admin/parties/organization/",
        "/admin/petitions/petition/", "/api/docs/",
    ):
        admin.goto(f"{base}{url}")
        admin.wait_for_load_state("load")
    assert CSP_VIOLATIONS == [], "\n".join(v[:260] for v in CSP_VIOLATIONS)

def test_the_dashboard_draws_its_charts_from_our_own_files(world: World, live_server: Any, browser: Any) -> None:
    """The street official's dashboard: ECharts (vendored) draws the charts, a header click sorts a
    table, and nothing is fetched from another host."""
    world.petition(stage="resolved", result="已修复")
    world.petition(stage="dispatched")
    base = live_server.url
    page = sign_in(browser, base, "official")
    hosts: set[str] = set()
    page.on("request", lambda request: hosts.add(request.url.split("/")[2]))
    page.goto(f"{base}{reverse('petitions:dashboard')}")
    for chart in ("chart-volume", "chart-rates", "chart-status"):
        page.wait_for_selector(f"#{chart} svg")
    assert page.locator("#chart-volume svg path").count() > 0
    assert hosts == {base.split("/")[2]}
    # Sorting the weekly table by "registered" puts the busiest week first.
    page.locator("#weekly thead button.sort[data-col='1']").click()
    first = page.locator("#weekly tbody tr").first.locator("td").nth(1).inner_text()
    assert first == "2"
    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT / "dashboard.png"), full_page=True)
