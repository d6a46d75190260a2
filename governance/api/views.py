"""The shared list view every app's reference lists build on, and the departments list (this app's)."""

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers

from governance.access import restrict
from governance.models import Department

from .errors import error_responses, validation_error_serializer
from .pagination import Pagination

LIST_ERRORS = {
    400: validation_error_serializer("ListQueryValidationError", ["page", "page_size"]),
    **error_responses(401, 404),
}


class ScopedListView(generics.ListAPIView):
    """A paginated list of what the user may see (the model's declared scope, ``access.restrict``)."""

    pagination_class = Pagination
    filter_backends: list[Any] = []
    base_queryset: QuerySet[Any]

    def get_queryset(self) -> QuerySet[Any]:
        return restrict(self.request.user, self.base_queryset.all())


class DepartmentSerializer(serializers.ModelSerializer[Department]):
    class Meta:
        model = Department
        fields = ["code", "name"]


@extend_schema(responses={200: DepartmentSerializer(many=True), **LIST_ERRORS}, tags=["reference"])
class DepartmentListView(ScopedListView):
    """The active departments petitions may be dispatched to."""

    serializer_class = DepartmentSerializer
    base_queryset = Department.objects.filter(is_active=True)
