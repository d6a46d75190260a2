"""Reads of petitions: every one starts from the user's scope (``governance.access.restrict``)."""

from typing import Any

from django.db.models import Prefetch, QuerySet

from governance.access import Viewer, get_visible_or_404, restrict, reveal_personal_data
from governance.models import User
from grids.geo import grids_containing
from grids.models import Grid

from . import queues
from .filters import PetitionFilterSet
from .models import Petition, PetitionEvent


def petition_list_for(user: Viewer, params: Any = None) -> tuple[PetitionFilterSet, QuerySet[Petition]]:
    """The petitions ``user`` may see, filtered by ``params`` (status, node, grid, ...), newest first.

    A work queue (``queue``) lists soonest deadline first.
    """
    base = restrict(user, Petition.objects.all()).select_related("grid", "category", "department")
    filterset = PetitionFilterSet(params or None, queryset=base, user=user)
    # An unbound filter set (no parameters at all) is "not valid" but means "no filters".
    valid = not filterset.is_bound or filterset.is_valid()
    queryset = filterset.qs if valid else base.none()
    # A work queue is worked through by deadline, the soonest first; other lists newest first.
    if valid and filterset.is_bound and filterset.form.cleaned_data.get("queue"):
        return filterset, queues.by_deadline(queryset)
    return filterset, queryset.order_by("-registered_at", "-id")


def petition_detail_for(user: Viewer, petition_id: Any) -> Petition:
    """One petition with its timeline and follow-ups; 404 when missing or outside the scope."""
    queryset = Petition.objects.select_related(
        "grid", "grid__branch", "category", "department", "household__building", "registered_by",
        "patrol",
    ).prefetch_related(
        Prefetch("events", queryset=PetitionEvent.objects.select_related("actor", "department")),
        "follow_ups__by",
    )
    return get_visible_or_404(user, queryset, pk=petition_id)


def reporter_phone_visible(user: Viewer, petition: Petition) -> bool:
    """Whether the resident's name and phone are shown whole (detail page and API alike).

    PIPL (DESIGN.md, "The grids"): whole only to those whose scope covers the household. Department
    staff see the petitions dispatched to them, but their scope is a department, not a place on the
    chain: they get the masked name and number and reach the resident through the grid worker, who
    is the resident's contact. Workers, officials and leadership whose chain scope covers the
    petition see them whole, and ``reveal_personal_data`` records each such viewing. Lists always
    mask both (``mask_name``, ``mask_phone``).
    """
    if not isinstance(user, User) or user.is_department_staff:
        return False
    if not (petition.reporter_phone or petition.reporter_name):
        return False
    fields = ",".join(f for f in ("reporter_name", "reporter_phone") if getattr(petition, f))
    return reveal_personal_data(user, petition, fields)


def grid_suggested_by_point(user: Viewer, petition: Petition) -> Grid | None:
    """A grid in the user's scope whose boundary holds the petition's point, when not its own grid.

    A hint for whoever reads the petition (the point may have been taken in the neighbouring grid);
    nothing is moved. GCJ-02 and WGS-84 are treated alike (``grids.geo``).
    """
    if petition.latitude is None or petition.longitude is None:
        return None
    holding = grids_containing(
        restrict(user, Grid.objects.order_by("code")), float(petition.latitude), float(petition.longitude)
    )
    if holding.filter(pk=petition.grid_id).exists():
        return None
    return holding.first()
