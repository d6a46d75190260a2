"""The grids' endpoints of the API v1: ``GET /api/v1/grids/``, ``/patrols/``, ``/visits/``."""

from typing import Any

from django.db.models import Prefetch, QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers

from governance.api.views import LIST_ERRORS, ScopedListView

from .models import Grid, Patrol, Visit


def _petition_ids() -> QuerySet[Any]:
    """The petitions of a patrol, ids only (the model is the petitions', reached by the relation)."""
    return Patrol._meta.get_field("petitions").related_model._default_manager.only("id", "patrol_id").order_by("id")


class GridSerializer(serializers.ModelSerializer[Grid]):
    class Meta:
        model = Grid
        fields = ["code", "name", "kind", "branch"]


@extend_schema(responses={200: GridSerializer(many=True), **LIST_ERRORS}, tags=["reference"])
class GridListView(ScopedListView):
    """The grids in the user's scope (``branch``: the id of the chain node that leads the grid)."""

    serializer_class = GridSerializer
    base_queryset = Grid.objects.order_by("code")


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
