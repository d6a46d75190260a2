"""The petition filters, shared by the list page and the API (django-filter)."""

import datetime as dt
from typing import Any

import django_filters
from django import forms
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from governance.access import subtree_q
from governance.api.fields import MAX_ID
from grids.models import Grid

from . import metrics, queues
from .models import Channel, Petition, PetitionQuerySet, Status

OUTCOMES = (("on_time", _("on time")), ("late", _("late")))


class PetitionFilterForm(forms.Form):
    def clean(self) -> dict[str, Any]:
        """A step's period follows the dashboard's rules (``metrics.period``), named by field."""
        data = super().clean() or {}
        if data.get("stage"):
            try:
                metrics.period(data.get("since"), data.get("until"))
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    for error in errors:
                        self.add_error(field if field in self.fields else None, error)
        return data


class PetitionFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(label=_("status"), choices=Status.choices)
    node = django_filters.NumberFilter(label=_("chain node"), method="filter_node")
    grid = django_filters.CharFilter(label=_("grid"), field_name="grid__code")
    department = django_filters.CharFilter(label=_("department"), field_name="department__code")
    category = django_filters.CharFilter(label=_("category"), field_name="category__code")
    overdue = django_filters.BooleanFilter(label=_("overdue"), method="filter_overdue")
    q = django_filters.CharFilter(label=_("number or title"), method="filter_q")
    channel = django_filters.ChoiceFilter(label=_("channel"), choices=Channel.choices)
    # A work queue (``queues``): the same condition the home page counts; the list sorts by deadline.
    queue = django_filters.ChoiceFilter(
        label=_("work queue"), choices=[(q.key, q.label) for q in queues.QUEUES.values()], method="filter_queue"
    )
    # The petitions behind a dashboard figure (``metrics.petitions_behind``): a step in a period.
    stage = django_filters.ChoiceFilter(label=_("step"), choices=list(metrics.STAGES.items()), method="filter_stage")
    since = django_filters.DateFilter(label=_("first day of the period"), method="read_with_stage_day")
    until = django_filters.DateFilter(label=_("last day of the period"), method="read_with_stage_day")
    outcome = django_filters.ChoiceFilter(label=_("on time or late"), choices=OUTCOMES, method="read_with_stage_text")
    satisfied = django_filters.BooleanFilter(label=_("satisfied"), method="read_with_stage_flag")

    class Meta:
        model = Petition
        form = PetitionFilterForm
        fields = [
            "status", "node", "grid", "department", "category", "overdue", "q", "channel", "queue",
            "stage", "since", "until", "outcome", "satisfied",
        ]

    def __init__(self, *args: Any, user: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user if user is not None else getattr(self.request, "user", None)

    # The typed hints tell the API schema what each parameter is; ``filter_stage`` reads them all.
    def read_with_stage_day(self, queryset: QuerySet[Petition], name: str, value: dt.date) -> QuerySet[Petition]:
        return queryset

    def read_with_stage_text(self, queryset: QuerySet[Petition], name: str, value: str) -> QuerySet[Petition]:
        return queryset

    def read_with_stage_flag(self, queryset: QuerySet[Petition], name: str, value: bool) -> QuerySet[Petition]:
        return queryset

    def filter_stage(self, queryset: QuerySet[Petition], name: str, value: str) -> QuerySet[Petition]:
        """All the step parameters are read together, once (when ``stage`` is reached)."""
        data = self.form.cleaned_data
        stage = data.get("stage")
        if not stage:
            return queryset
        since, until = metrics.period(data.get("since"), data.get("until"))  # checked by the form
        behind = metrics.petitions_behind(
            stage=stage,
            since=since,
            until=until,
            outcome=data.get("outcome") or None,
            satisfied=data.get("satisfied"),
            department=data.get("department") or None,
        )
        return queryset.filter(behind)

    def filter_node(self, queryset: QuerySet[Petition], name: str, value: Any) -> QuerySet[Petition]:
        if not 0 < value <= MAX_ID:  # an id no node can have: nothing is under it
            return queryset.none()
        return queryset.filter(grid_id__in=Grid.objects.filter(subtree_q(int(value), "branch")).values("id"))

    def filter_overdue(self, queryset: PetitionQuerySet, name: str, value: bool | None) -> QuerySet[Petition]:
        if value is None:
            return queryset
        return queryset.overdue() if value else queryset.not_overdue()

    def filter_queue(self, queryset: QuerySet[Petition], name: str, value: str) -> QuerySet[Petition]:
        if not value:
            return queryset
        return queryset.filter(queues.condition(value, self.user or AnonymousUser()))

    def filter_q(self, queryset: QuerySet[Petition], name: str, value: str) -> QuerySet[Petition]:
        value = value.strip()
        if not value:
            return queryset
        by_number = Petition.number_q(value)
        matches = Q(title__icontains=value)
        return queryset.filter(matches | by_number if by_number is not None else matches)

