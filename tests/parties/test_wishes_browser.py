"""A Party member claims a micro-wish on a 360 px phone, in Debian's Chromium (Playwright)."""

from typing import Any

import pytest
from django.urls import reverse

from parties import wishes
from parties.models import Member, Wish, WishStatus

from ..conftest import World
from ..factories import UserFactory
from ..petitions.test_browser import OUTPUT, PHONE, browser, sign_in  # noqa: F401  (browser is a fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_member_claims_a_wish_on_a_phone(world: World, live_server: Any, browser: Any) -> None:  # noqa: F811
    member = UserFactory.create(username="member", role="worker")
    Member.objects.create(name="周建华", organization=world.branch, account=member)
    wish = wishes.wish_record(actor=world.worker, place=world.branch, title="帮独居老人换灯泡", resident_name="王阿姨")
    wishes.wish_publish(actor=world.official, wish_id=wish.pk)

    base = live_server.url
    page = sign_in(browser, base, "member", viewport=PHONE)
    # The home page says a wish is waiting, one tap from the board.
    page.locator("#wishes-panel [data-count=waiting] a").click()
    page.wait_for_url(f"{base}{reverse('parties:wishes')}")
    card = page.locator(f"#board [data-wish='{wish.pk}']")
    assert "帮独居老人换灯泡" in card.inner_text() and "王**" in card.inner_text()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the board scrolls sideways on a phone ({width} px)"
    with page.expect_navigation():
        card.locator("button[type=submit]").click()
    assert page.locator("#wish").get_attribute("data-status") == WishStatus.CLAIMED
    assert page.locator("#claimed-by").inner_text() == "周建华"
    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT / "member-claims-wish-360.png"), full_page=True)

    # Then says what was done, from the same page.
    page.locator("form[name=fulfil] textarea[name=fulfilment]").fill("已上门换好灯泡")
    with page.expect_navigation():
        page.locator("form[name=fulfil] button[type=submit]").click()
    assert Wish.objects.get(pk=wish.pk).status == WishStatus.FULFILLED
    assert page.locator("#fulfilment").inner_text() == "已上门换好灯泡"
