"""The grids' endpoint of the API v1: ``GET /api/v1/grids/``."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers

from governance.api.views import LIST_ERRORS, ScopedListView

from .models import Grid


class GridSerializer(serializers.ModelSerializer[Grid]):
    class Meta:
        model = Grid
        fields = ["code", "name", "kind", "branch"]


@extend_schema(responses={200: GridSerializer(many=True), **LIST_ERRORS}, tags=["reference"])
class GridListView(ScopedListView):
    """The grids in the user's scope (``branch``: the id of the chain node that leads the grid)."""

    serializer_class = GridSerializer
    base_queryset = Grid.objects.order_by("code")
