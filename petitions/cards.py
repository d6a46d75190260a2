"""The grid's 网格连心服务卡: a printable A6 page with the grid, its Party branch, its staff's names and
work phones, the Party member central households (党员中心户) under it, and a QR code to the grid's
public report page (``petitions.public``). Shown to staff whose scope covers the grid.
"""

from typing import Any

import segno
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.safestring import mark_safe

from governance.access import get_visible_or_404, restrict
from governance.home import register_panel
from grids.models import Grid, GridAssignment
from parties.models import HOUSEHOLD_KINDS, Organization

from . import workflow
from .models import ServiceCard

# The staff printed on a card, in this order (the leader first); instructors are not the first call.
CARD_ROLES = (
    GridAssignment.Role.LEADER,
    GridAssignment.Role.FULL_TIME,
    GridAssignment.Role.PROFESSIONAL,
    GridAssignment.Role.PART_TIME,
)
CARD_HOUSEHOLDS_SHOWN = 6
PANEL_GRIDS_SHOWN = 12
# The QR code: error correction M survives a worn, creased card; the module size fits A6.
QR_OPTIONS: dict[str, Any] = {"error": "m", "micro": False}
QR_SVG_OPTIONS: dict[str, Any] = {"scale": 4, "border": 2, "omitsize": True, "svgclass": "qr"}


def card_for(grid: Grid) -> ServiceCard:
    """The grid's card, made with a fresh random token the first time it is asked for."""
    card, _created = ServiceCard.objects.get_or_create(grid=grid)
    return card


def public_url(request: HttpRequest, card: ServiceCard) -> str:
    """The public report page's address, as printed: ``WANGGE_PUBLIC_BASE_URL`` when the residents
    reach the site by another name than the staff do, else the address of this request."""
    return absolute(request, reverse("public-report", args=[card.token]))


def absolute(request: HttpRequest, path: str) -> str:
    """``path`` as residents reach it: under ``PUBLIC_BASE_URL`` when set, else this request's address."""
    base = settings.PUBLIC_BASE_URL.rstrip("/")
    return f"{base}{path}" if base else request.build_absolute_uri(path)


def qr_svg(url: str) -> str:
    """The QR code for ``url`` as inline SVG (segno)."""
    return str(segno.make(url, **QR_OPTIONS).svg_inline(**QR_SVG_OPTIONS))


def card_context(grid: Grid, url: str) -> dict[str, Any]:
    staff = sorted(
        (a for a in GridAssignment.objects.filter(grid=grid, role__in=CARD_ROLES).select_related("user")),
        key=lambda a: (CARD_ROLES.index(a.role), a.pk),  # type: ignore[arg-type]
    )
    households = (
        Organization.objects.filter(
            tree_id=grid.branch.tree_id, lft__gt=grid.branch.lft, rght__lt=grid.branch.rght,
            kind__in=HOUSEHOLD_KINDS,
        )
        .select_related("parent", "secretary")
        .order_by("lft")[:CARD_HOUSEHOLDS_SHOWN]
    )
    return {
        "grid": grid,
        "branch": grid.branch,
        "community": grid.branch.parent,
        "staff": [
            {"role": a.get_role_display(), "name": a.user.get_full_name() or a.user.username, "phone": a.work_phone}
            for a in staff
        ],
        "households": list(households),
        "url": url,
        "qr": mark_safe(qr_svg(url)),
    }


@login_required
def service_card(request: HttpRequest, code: str) -> HttpResponse:
    """The printable card of a grid in the viewer's scope (404 outside it, like a missing grid)."""
    grid = get_visible_or_404(request.user, Grid.objects.select_related("branch__parent"), code=code)
    card = card_for(grid)
    return render(request, "petitions/service_card.html", card_context(grid, public_url(request, card)))


@register_panel("petitions/_cards_panel.html", order=40)
def cards_panel(user: Any) -> dict[str, Any] | None:
    """Links to the service cards of the grids in the user's scope (workers and officials)."""
    if not workflow.may_register(user):
        return None
    grids = list(restrict(user, Grid.objects.order_by("code")).only("code", "name")[: PANEL_GRIDS_SHOWN + 1])
    if not grids:
        return None
    return {"card_grids": grids[:PANEL_GRIDS_SHOWN], "more_grids": len(grids) > PANEL_GRIDS_SHOWN}
