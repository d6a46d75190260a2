"""The chain's endpoint of the API v1: ``GET /api/v1/chain/``."""

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import serializers

from governance.api.errors import validation_error_serializer
from governance.api.fields import MAX_ID, QuerySerializer
from governance.api.views import LIST_ERRORS, ScopedListView

from .models import Organization


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
