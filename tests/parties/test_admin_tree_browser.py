"""Dragging the chain in the admin with its nodes expanded, in Debian's Chromium (Playwright)."""

from typing import Any

import pytest
from django.urls import reverse

from parties.models import Kind, Organization
from parties.services import chain_differences

from ..factories import UserFactory, node
from ..petitions.test_browser import OUTPUT, browser, sign_in  # noqa: F401  (browser is a fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def drag(page: Any, cut: Organization, target: Organization, where: str) -> None:
    """Drag ``cut`` by its handle onto ``target``'s row: its top third (before) or middle (child)."""
    handle = page.locator(f"tr:has(.tree-node[data-pk='{cut.pk}']) .drag-handle")
    row = page.locator(f"tr:has(.tree-node[data-pk='{target.pk}'])")
    row.scroll_into_view_if_needed()  # both in view: the page is scrolled down to them
    start = handle.bounding_box()
    page.mouse.move(start["x"] + start["width"] / 2, start["y"] + start["height"] / 2)
    page.mouse.down()
    box = row.bounding_box()
    y = box["y"] + (box["height"] / 6 if where == "before" else box["height"] / 2)
    page.mouse.move(box["x"] + 200, y, steps=8)
    with page.expect_navigation():  # the tree reloads after each move
        page.mouse.up()


def test_drag_with_the_tree_expanded_and_a_refusal_shown_where_one_looks(live_server: Any, browser: Any) -> None:  # noqa: F811
    UserFactory.create(username="root", is_superuser=True, is_staff=True)
    streets = [node(Kind.STREET, name=f"街道{i:02d}") for i in range(12)]
    communities = {s.pk: [node(Kind.COMMUNITY, s, name=f"{s.name}社区{j}") for j in range(3)] for s in streets}
    moving = communities[streets[-2].pk][0]
    target = communities[streets[-1].pk][1]
    base = live_server.url
    page = sign_in(browser, base, "root")
    page.goto(f"{base}{reverse('admin:parties_organization_changelist')}")
    page.get_by_role("link", name="展开").first.click()  # mptt's "expand tree" tool: every node open
    assert page.locator(f"tr:has(.tree-node[data-pk='{target.pk}'])").is_visible()

    # A community dragged, the tree expanded, before a community of the next street: moves there.
    drag(page, moving, target, "before")
    moving.refresh_from_db()
    assert moving.parent_id == streets[-1].pk
    assert chain_differences() == []

    # A community dropped among the streets is refused; the reason shows in the viewport, not only at the top.
    refused = communities[streets[-1].pk][2]
    drag(page, refused, streets[-1], "before")
    refused.refresh_from_db()
    assert refused.parent_id == streets[-1].pk
    # back where the user was, the dragged node in view and marked
    page.wait_for_selector("tr.tree-dragged")
    dragged = page.locator(f"tr:has(.tree-node[data-pk='{refused.pk}'])")
    assert "tree-dragged" in (dragged.get_attribute("class") or "")
    assert page.evaluate("window.scrollY") > 0
    row = dragged.bounding_box()
    assert 0 <= row["y"] <= page.viewport_size["height"]
    message = page.locator(".tree-toast .messagelist .error")
    assert message.is_visible()
    box, height = message.bounding_box(), page.viewport_size["height"]
    assert box["y"] >= 0 and box["y"] + box["height"] <= height, "the refusal is off screen"
    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT / "admin-tree-refused-move.png"))
