"""Browser forms for petitions. Field names are the API's field names (DESIGN.md, "The API contract").

Forms only parse input; the rules (scope, phone format, transitions) live in ``services`` and
``workflow``, whose ``ValidationError`` the views attach to the field it names.
"""

import re
from collections.abc import Iterable
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from governance.access import restrict
from governance.models import Department
from grids.models import Grid, GridAssignment, Household, Patrol

from . import steps
from .models import Category, Channel, CoordinateSystem, Petition, Priority, Satisfaction, ServiceArea
from .photos import PhotosField
from .steps import NOTE_MAX

# A grid holds a few hundred households; suggesting them is cheap for a worker's one or two grids,
# but not for an official's hundreds.
HOUSEHOLD_SUGGESTION_GRIDS = 3

_HOUSEHOLD_NOISE = re.compile(r"[\s\-/#号室]")


def household_key(building: str, room: str = "") -> str:
    """How typed 'building room' text is compared: 1栋 203, 1栋-203 and 1栋203 are the same."""
    return _HOUSEHOLD_NOISE.sub("", f"{building}{room}").lower()


def category_choices(categories: Iterable[Category]) -> list[tuple[str, Any]]:
    """Categories grouped by service area, in the order of the seven areas, for <optgroup>."""
    groups: dict[str, list[tuple[str, str]]] = {area: [] for area in ServiceArea.values}
    for category in categories:
        groups.setdefault(category.service_area, []).append((category.code, category.name))
    labels = dict(ServiceArea.choices)
    return [("", "---------")] + [(str(labels.get(area, area)), items) for area, items in groups.items() if items]


