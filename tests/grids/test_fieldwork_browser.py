"""A worker's field work on a phone (360 px) in Debian's Chromium: a patrol that finds a problem goes
on to the petition form and the petition says where it came from; a late household leaves the home
page's queue once visited."""

import datetime as dt
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from grids.models import HouseholdKeyPopulation, KeyPopulation
from petitions.models import Channel, Petition

from ..conftest import World
from ..factories import BuildingFactory, HouseholdFactory, ResidentFactory
from ..petitions.test_browser import OUTPUT, PHONE, browser, sign_in  # noqa: F401  (the browser fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_patrol_to_petition_and_the_late_visit_queue_on_a_phone(world: World, live_server: Any, browser: Any) -> None:  # noqa: F811
    base = live_server.url
    household = HouseholdFactory.create(building=BuildingFactory.create(grid=world.grid, name="8栋"), room="101")
    ResidentFactory.create(household=household, name="王秀英")
    elderly = KeyPopulation.objects.create(code="elderly-alone", name="独居老人", visit_interval_days=30)
    HouseholdKeyPopulation.objects.create(
        household=household, key_population=elderly, since=timezone.now() - dt.timedelta(days=45)
    )

    page = sign_in(browser, base, "worker", viewport=PHONE)
    assert page.locator("#fieldwork-panel [data-count=late-visits]").get_attribute("data-late") == "1"

    # A patrol that found a problem: straight on to the petition form, the findings filled in.
    page.goto(f"{base}{reverse('grids:patrol-record')}")
    form = page.locator("#patrol-form")
    assert form.locator("select[name=grid]").input_value() == world.grid.code
    form.locator("textarea[name=route]").fill("3栋—5栋楼道、东门消防通道")
    form.locator("textarea[name=findings]").fill("东门消防通道被三辆私家车占用")
    form.locator("input[name=problem_found]").check()
    form.locator("input[name=problem_place]").fill("小区东门消防通道")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT / "worker-patrol-360.png"), full_page=True)
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    register = page.locator("#register-form")
    assert register.locator("textarea[name=description]").input_value() == "东门消防通道被三辆私家车占用"
    register.locator("select[name=category]").select_option(world.category.code)
    with page.expect_navigation():
        register.locator("button[type=submit]").click()
    petition = Petition.objects.get()
    assert petition.channel == Channel.PATROL and petition.place == "小区东门消防通道"
    assert page.locator("#found-on-patrol").count() == 1
    page.locator("#found-on-patrol a").click()
    page.wait_for_selector("#patrol")
    assert petition.number in page.locator("#patrol-petitions").inner_text()

    # The late household, its name masked, then visited: the queue empties.
    page.goto(f"{base}{reverse('grids:late-visits')}")
    row = page.locator(f"#late-households li[data-household='{household.pk}']")
    assert "王**" in row.inner_text() and "王秀英" not in page.content()
    page.screenshot(path=str(OUTPUT / "worker-late-visits-360.png"), full_page=True)
    row.get_by_role("link").click()
    visit = page.locator("#visit-form")
    visit.wait_for()
    assert visit.locator("select[name=key_population]").input_value() == "elderly-alone"
    visit.locator("textarea[name=learned]").fill("老人身体尚可，腿脚不便")
    with page.expect_navigation():
        visit.locator("button[type=submit]").click()
    assert page.locator("#learned").inner_text() == "老人身体尚可，腿脚不便"
    page.goto(f"{base}{reverse('home')}")
    assert page.locator("#fieldwork-panel [data-count=late-visits]").get_attribute("data-late") == "0"
