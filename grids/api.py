"""The grids' endpoints of the API v1: ``GET /api/v1/grids/`` (``?point=lat,lng``: the grids holding it),
``/patrols/``, ``/visits/``."""

import math
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import ValidationError

from governance.api.views import LIST_ERRORS, ScopedListView

from .geo import grids_containing
from .models import Grid, Patrol, Visit


def _petition_ids() -> QuerySet[Any]:
    """The petitions of a patrol, ids only (the model is the petitions', reached by the relation)."""
    return Patrol._meta.get_field("petitions").related_model._default_manager.only("id", "patrol_id").order_by("id")


class GridSerializer(serializers.ModelSerializer[Grid]):
    class Meta:
        model = Grid
        fields = ["code", "name", "kind", "branch"]


def parse_point(text: str) -> tuple[float, float]:
    """``"lat,lng"`` as two numbers in range, or ``ValidationError`` naming ``point``."""
    try:
        latitude, longitude = (float(part) for part in text.split(","))
    except ValueError:
        raise ValidationError({"point": [_("Give the point as latitude,longitude, e.g. 45.03,126.02.")]}) from None
    if not (math.isfinite(latitude) and math.isfinite(longitude)) or not (
        -90 <= latitude <= 90 and -180 <= longitude <= 180
    ):
        raise ValidationError({"point": [_("The latitude lies within ±90 degrees and the longitude within ±180.")]})
    return latitude, longitude


@extend_schema(
    parameters=[
        OpenApiParameter(
            "point", OpenApiTypes.STR, description="latitude,longitude: only the grids whose boundary holds it "
            "(GCJ-02 and WGS-84 alike; they differ by a few hundred metres)."
        )
    ],
    responses={200: GridSerializer(many=True), **LIST_ERRORS},
    tags=["reference"],
)
class GridListView(ScopedListView):
    """The grids in the user's scope (``branch``: the id of the chain node that leads the grid)."""

    serializer_class = GridSerializer
    base_queryset = Grid.objects.order_by("code")

    def get_queryset(self) -> QuerySet[Any]:
        queryset = super().get_queryset()
        point = self.request.query_params.get("point")
        if point is None:
            return queryset
        return grids_containing(queryset, *parse_point(point))


class PatrolSerializer(serializers.ModelSerializer[Patrol]):
    grid: serializers.SlugRelatedField[Grid] = serializers.SlugRelatedField(slug_field="code", read_only=True)
    recorded_by: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )
    petitions = serializers.SerializerMethodField()

    class Meta:
        model = Patrol
        fields = [
            "id", "grid", "recorded_by", "started_at", "ended_at", "route", "findings", "problem_found",
            "problem_place", "petitions",
        ]

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
    def get_petitions(self, patrol: Patrol) -> list[int]:
        """The ids of the petitions registered from what the patrol found."""
        return [p.pk for p in patrol.petitions.all()]  # type: ignore[attr-defined]


@extend_schema(responses={200: PatrolSerializer(many=True), **LIST_ERRORS}, tags=["field work"])
class PatrolListView(ScopedListView):
    """Patrols (巡查) on the grids in the user's scope, newest first."""

    serializer_class = PatrolSerializer
    base_queryset = Patrol.objects.select_related("grid", "recorded_by").prefetch_related(
        Prefetch("petitions", queryset=_petition_ids())
    ).order_by("-started_at", "-id")


class VisitSerializer(serializers.ModelSerializer[Visit]):
    """A visit in a list: who, when, which household and why; never what was learned (personal data)."""

    grid: serializers.SlugRelatedField[Grid] = serializers.SlugRelatedField(
        source="household.building.grid", slug_field="code", read_only=True
    )
    key_population: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="code", read_only=True
    )
    visited_by: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )

    class Meta:
        model = Visit
        fields = ["id", "household", "grid", "visited_at", "visited_by", "key_population", "purpose",
                  "follow_up_needed"]


@extend_schema(responses={200: VisitSerializer(many=True), **LIST_ERRORS}, tags=["field work"])
class VisitListView(ScopedListView):
    """Household visits (入户走访) in the user's scope, newest first; the notes stay on the pages."""

    serializer_class = VisitSerializer
    base_queryset = Visit.objects.select_related(
        "household__building__grid", "key_population", "visited_by"
    ).order_by("-visited_at", "-id")
