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


# ------------------------------------------------------------------------------ deliberation (五议)

from drf_spectacular.utils import extend_schema_field  # noqa: E402
from rest_framework import generics  # noqa: E402

from governance.api.errors import error_responses  # noqa: E402

from . import deliberations  # noqa: E402
from .models import Deliberation, DeliberationEvent  # noqa: E402


class DeliberationSerializer(serializers.ModelSerializer[Deliberation]):
    """A matter for deliberation as integrations read it: the proposer masked (张**), never whole."""

    community: serializers.SlugRelatedField[Organization] = serializers.SlugRelatedField(
        slug_field="code", read_only=True, help_text="The community's code."
    )
    proposer = serializers.CharField(source="masked_proposer", read_only=True, help_text="Masked (张**).")

    class Meta:
        model = Deliberation
        fields = [
            "id", "title", "community", "source", "proposer", "status", "proposed_at", "meeting_on",
            "attendees", "resolution", "votes_for", "votes_against", "votes_abstain", "responsible",
            "deadline", "notice_starts_at", "notice_ends_at",
        ]


class DeliberationEventSerializer(serializers.ModelSerializer[DeliberationEvent]):
    actor: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )

    class Meta:
        model = DeliberationEvent
        fields = ["action", "from_status", "to_status", "actor", "at", "note"]


class SatisfactionShareSerializer(serializers.Serializer):
    satisfied = serializers.IntegerField(help_text="Evaluations very satisfied, satisfied or basically satisfied.")
    total = serializers.IntegerField(help_text="Residents' evaluations recorded.")
    percent = serializers.FloatField(allow_null=True, help_text="satisfied ÷ total × 100, null without evaluations.")


class DeliberationDetailSerializer(DeliberationSerializer):
    events = DeliberationEventSerializer(many=True, read_only=True)
    evaluation = serializers.SerializerMethodField()

    class Meta(DeliberationSerializer.Meta):
        fields = [*DeliberationSerializer.Meta.fields, "evaluation", "events"]

    @extend_schema_field(SatisfactionShareSerializer)
    def get_evaluation(self, deliberation: Deliberation) -> dict[str, Any]:
        share = deliberations.satisfaction_share(deliberation)
        return {"satisfied": share.satisfied, "total": share.total, "percent": share.percent}


@extend_schema(responses={200: DeliberationSerializer(many=True), **LIST_ERRORS}, tags=["deliberation"])
class DeliberationListView(ScopedListView):
    """The matters for deliberation (五议) of the communities in the user's scope, newest first."""

    serializer_class = DeliberationSerializer
    base_queryset = Deliberation.objects.select_related("community").order_by("-proposed_at", "-id")


@extend_schema(
    summary="A matter for deliberation with its timeline",
    responses={200: DeliberationDetailSerializer, **error_responses(401, 404)},
    tags=["deliberation"],
)
class DeliberationDetailView(generics.RetrieveAPIView):
    """One matter with ``events`` (each step, when and who) and the residents' ``evaluation`` share."""

    serializer_class = DeliberationDetailSerializer

    def get_queryset(self) -> QuerySet[Any]:
        return deliberations.deliberations_for(self.request.user).prefetch_related("events__actor")
