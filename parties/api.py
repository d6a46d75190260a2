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
