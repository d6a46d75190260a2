"""The grids' endpoint of the API v1: ``GET /api/v1/grids/`` (``?point=lat,lng``: the grids holding it)."""

import math
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError

from governance.api.views import LIST_ERRORS, ScopedListView

from .geo import grids_containing
from .models import Grid


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
