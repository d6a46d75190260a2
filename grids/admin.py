import secrets
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.db.models import Count, QuerySet
from django.forms.formsets import DELETION_FIELD_NAME
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from import_export.admin import ImportExportMixin
from import_export.formats.base_formats import CSV, XLSX
from import_export.results import Result

from governance.access import reveal_personal_data
from governance.admin import ReadOnlyAdminMixin, ScopedModelAdmin
from governance.spreadsheets import BoundedImportForm
from parties.admin import NodeInline, register_node_inline
from parties.models import GRID_LEVEL_KINDS, HOUSEHOLD_KINDS

from . import services
from .identity import id_card_hashes, is_valid_id_card
from .importers import HouseholdExportResource, HouseholdResidentResource, import_template_xlsx
from .models import (
    Building,
    Grid,
    GridAssignment,
    Household,
    HouseholdKeyPopulation,
    KeyPopulation,
    MemberResidence,
    Patrol,
    Resident,
    Visit,
)

# The residents found by a whole ID-card number, by token (ResidentAdmin.search_view).
FOUND_SESSION_KEY = "grids_resident_found"
FOUND_VAR = "found"

PERSONAL_FIELDS = "id_card,phone"


class GridAssignmentInline(admin.TabularInline):
    model = GridAssignment
    extra = 0
    autocomplete_fields = ("user",)


@admin.register(Grid)
class GridAdmin(ScopedModelAdmin):
    list_display = ("code", "name", "kind", "branch", "household_count", "sizing")
    list_filter = ("kind",)
    search_fields = ("code", "name", "branch__name")
    autocomplete_fields = ("branch",)
    list_select_related = ("branch",)
    inlines = [GridAssignmentInline]
    # The boundary is GeoJSON text: a wide box, checked on save (``geo.validate_boundary``).
    formfield_overrides = {models.JSONField: {"widget": forms.Textarea(attrs={"rows": 6, "cols": 80})}}

    def get_queryset(self, request: HttpRequest) -> QuerySet[Grid]:
        return super().get_queryset(request).annotate(households_n=Count("buildings__households"))

    @admin.display(description=gettext_lazy("households"), ordering="households_n")
    def household_count(self, obj: Any) -> int:
        return int(obj.households_n)

    @admin.display(description=gettext_lazy("sizing"))
    def sizing(self, obj: Any) -> str:
        warning = obj.sizing_warning(obj.households_n)
        if not warning:
            return "✓"
        # Short in the column (households / standard), the sentence on hover.
        return format_html('<span title="{}">⚠ {}/{}</span>', warning, obj.households_n, obj.household_standard())


@admin.register(Building)
class BuildingAdmin(ScopedModelAdmin):
    list_display = ("code", "name", "grid")
    search_fields = ("code", "name", "grid__name")
    autocomplete_fields = ("grid",)
    list_select_related = ("grid",)


class ResidentForm(forms.ModelForm):
    """Checks a resident through ``services.resident_clean``, so a bad or duplicate ID is a field error."""

    actor: Any = None  # set by the admin that builds the form class

    class Meta:
        model = Resident
        fields = ("household", "name", "id_card", "phone")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        household = cleaned.get("household") if "household" in self.fields else self.instance.household
        try:
            data = services.resident_clean(
                actor=self.actor,
                household=household,
                name=cleaned.get("name", ""),
                id_card=cleaned.get("id_card", ""),
                phone=cleaned.get("phone", ""),
                resident=self.instance if self.instance.pk else None,
            )
        except ValidationError as exc:
            for field, messages_ in exc.message_dict.items():
                if field not in self.errors:
                    self.add_error(field if field in self.fields else None, messages_)
        else:
            cleaned.update(name=data.name, id_card=data.id_card, phone=data.phone)
        return cleaned


def _form_for(form_class: type[ResidentForm], request: HttpRequest) -> type[ResidentForm]:
    return type(form_class.__name__, (form_class,), {"actor": request.user})


class ResidentInlineFormSet(BaseInlineFormSet):
    """One ID-card number may appear only once among a household's residents being saved."""

    def clean(self) -> None:
        super().clean()
        seen: dict[str, int] = {}
        for index, form in enumerate(self.forms):
            cleaned = getattr(form, "cleaned_data", None) or {}
            if cleaned.get(DELETION_FIELD_NAME):
                continue
            id_card = cleaned.get("id_card")
            if not id_card:
                continue
            if id_card in seen:
                form.add_error("id_card", _("The same ID-card number is entered on line %(n)d.") % {"n": seen[id_card]})
            else:
                seen[id_card] = index + 1


