from typing import Any

from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from import_export.admin import ImportExportMixin

from .models import Building, Grid, GridAssignment, Household, Resident


class GridAssignmentInline(admin.TabularInline):
    model = GridAssignment
    extra = 0
    autocomplete_fields = ("user",)


@admin.register(Grid)
class GridAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "kind", "branch", "household_count", "sizing")
    list_filter = ("kind",)
    search_fields = ("code", "name", "branch__name")
    autocomplete_fields = ("branch",)
    list_select_related = ("branch",)
    inlines = [GridAssignmentInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Grid]:
        return super().get_queryset(request).annotate(households_n=Count("buildings__households"))

    @admin.display(description=_("households"), ordering="households_n")
    def household_count(self, obj: Any) -> int:
        return int(obj.households_n)

    @admin.display(description=_("sizing"))
    def sizing(self, obj: Any) -> str:
        warning = obj.sizing_warning(obj.households_n)
        return f"⚠ {warning}" if warning else "✓"


@admin.register(Building)
class BuildingAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "grid")
    search_fields = ("code", "name", "grid__name")
    autocomplete_fields = ("grid",)
    list_select_related = ("grid",)


class ResidentInline(admin.TabularInline):
    model = Resident
    extra = 0
    fields = ("name", "id_card", "phone")


@admin.register(Household)
class HouseholdAdmin(ImportExportMixin, admin.ModelAdmin):
    list_display = ("__str__", "kind", "building", "linked_node")
    list_filter = ("kind",)
    search_fields = ("room", "building__code", "building__name")
    autocomplete_fields = ("building", "linked_node")
    list_select_related = ("building", "linked_node")
    inlines = [ResidentInline]


@admin.register(Resident)
class ResidentAdmin(ImportExportMixin, admin.ModelAdmin):
    list_display = ("name", "household", "masked_phone", "masked_id_card")
    search_fields = ("name", "household__building__code")
    autocomplete_fields = ("household",)
    list_select_related = ("household__building",)

    @admin.display(description=_("phone"))
    def masked_phone(self, obj: Resident) -> str:
        return obj.masked_phone

    @admin.display(description=_("ID-card number"))
    def masked_id_card(self, obj: Resident) -> str:
        return obj.masked_id_card


@admin.register(GridAssignment)
class GridAssignmentAdmin(admin.ModelAdmin):
    list_display = ("grid", "user", "role")
    list_filter = ("role",)
    autocomplete_fields = ("grid", "user")
    list_select_related = ("grid", "user")
