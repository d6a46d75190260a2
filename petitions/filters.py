"""The petition filters, shared by the list page and the API (django-filter)."""

from typing import Any

import django_filters
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from governance.access import subtree_q
from governance.api.fields import MAX_ID
from grids.models import Grid

from .models import Petition, PetitionQuerySet, Status


class PetitionFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(label=_("status"), choices=Status.choices)
    node = django_filters.NumberFilter(label=_("chain node"), method="filter_node")
    grid = django_filters.CharFilter(label=_("grid"), field_name="grid__code")
    department = django_filters.CharFilter(label=_("department"), field_name="department__code")
    category = django_filters.CharFilter(label=_("category"), field_name="category__code")
    overdue = django_filters.BooleanFilter(label=_("overdue"), method="filter_overdue")
    q = django_filters.CharFilter(label=_("number or title"), method="filter_q")

    class Meta:
        model = Petition
        fields = ["status", "node", "grid", "department", "category", "overdue", "q"]

    def filter_node(self, queryset: QuerySet[Petition], name: str, value: Any) -> QuerySet[Petition]:
        if not 0 < value <= MAX_ID:  # an id no node can have: nothing is under it
            return queryset.none()
        return queryset.filter(grid_id__in=Grid.objects.filter(subtree_q(int(value), "branch")).values("id"))

    def filter_overdue(self, queryset: PetitionQuerySet, name: str, value: bool | None) -> QuerySet[Petition]:
        if value is None:
            return queryset
        return queryset.overdue() if value else queryset.not_overdue()

    def filter_q(self, queryset: QuerySet[Petition], name: str, value: str) -> QuerySet[Petition]:
        value = value.strip()
        if not value:
            return queryset
        by_number = Petition.number_q(value)
        matches = Q(title__icontains=value)
        return queryset.filter(matches | by_number if by_number is not None else matches)

