"""Browser forms for deliberation (五议), one per step. They parse input; the rules are ``parties.deliberations``'.

Field names are the services' keyword arguments, so a form's ``cleaned_data`` is the call.
"""

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from governance.access import restrict, subtree_q
from governance.models import Satisfaction

from .models import COMMUNITY_KINDS, Deliberation, Member, Organization


def _text(label: Any, *, rows: int = 3, required: bool = True, max_length: int = 2000) -> forms.CharField:
    return forms.CharField(
        label=label, required=required, max_length=max_length, widget=forms.Textarea(attrs={"rows": rows})
    )


class ProposeForm(forms.Form):
    """居民提议: what a community worker types in for the residents who raise a matter."""

    community = forms.ModelChoiceField(label=_("community"), queryset=Organization.objects.none())
    title = forms.CharField(label=_("matter"), max_length=Deliberation._meta.get_field("title").max_length)
    description = _text(_("details"), required=False)
    proposer_name = forms.CharField(
        label=_("proposed by"), required=False, max_length=50,
        help_text=_("The resident who raised it; shown masked in lists and never on the public notice."),
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        communities = restrict(user, Organization.objects.filter(kind__in=sorted(COMMUNITY_KINDS)))
        field = self.fields["community"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = communities.order_by("tree_id", "lft")
        if not self.is_bound and getattr(user, "scope_node_id", None):
            self.initial.setdefault("community", user.scope_node_id)


class StepForm(forms.Form):
    """A step's form, made for one matter (some choices depend on it)."""

    def __init__(self, *args: Any, deliberation: Deliberation, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.deliberation = deliberation


class AcceptForm(StepForm):
    opinion = _text(_("the two committees' opinion"), rows=2, required=False, max_length=1000)


class RejectForm(StepForm):
    reason = _text(_("reason"), rows=2, max_length=1000)


class DiscussForm(StepForm):
    meeting_on = forms.DateField(label=_("meeting date"), widget=forms.DateInput(attrs={"type": "date"}))
    meeting_place = forms.CharField(label=_("meeting place"), max_length=100)
    attendees = forms.IntegerField(label=_("attendees"), min_value=1, max_value=100_000)
    minutes = _text(_("minutes"), rows=4)
    units = _text(_("units that took part"), rows=2, required=False, max_length=1000)
    members = forms.ModelMultipleChoiceField(
        label=_("Party members who took part"), queryset=Member.objects.none(), required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, deliberation: Deliberation, **kwargs: Any) -> None:
        super().__init__(*args, deliberation=deliberation, **kwargs)
        field = self.fields["members"]
        assert isinstance(field, forms.ModelMultipleChoiceField)
        field.queryset = Member.objects.filter(subtree_q(deliberation.community, "organization")).order_by("name")


class DecideForm(StepForm):
    resolution = _text(_("resolution"), rows=4)
    votes_for = forms.IntegerField(label=_("votes for"), min_value=0, max_value=100_000)
    votes_against = forms.IntegerField(label=_("votes against"), min_value=0, max_value=100_000)
    votes_abstain = forms.IntegerField(label=_("abstentions"), min_value=0, max_value=100_000)
    responsible = forms.CharField(label=_("responsible parties"), max_length=200)
    deadline = forms.DateField(label=_("to be carried out by"), widget=forms.DateInput(attrs={"type": "date"}))


class PublishForm(StepForm):
    """The public notice takes no input: one tap (its length is the district's setting)."""


class CarryOutForm(StepForm):
    carried_out_note = _text(_("what was done"), rows=3)


class EvaluateForm(StepForm):
    satisfaction = forms.ChoiceField(label=_("satisfaction"), choices=Satisfaction.choices, widget=forms.RadioSelect)
    resident_name = forms.CharField(label=_("resident's name"), required=False, max_length=50)
    comment = _text(_("comment"), rows=2, required=False, max_length=500)
