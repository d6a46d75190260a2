"""The community records a deliberation meeting and its resolution on a 360 px phone (Playwright, Chromium)."""

import datetime as dt
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from governance.models import User
from parties import deliberations
from parties.models import Deliberation, DeliberationStatus, Member

from ..conftest import World
from ..factories import UserFactory
from ..petitions.test_browser import OUTPUT, PHONE, browser, sign_in  # noqa: F401  (browser is a fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_community_records_the_meeting_and_the_resolution_on_a_phone(
    world: World, live_server: Any, browser: Any  # noqa: F811
) -> None:
    committee = UserFactory.create(username="committee", role=User.Role.WORKER, scope_node=world.community)
    Member.objects.create(name="周建华", organization=world.branch)
    d = deliberations.deliberation_propose(
        actor=committee, community=world.community, title="小区增设电动车充电棚", proposer_name="王建国"
    )
    deliberations.deliberation_accept(actor=committee, deliberation_id=d.pk)

    base = live_server.url
    page = sign_in(browser, base, "committee", viewport=PHONE)
    page.locator("#deliberations-panel [data-count=discuss] a").click()
    page.wait_for_url(f"{base}{reverse('deliberations:list')}")
    with page.expect_navigation():
        page.locator(f"[data-deliberation='{d.pk}'] a").click()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the matter's page scrolls sideways on a phone ({width} px)"

    meeting = page.locator("form[name=discuss]")
    meeting.locator("input[name=meeting_on]").fill(timezone.localdate().isoformat())
    meeting.locator("input[name=meeting_place]").fill("社区居民议事厅")
    meeting.locator("input[name=attendees]").fill("20")
    meeting.locator("textarea[name=minutes]").fill("多数居民赞成在东门空地建充电棚。")
    meeting.get_by_label("周建华").check()
    with page.expect_navigation():
        meeting.locator("button[type=submit]").click()
    assert page.locator("#deliberation").get_attribute("data-status") == DeliberationStatus.DISCUSSED
    assert page.locator("#members").inner_text() == "周建华"

    # A tally with more votes than people present is refused next to the field.
    resolution = page.locator("form[name=decide]")
    resolution.locator("textarea[name=resolution]").fill("在东门空地建设充电棚一处。")
    for field, votes in (("votes_for", "18"), ("votes_against", "2"), ("votes_abstain", "1")):
        resolution.locator(f"input[name={field}]").fill(votes)
    resolution.locator("input[name=responsible]").fill("社区居委会、物业公司")
    resolution.locator("input[name=deadline]").fill((timezone.localdate() + dt.timedelta(days=30)).isoformat())
    with page.expect_navigation():
        resolution.locator("button[type=submit]").click()
    assert "20 人" in page.locator("form[name=decide] [data-field=votes_for]").inner_text()
    page.locator("form[name=decide] input[name=votes_abstain]").fill("0")
    with page.expect_navigation():
        page.locator("form[name=decide] button[type=submit]").click()
    assert Deliberation.objects.get(pk=d.pk).status == DeliberationStatus.DECIDED
    assert "赞成 18 票" in page.locator("#tally").inner_text()
    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT / "committee-records-resolution-360.png"), full_page=True)