class ResidentInline(admin.TabularInline):
    model = Resident
    form = ResidentForm
    formset = ResidentInlineFormSet
    extra = 0
    fields = ("name", "id_card", "phone")

    def get_formset(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        kwargs["form"] = _form_for(ResidentForm, request)
        return super().get_formset(request, obj, **kwargs)


class MemberResidenceInline(admin.TabularInline):
    """The Party members who live in this household (双报到: they report to its community)."""

    model = MemberResidence
    extra = 0
    autocomplete_fields = ("member",)


class HouseholdResidentImportMixin(ImportExportMixin):
    """Import of the one households-and-residents spreadsheet (CSV or XLSX), with a dry run first."""

    formats = [CSV, XLSX]
    import_form_class = BoundedImportForm

    def get_import_resource_classes(self, request: HttpRequest) -> list[type[HouseholdResidentResource]]:
        return [HouseholdResidentResource]

    def get_urls(self) -> list[Any]:
        opts = self.model._meta
        name = f"{opts.app_label}_{opts.model_name}_import_template"
        template = path("import-template/", self.admin_site.admin_view(self.import_template_view), name=name)
        return [template, *super().get_urls()]

    def get_import_context_data(self, **kwargs: Any) -> dict[str, Any]:
        # Only the households-and-residents imports have the template (not, e.g., the calendar's).
        context: dict[str, Any] = super().get_import_context_data(**kwargs)
        opts = self.model._meta
        context["import_template_url"] = reverse(f"admin:{opts.app_label}_{opts.model_name}_import_template")
        return context

    def import_template_view(self, request: HttpRequest) -> HttpResponse:
        """The spreadsheet to fill in: the import's columns, and a residence and a shop as examples."""
        if not self.has_import_permission(request):
            raise PermissionDenied
        response = HttpResponse(
            import_template_xlsx(),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        response["Content-Disposition"] = "attachment; filename=import-template.xlsx"
        return response

    def import_action(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        response = super().import_action(request, **kwargs)
        context = response.context_data if isinstance(response, TemplateResponse) else None
        result = (context or {}).get("result")
        if result is not None and not result.has_errors() and not result.has_validation_errors():
            self._household_message(request, result, dry_run=True)
        return response

    def process_result(self, result: Result, request: HttpRequest) -> HttpResponse:
        if result.has_errors() or result.has_validation_errors():
            # The data changed between the preview and the confirmation; nothing was saved.
            messages.error(request, _("Nothing was imported: the file no longer passes the checks. Import it again."))
            opts = self.model._meta
            return HttpResponseRedirect(reverse(f"admin:{opts.app_label}_{opts.model_name}_import"))
        self._household_message(request, result, dry_run=False)
        return super().process_result(result, request)

    def _household_message(self, request: HttpRequest, result: Result, *, dry_run: bool) -> None:
        created = getattr(result, "households_created", 0)
        changed = getattr(result, "households_changed", 0)
        if dry_run:
            text = _("Households: %(created)d would be created, %(changed)d would change kind.")
        else:
            text = _("Households: %(created)d created, %(changed)d changed kind.")
        messages.info(request, text % {"created": created, "changed": changed})


@register_node_inline
class CoveredGridInline(NodeInline):
    """The grids a grid-level node covers (单建 one, 联建 several)."""

    model = Grid
    fk_name = "branch"
    kinds = frozenset(GRID_LEVEL_KINDS)
    fields = ("code", "name", "kind")
    readonly_fields = fields
    verbose_name_plural = gettext_lazy("grids covered")


@register_node_inline
class LinkedHouseholdInline(NodeInline):
    """一户联十户: the households a member household looks after."""

    model = Household
    fk_name = "linked_node"
    kinds = frozenset(HOUSEHOLD_KINDS)
    fields = ("building", "room", "kind")
    readonly_fields = fields
    verbose_name_plural = gettext_lazy("linked households (一户联十户)")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Household]:
        return super().get_queryset(request).select_related("building")


@admin.register(Household)
class HouseholdAdmin(HouseholdResidentImportMixin, ScopedModelAdmin):
    list_display = ("__str__", "kind", "building", "grid", "community", "linked_node")
    # By community (the few hundred that have households, not every node of the chain); a grid is
    # found by typing its code or name in the search box (a district has ~3,000).
    list_filter = ("kind", ("building__grid__branch__parent", admin.RelatedOnlyFieldListFilter))
    search_fields = ("room", "building__code", "building__name", "building__grid__code", "building__grid__name")
    autocomplete_fields = ("building", "linked_node")
    list_select_related = ("building__grid__branch__parent", "linked_node")

    @admin.display(description=gettext_lazy("grid"), ordering="building__grid__code")
    def grid(self, household: Household) -> Grid:
        return household.building.grid

    @admin.display(description=gettext_lazy("community or village"))
    def community(self, household: Household) -> object:
        return household.building.grid.branch.parent
    inlines = [ResidentInline, MemberResidenceInline]
    resource_classes = [HouseholdExportResource]

    def render_change_form(self, request: HttpRequest, context: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        # The inline shows the residents' numbers whole: record who looked (PIPL).
        obj = kwargs.get("obj")
        if obj is not None and obj.pk:
            for resident in obj.residents.all():
                reveal_personal_data(request.user, resident, PERSONAL_FIELDS)
        return super().render_change_form(request, context, *args, **kwargs)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        if formset.model is not Resident:
            super().save_formset(request, form, formset, change)
            return
        residents = formset.save(commit=False)
        for resident in formset.deleted_objects:
            services.resident_delete(actor=request.user, resident=resident)  # type: ignore[arg-type]
        for resident in residents:
            fields = {"name": resident.name, "id_card": resident.id_card, "phone": resident.phone}
            if resident.pk:
                services.resident_update(
                    actor=request.user, resident=resident, household=form.instance, **fields  # type: ignore[arg-type]
                )
            else:
                saved = services.resident_create(actor=request.user, household=form.instance, **fields)  # type: ignore[arg-type]
                resident.pk = saved.pk


@admin.register(Resident)
class ResidentAdmin(HouseholdResidentImportMixin, ScopedModelAdmin):
    """Residents, masked in the list and in exports; written through ``grids.services``."""

    form = ResidentForm
    list_display = ("name", "household", "masked_phone", "masked_id_card")
    search_fields = ("name", "household__building__code")
    search_help_text = gettext_lazy("Search by name, building code, or a full ID-card number.")
    autocomplete_fields = ("household",)
    list_select_related = ("household__building",)
    resource_classes = [HouseholdResidentResource]
    change_list_template = "admin/grids/resident/change_list.html"

    @admin.display(description=gettext_lazy("phone"))
    def masked_phone(self, obj: Resident) -> str:
        return obj.masked_phone

    @admin.display(description=gettext_lazy("ID-card number"))
    def masked_id_card(self, obj: Resident) -> str:
        return obj.masked_id_card

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        kwargs["form"] = _form_for(ResidentForm, request)
        return super().get_form(request, obj, change, **kwargs)

    def render_change_form(self, request: HttpRequest, context: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        # The form shows the numbers whole: record who looked (PIPL).
        obj = kwargs.get("obj")
        if obj is not None and obj.pk:
            reveal_personal_data(request.user, obj, PERSONAL_FIELDS)
        return super().render_change_form(request, context, *args, **kwargs)

    def get_urls(self) -> list[Any]:
        search = path("search/", self.admin_site.admin_view(self.search_view), name="grids_resident_search")
        return [search, *super().get_urls()]

    def search_view(self, request: HttpRequest) -> HttpResponse:
        """The search box's POST: a whole ID-card number is looked up by its keyed hashes, kept in the
        session under a random token, and the list is shown for ``?found=<token>``, so the number is
        never in a URL (nor in an access log). Any other term is searched as usual (``?q=``)."""
        changelist = reverse("admin:grids_resident_changelist")
        term = request.POST.get("q", "").strip() if request.method == "POST" else ""
        if is_valid_id_card(term):
            token = secrets.token_urlsafe(12)
            found = dict(list(request.session.get(FOUND_SESSION_KEY, {}).items())[-9:])
            found[token] = id_card_hashes(term)
            request.session[FOUND_SESSION_KEY] = found
            return HttpResponseRedirect(f"{changelist}?{urlencode({FOUND_VAR: token})}")
        return HttpResponseRedirect(f"{changelist}?{urlencode({'q': term})}" if term else changelist)

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        token = request.GET.get(FOUND_VAR)
        if token is not None:
            # The admin refuses parameters that are not filters: take ours out before it looks.
            query = request.GET.copy()
            del query[FOUND_VAR]
            request.GET = query  # type: ignore[assignment]
            request.resident_found = request.session.get(FOUND_SESSION_KEY, {}).get(token, [])  # type: ignore[attr-defined]
        return super().changelist_view(request, extra_context)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Resident]:
        queryset = super().get_queryset(request)
        found = getattr(request, "resident_found", None)
        return queryset if found is None else queryset.filter(id_card_hash__in=found)

    def history_view(self, request: HttpRequest, object_id: str, extra_context: Any = None) -> HttpResponse:
        # The audit trail shows past phone numbers whole (never the ID-card number, which it does not keep).
        response = super().history_view(request, object_id, extra_context)
        obj = self.get_queryset(request).filter(pk=object_id).first()
        if obj is not None and response.status_code == 200:
            reveal_personal_data(request.user, obj, "phone")
        return response

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Resident], search_term: str
    ) -> tuple[QuerySet[Resident], bool]:
        # The number is stored encrypted: a whole, valid number is found through its keyed hash.
        term = search_term.strip()
        if is_valid_id_card(term):
            return queryset.filter(id_card_hash__in=id_card_hashes(term)), False
        return super().get_search_results(request, queryset, search_term)

    def save_model(self, request: HttpRequest, obj: Resident, form: Any, change: bool) -> None:
        data = form.cleaned_data
        fields = {key: data[key] for key in ("household", "name", "id_card", "phone")}
        if change:
            services.resident_update(actor=request.user, resident=obj, **fields)  # type: ignore[arg-type]
        else:
            saved = services.resident_create(actor=request.user, **fields)  # type: ignore[arg-type]
            obj.pk = saved.pk
            obj.id_card_hash = saved.id_card_hash

    def delete_model(self, request: HttpRequest, obj: Resident) -> None:
        services.resident_delete(actor=request.user, resident=obj)  # type: ignore[arg-type]

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Resident]) -> None:
        for resident in queryset:
            services.resident_delete(actor=request.user, resident=resident)  # type: ignore[arg-type]


