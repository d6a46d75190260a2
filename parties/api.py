"""The chain's endpoint of the API v1: ``GET /api/v1/chain/``."""

from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from governance.api.errors import error_responses, validation_error_serializer
from governance.api.fields import MAX_ID, QuerySerializer
from governance.api.views import LIST_ERRORS, ScopedListView

from . import points, units
from .models import CoUnit, Organization


class ChainNodeSerializer(serializers.ModelSerializer[Organization]):
    class Meta:
        model = Organization
        fields = ["id", "code", "name", "kind", "parent"]


class ChainQuerySerializer(QuerySerializer):
    # DRF takes declared fields off the class, so this does not hide Field.parent at runtime.
    parent = serializers.IntegerField(  # type: ignore[assignment]
        required=False, min_value=1, max_value=MAX_ID, help_text="Only the children of this node (its id)."
    )


@extend_schema(
    parameters=[ChainQuerySerializer],
    responses={
        200: ChainNodeSerializer(many=True),
        **LIST_ERRORS,
        400: validation_error_serializer("ChainQueryValidationError", ["parent", "page", "page_size"]),
    },
    tags=["reference"],
)
class ChainListView(ScopedListView):
    """The nodes of the chain in the user's scope, in tree order; ``?parent=`` gives one node's children."""

    serializer_class = ChainNodeSerializer
    base_queryset = Organization.objects.order_by("tree_id", "lft")

    def get_queryset(self) -> QuerySet[Any]:
        query = ChainQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        queryset = super().get_queryset()
        if "parent" in query.validated_data:
            queryset = queryset.filter(parent_id=query.validated_data["parent"])
        return queryset


# ------------------------------------------------------------------ 双报到 and points (issue 9): read-only


class UnitSerializer(serializers.ModelSerializer[Any]):
    in_service = serializers.IntegerField(help_text="In-service members of the unit.")
    reported = serializers.IntegerField(help_text="Of them, members whose report a community confirmed.")
    reporting_rate = serializers.SerializerMethodField(help_text="reported ÷ in_service; null without members.")
    flagged = serializers.BooleanField(
        help_text="The rate is below the threshold (UNIT_REPORTING_RATE_MIN %): not to be rated excellent."
    )

    class Meta:
        model = CoUnit
        fields = ["id", "name", "kind", "party_organisation", "in_service", "reported", "reporting_rate", "flagged"]

    def get_reporting_rate(self, unit: Any) -> float | None:
        return float(unit.rate) if unit.rate is not None else None


@extend_schema(responses={200: UnitSerializer(many=True), **LIST_ERRORS}, tags=["units"])
class UnitListView(ScopedListView):
    """The co-building units the user sees (双报到), with their members' reporting rate and flag."""

    serializer_class = UnitSerializer

    def get_queryset(self) -> QuerySet[Any]:
        return units.with_unit_figures(units.units_for(self.request.user)).order_by("name", "pk")

    def paginate_queryset(self, queryset: Any) -> Any:
        page = super().paginate_queryset(queryset)
        return units.flag_units(list(page)) if page is not None else None


class RankingQuerySerializer(QuerySerializer):
    community = serializers.IntegerField(min_value=1, max_value=MAX_ID, help_text="A community in the user's scope.")
    year = serializers.IntegerField(required=False, min_value=2000, max_value=2100, help_text="Default: this year.")


class UnitRankingQuerySerializer(QuerySerializer):
    unit = serializers.IntegerField(min_value=1, max_value=MAX_ID, help_text="A co-building unit the user sees.")
    year = serializers.IntegerField(required=False, min_value=2000, max_value=2100, help_text="Default: this year.")


class RankSerializer(serializers.Serializer):  # type: ignore[type-arg]
    place = serializers.IntegerField()
    member_id = serializers.IntegerField()
    name = serializers.CharField()
    unit = serializers.CharField()
    points = serializers.IntegerField()


class RankingSerializer(serializers.Serializer):  # type: ignore[type-arg]
    since = serializers.DateField()
    until = serializers.DateField()
    ranks = RankSerializer(many=True)


class PointsRankingView(APIView):
    """Members by 红细胞积分 in a year in a community's ledger (ties share a place)."""

    @extend_schema(
        parameters=[RankingQuerySerializer],
        responses={
            200: RankingSerializer,
            400: validation_error_serializer("RankingQueryValidationError", ["community", "year"]),
            **error_responses(401, 404),
        },
        tags=["units"],
    )
    def get(self, request: Request) -> Response:
        query = RankingQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        since, until = units.year_bounds(data.get("year") or timezone.localdate().year)
        community = units.community_for(request.user, data["community"])
        ranks = points.ranking(since=since, until=until, community=community)
        return Response(RankingSerializer({"since": since, "until": until, "ranks": ranks}).data)


class UnitRankingView(APIView):
    """A co-building unit's members by 红细胞积分 in a year, earned in any community (ties share a place)."""

    @extend_schema(
        parameters=[UnitRankingQuerySerializer],
        responses={
            200: RankingSerializer,
            400: validation_error_serializer("UnitRankingQueryValidationError", ["unit", "year"]),
            **error_responses(401, 404),
        },
        tags=["units"],
    )
    def get(self, request: Request) -> Response:
        query = UnitRankingQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        since, until = units.year_bounds(data.get("year") or timezone.localdate().year)
        ranks = points.ranking(since=since, until=until, unit=units.unit_for(request.user, data["unit"]))
        return Response(RankingSerializer({"since": since, "until": until, "ranks": ranks}).data)