class PetitionRegisterForm(forms.Form):
    """登记诉求: what a worker fills in on a phone, in under a minute."""

    grid = forms.ModelChoiceField(label=_("grid"), queryset=Grid.objects.none(), to_field_name="code")
    category = forms.ChoiceField(label=_("category"))
    priority = forms.ChoiceField(
        label=_("priority"), choices=Priority.choices, initial=Priority.NORMAL, widget=forms.RadioSelect
    )
    title = forms.CharField(label=_("title"), max_length=Petition._meta.get_field("title").max_length)
    description = forms.CharField(
        label=_("description"),
        max_length=Petition._meta.get_field("description").max_length,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    household = forms.CharField(
        label=_("household (building and room)"),
        required=False,
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
        help_text=_("e.g. 1栋 203; leave empty if the request is not about one household"),
    )
    reporter_name = forms.CharField(
        label=_("resident's name"), required=False, max_length=50, widget=forms.TextInput(attrs={"autocomplete": "off"})
    )
    # The service checks the format and says what a valid number looks like.
    reporter_phone = forms.CharField(
        label=_("resident's phone"),
        required=False,
        max_length=20,
        widget=forms.TextInput(attrs={"type": "tel", "inputmode": "numeric", "autocomplete": "off"}),
    )

    # Left out (an older page, a script), it is the worker's visit, as before channels were recorded.
    channel = forms.ChoiceField(label=_("channel"), choices=Channel.choices, initial=Channel.VISIT, required=False)
    place = forms.CharField(
        label=_("place"),
        required=False,
        max_length=Petition._meta.get_field("place").max_length,
        help_text=_("e.g. the north gate of 3栋, the lane behind the market"),
    )
    # The point as the phone reported it: the service checks the pair and the system together.
    latitude = forms.FloatField(
        label=_("latitude"), required=False, widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"})
    )
    longitude = forms.FloatField(
        label=_("longitude"), required=False, widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"})
    )
    coordinate_system = forms.ChoiceField(
        label=_("coordinate system"), required=False, choices=[("", "---------"), *CoordinateSystem.choices]
    )
    # The problem, from the phone's camera (several at once); stored with the petition (petitions.photos).
    photos = PhotosField(label=_("photos of the problem"))

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        grids = restrict(user, Grid.objects.order_by("code")).only("id", "code", "name")
        grid_field = self.fields["grid"]
        assert isinstance(grid_field, forms.ModelChoiceField)
        grid_field.queryset = grids
        self.grid_list = list(grids)
        self.categories = {c.code: c for c in Category.objects.filter(is_active=True).order_by("service_area", "code")}
        self.fields["category"].choices = category_choices(self.categories.values())  # type: ignore[attr-defined]
        if not self.is_bound:
            self.initial.setdefault("grid", self._own_grid_code())

    def _own_grid_code(self) -> str | None:
        """The grid the worker is assigned to, else the only grid in scope."""
        codes = {g.code for g in self.grid_list}
        if len(codes) == 1:
            return next(iter(codes))
        assigned = GridAssignment.objects.filter(user=self.user).order_by("id").values_list("grid__code", flat=True)
        return next((c for c in assigned if c in codes), None)

    def household_suggestions(self) -> dict[str, list[str]]:
        """'building room' suggestions per grid code, for a <datalist>; empty when the scope is large."""
        if not self.grid_list or len(self.grid_list) > HOUSEHOLD_SUGGESTION_GRIDS:
            return {}
        out: dict[str, list[str]] = {g.code: [] for g in self.grid_list}
        rows = (
            Household.objects.filter(building__grid__in=self.grid_list)
            .order_by("building__code", "room")
            .values_list("building__grid__code", "building__name", "room")
        )
        for grid_code, building, room in rows:
            out[grid_code].append(f"{building} {room}")
        return out

    def clean_channel(self) -> str:
        return self.cleaned_data.get("channel") or Channel.VISIT

    def clean_category(self) -> Category:
        category = self.categories.get(self.cleaned_data["category"])
        if category is None:
            raise ValidationError(_("Choose a category from the list."))
        return category

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        text = cleaned.get("household") or ""
        grid = cleaned.get("grid")
        cleaned["household"] = None
        if text and grid is not None:
            cleaned["household"] = self._find_household(grid, text)
        return cleaned

    def _find_household(self, grid: Grid, text: str) -> Household | None:
        wanted = household_key(text)
        for household in Household.objects.filter(building__grid=grid).select_related("building"):
            if wanted in (
                household_key(household.building.name, household.room),
                household_key(household.building.code, household.room),
            ):
                return household
        self.add_error("household", _("No household %(text)s in this grid.") % {"text": text})
        return None


class PatrolPetitionForm(PetitionRegisterForm):
    """A problem found on a patrol, as a petition: the patrol's grid, its findings as the description."""

    def __init__(self, *args: Any, user: Any, patrol: Patrol, **kwargs: Any) -> None:
        super().__init__(*args, user=user, **kwargs)
        self.patrol = patrol
        # The patrol gives the grid, the channel (巡查发现) and the place.
        for name in ("grid", "channel", "place", "latitude", "longitude", "coordinate_system", "photos"):
            self.fields.pop(name, None)
        self.grid_list = [patrol.grid]
        if not self.is_bound:
            title_limit = Petition._meta.get_field("title").max_length or 100
            first_line = (patrol.findings.strip().splitlines() or [""])[0]
            self.initial.update(title=first_line[:title_limit], description=patrol.findings)

    def clean(self) -> dict[str, Any]:
        self.cleaned_data["grid"] = self.patrol.grid
        cleaned = super().clean()
        cleaned.pop("grid", None)
        return cleaned


def _yes(value: str) -> bool:
    return value == "true"


YES_NO = [("true", _("yes")), ("false", _("no"))]


def _form_field(field: steps.Field) -> forms.Field:
    if field.kind == "text":
        widget = forms.Textarea(attrs={"rows": field.rows})
        return forms.CharField(label=field.label, required=field.required, max_length=NOTE_MAX, widget=widget)
    if field.kind == "department":
        return forms.ModelChoiceField(label=field.label, queryset=Department.objects.none(), to_field_name="code")
    if field.kind == "date":
        return forms.DateField(
            label=field.label, required=field.required, widget=forms.DateInput(attrs={"type": "date"})
        )
    if field.kind == "yes_no":
        return forms.TypedChoiceField(
            label=field.label, choices=YES_NO, coerce=_yes, required=field.required, widget=forms.RadioSelect,
            empty_value=None, initial="true" if field.required else None,
        )
    return forms.ChoiceField(
        label=field.label, choices=Satisfaction.choices, required=field.required, widget=forms.RadioSelect
    )


class StepForm(forms.Form):
    """A step's form on the detail page; its fields come from the step's declaration (``steps``)."""

    def __init__(self, *args: Any, user: Any, petition: Petition, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        department = self.fields.get("department")
        if isinstance(department, forms.ModelChoiceField):
            department.queryset = restrict(user, Department.objects.filter(is_active=True)).order_by("code")
            default = petition.category.default_department
            if not self.is_bound and default is not None:
                self.initial["department"] = default.code


_STEP_FORMS: dict[str, type[StepForm]] = {}


def step_form(step: steps.Step) -> type[StepForm]:
    """The form class of ``step`` (one per body, made once)."""
    body = step.body
    key = f"{body.name}+photos" if step.photos else body.name
    if key not in _STEP_FORMS:
        declared: dict[str, forms.Field] = {field.name: _form_field(field) for field in body.fields}
        if step.photos:  # the page form only: the API's body stays JSON
            declared["photos"] = PhotosField(label=step.photos_label)
        _STEP_FORMS[key] = type(f"{body.name}Form", (StepForm,), declared)
    return _STEP_FORMS[key]