@admin.register(GridAssignment)
class GridAssignmentAdmin(ScopedModelAdmin):
    list_display = ("grid", "user", "role")
    list_filter = ("role",)
    autocomplete_fields = ("grid", "user")
    list_select_related = ("grid", "user")


@admin.register(KeyPopulation)
class KeyPopulationAdmin(ScopedModelAdmin):
    """Key-population classes (重点人群) and how often their households are visited."""

    list_display = ("code", "name", "visit_interval_days", "is_active")
    list_filter = ("is_active",)
    search_fields = ("code", "name")


@admin.register(HouseholdKeyPopulation)
class HouseholdKeyPopulationAdmin(ScopedModelAdmin):
    """Which households are in which class; the visit clock of a never-visited one runs from ``since``."""

    list_display = ("household", "key_population", "since")
    list_filter = ("key_population",)
    search_fields = ("household__building__code", "household__building__name", "household__room")
    autocomplete_fields = ("household",)
    list_select_related = ("household__building", "key_population")


@admin.register(Patrol)
class PatrolAdmin(ReadOnlyAdminMixin, ScopedModelAdmin):
    """Patrols are recorded by the workers (their pages); admin reads them."""

    list_display = ("started_at", "grid", "recorded_by", "problem_found")
    list_filter = ("problem_found",)
    search_fields = ("grid__code", "grid__name", "recorded_by__username")
    list_select_related = ("grid", "recorded_by")
    date_hierarchy = "started_at"


