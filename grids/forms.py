"""Browser forms for patrols and household visits. They parse input; the rules are ``grids.fieldwork``'s."""

import datetime as dt
from typing import Any

from django import forms
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from governance.access import restrict

from .models import Grid, GridAssignment, KeyPopulation, MoralCategory, Patrol, Resident, Visit

_MINUTE = "%Y-%m-%dT%H:%M"


def _when(label: Any) -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label, widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=_MINUTE)
    )


def _text(model: type[Patrol | Visit], name: str, *, required: bool = True, rows: int = 3) -> forms.CharField:
    field = model._meta.get_field(name)
    assert isinstance(field, models.Field)
    widget = forms.Textarea(attrs={"rows": rows}) if rows else forms.TextInput()
    return forms.CharField(
        label=field.verbose_name, max_length=field.max_length, required=required, widget=widget
    )


class PatrolForm(forms.Form):
    """巡查: what a worker records on a phone after walking the grid."""

    grid = forms.ModelChoiceField(label=_("grid"), queryset=Grid.objects.none(), to_field_name="code")
    started_at = _when(_("started at"))
    ended_at = _when(_("ended at"))
    route = _text(Patrol, "route")
    findings = _text(Patrol, "findings", required=False)
    problem_found = forms.BooleanField(
        label=_("a problem was found: register it as a petition next"), required=False
    )
    problem_place = _text(Patrol, "problem_place", required=False, rows=0)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        grids = restrict(user, Grid.objects.order_by("code")).only("id", "code", "name")
        field = self.fields["grid"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = grids
        if not self.is_bound:
            now = timezone.localtime().replace(second=0, microsecond=0)
            self.initial.setdefault("ended_at", now)
            self.initial.setdefault("started_at", now - dt.timedelta(hours=1))
            assigned = GridAssignment.objects.filter(user=user, grid__in=grids).order_by("id").values_list(
                "grid__code", flat=True
            )
            code = next(iter(assigned), None) or (grids[0].code if len(grids[:2]) == 1 else None)
            if code:
                self.initial.setdefault("grid", code)


class VisitForm(forms.Form):
    """入户走访: one household, what the visit was for, what was learned, what must follow."""

    visited_at = _when(_("visited at"))
    key_population = forms.ModelChoiceField(
        label=_("key-population class"), queryset=KeyPopulation.objects.none(), to_field_name="code",
        required=False,
    )
    purpose = _text(Visit, "purpose", required=False, rows=0)
    learned = _text(Visit, "learned")
    follow_up_needed = forms.BooleanField(label=_("follow-up needed"), required=False)
    follow_up = _text(Visit, "follow_up", required=False, rows=2)

    def __init__(self, *args: Any, household: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["key_population"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = KeyPopulation.objects.filter(is_active=True)
        if not self.is_bound:
            self.initial.setdefault("visited_at", timezone.localtime().replace(second=0, microsecond=0))
            first = household.key_populations.filter(is_active=True).order_by("visit_interval_days").first()
            if first is not None:
                self.initial.setdefault("key_population", first.code)


class KeyPopulationsForm(forms.Form):
    """The classes a household is in (the worker keeps them as they learn)."""

    key_populations = forms.ModelMultipleChoiceField(
        label=_("key-population classes"), queryset=KeyPopulation.objects.none(), to_field_name="code",
        required=False, widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["key_populations"]
        assert isinstance(field, forms.ModelMultipleChoiceField)
        field.queryset = KeyPopulation.objects.filter(is_active=True)


class MoralAwardForm(forms.Form):
    """道德积分: points a household (or one of its residents) earned, in one of the four categories."""

    category = forms.ChoiceField(label=_("category"), choices=MoralCategory.choices, widget=forms.RadioSelect)
    points = forms.IntegerField(label=_("points"), min_value=1, max_value=1000)
    reason = forms.CharField(label=_("reason"), max_length=200)
    resident = forms.ModelChoiceField(label=_("resident"), queryset=Resident.objects.none(), required=False,
                                      help_text=_("Leave empty when the whole household earned it."))

    def __init__(self, *args: Any, household: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["resident"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = household.residents.order_by("id")


class MoralRedeemForm(forms.Form):
    """兑换: points spent on an item."""

    item = forms.CharField(label=_("item"), max_length=100)
    points = forms.IntegerField(label=_("points"), min_value=1, max_value=100000)
