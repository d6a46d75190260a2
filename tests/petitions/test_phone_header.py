"""On a 360 px phone the header is one line with a menu, and the worker's queue is one tap from home."""

from typing import Any

import pytest
from django.urls import reverse

from ..conftest import World
from .test_browser import OUTPUT, PHONE, browser, sign_in  # noqa: F401  (the fixture, shared)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_header_takes_one_line_on_a_phone_and_the_menu_opens(
    world: World, live_server: Any, browser: Any  # noqa: F811
) -> None:
    returned = world.petition("resolved")
    base = live_server.url
    page = sign_in(browser, base, "worker", viewport=PHONE)
    header = page.locator("header").bounding_box()
    assert header is not None and header["height"] <= 64, header
    links = page.locator(f"#site-menu a[href='{reverse('petitions:dashboard')}']")
    assert not links.is_visible()  # folded away until asked for
    page.locator("#site-menu summary").click()
    assert links.is_visible()
    box = page.locator("#site-menu > ul").bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]  # on the screen
    page.screenshot(path=str(OUTPUT / "header-menu-open-360.png"))
    with page.expect_navigation():
        links.click()
    assert page.url.endswith(reverse("petitions:dashboard"))

    # Home: the worker's queue, one tap from the count to the petitions in it.
    page.goto(f"{base}{reverse('home')}")
    follow_up = page.locator("#queues a[data-queue=to_follow_up]")
    assert follow_up.locator(".count").inner_text() == "1"
    with page.expect_navigation():
        follow_up.click()
    assert [li.get_attribute("data-number") for li in page.locator("#petitions li").all()] == [returned.number]

    # A wide screen shows the links inline, with no menu button.
    wide = sign_in(browser, base, "official")
    assert wide.locator(f"#site-menu a[href='{reverse('petitions:list')}']").is_visible()
    assert not wide.locator("#site-menu summary").is_visible()


def test_the_phone_fills_the_point_and_the_grid_holding_it(
    world: World, live_server: Any, browser: Any  # noqa: F811
) -> None:
    """"Use my position": the browser's point (WGS-84) fills the form and picks the grid whose boundary holds it."""
    world.other_grid_same_street.boundary = {
        "type": "Polygon", "coordinates": [[[126.0, 45.0], [126.1, 45.0], [126.1, 45.1], [126.0, 45.1], [126.0, 45.0]]],
    }
    world.other_grid_same_street.save()
    base = live_server.url
    page = sign_in(browser, base, "official", viewport=PHONE)
    page.context.grant_permissions(["geolocation"])
    page.context.set_geolocation({"latitude": 45.05, "longitude": 126.05})
    page.goto(f"{base}{reverse('petitions:register')}")
    page.locator("#locate").click()
    page.wait_for_function(
        "code => document.getElementById('id_grid').value === code", arg=world.other_grid_same_street.code
    )
    assert page.locator("#id_latitude").input_value() == "45.050000"
    assert page.locator("#id_longitude").input_value() == "126.050000"
    assert page.locator("#id_coordinate_system").input_value() == "wgs84"
    assert world.other_grid_same_street.name in page.locator("#locate-status").inner_text()