@admin.register(Visit)
class VisitAdmin(ReadOnlyAdminMixin, ScopedModelAdmin):
    """Household visits, read-only. The list shows no notes; opening one shows them and is logged (PIPL)."""

    list_display = ("visited_at", "household", "key_population", "visited_by", "follow_up_needed")
    list_filter = ("key_population", "follow_up_needed")
    search_fields = ("household__building__code", "visited_by__username")
    list_select_related = ("household__building", "key_population", "visited_by")
    date_hierarchy = "visited_at"

    def render_change_form(self, request: HttpRequest, context: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        obj = kwargs.get("obj")
        if obj is not None and obj.pk:
            reveal_personal_data(request.user, obj, "learned,follow_up")
        return super().render_change_form(request, context, *args, **kwargs)


# ------------------------------------------------------------------------- moral points bank (issue 9)

from .models import MoralEntry, MoralRedemption  # noqa: E402


@admin.register(MoralEntry)
class MoralEntryAdmin(ReadOnlyAdminMixin, ScopedModelAdmin):
    """Read-only: the moral points bank's ledger is written by grids.moral and never edited."""

    list_display = ("on", "household", "category", "points", "reason", "granted_by")
    list_filter = ("category",)
    list_select_related = ("household__building", "granted_by")
    date_hierarchy = "on"


@admin.register(MoralRedemption)
class MoralRedemptionAdmin(ReadOnlyAdminMixin, ScopedModelAdmin):
    list_display = ("redeemed_at", "household", "item", "points", "recorded_by")
    list_select_related = ("household__building", "recorded_by")
    date_hierarchy = "redeemed_at"
