"""Browser forms for micro-wishes. They parse input; the rules are ``parties.wishes``'."""

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from governance.access import restrict
from governance.models import Satisfaction

from .models import WISH_PLACE_KINDS, Organization, Wish


class WishRecordForm(forms.Form):
    """群众点单: what a worker types in for a resident, on a phone."""

    place = forms.ModelChoiceField(label=_("where"), queryset=Organization.objects.none())
    title = forms.CharField(label=_("wish"), max_length=Wish._meta.get_field("title").max_length)
    description = forms.CharField(
        label=_("details"), required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 3})
    )
    resident_name = forms.CharField(
        label=_("resident's name"), required=False, max_length=50,
        help_text=_("A family name is enough; members see it masked."),
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        places = restrict(user, Organization.objects.filter(kind__in=sorted(WISH_PLACE_KINDS))).order_by(
            "tree_id", "lft"
        )
        field = self.fields["place"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = places
        if not self.is_bound and getattr(user, "scope_node_id", None):
            self.initial.setdefault("place", user.scope_node_id)


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("reason"), max_length=500, widget=forms.Textarea(attrs={"rows": 2}))


class FulfilForm(forms.Form):
    fulfilment = forms.CharField(label=_("what was done"), max_length=1000, widget=forms.Textarea(attrs={"rows": 3}))


class EvaluateForm(forms.Form):
    rating = forms.ChoiceField(label=_("resident's rating"), choices=Satisfaction.choices, widget=forms.RadioSelect)
    note = forms.CharField(label=_("note"), required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 2}))


class EmptyForm(forms.Form):
    """Publish and claim take no input: one tap."""
