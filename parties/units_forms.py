"""Browser forms for 双报到 pages. They parse input; the rules are ``parties.units``'."""

import datetime as dt
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import Member, ServiceKind


class YearForm(forms.Form):
    """The year a page's figures are for (年度考核)."""

    year = forms.IntegerField(label=_("year"), required=False, min_value=2000, max_value=2100)

    def chosen_year(self) -> int:
        return int(self.cleaned_data.get("year") or timezone.localdate().year)


class ActivityForm(forms.Form):
    """The community posts a service for members to sign up to."""

    title = forms.CharField(label=_("title"), max_length=100)
    kind = forms.ChoiceField(
        label=_("kind"), choices=[(k.value, k.label) for k in ServiceKind.posted()]
    )
    held_on = forms.DateField(label=_("date"), widget=forms.DateInput(attrs={"type": "date"}))
    place = forms.CharField(label=_("place"), max_length=100, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("held_on", timezone.localdate() + dt.timedelta(days=7))


class ReportForm(forms.Form):
    """The community records that an in-service member reported (报到) to it."""

    member = forms.ModelChoiceField(label=_("Party member"), queryset=Member.objects.none())
    reported_on = forms.DateField(label=_("reported on"), widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, members: QuerySet[Member], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["member"].queryset = members  # type: ignore[attr-defined]
        if not self.is_bound:
            self.initial.setdefault("reported_on", timezone.localdate())


class AwardForm(forms.Form):
    """One of the community's staff proposes a manual award (or a deduction, negative)."""

    member = forms.ModelChoiceField(label=_("Party member"), queryset=Member.objects.none())
    points = forms.IntegerField(label=_("points"), min_value=-1000, max_value=1000)
    reason = forms.CharField(label=_("reason"), max_length=200)

    def __init__(self, *args: Any, members: QuerySet[Member], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["member"].queryset = members  # type: ignore[attr-defined]


class ReverseForm(forms.Form):
    """Why an entry is undone (the reversal's reason)."""

    reason = forms.CharField(label=_("reason"), max_length=200)
