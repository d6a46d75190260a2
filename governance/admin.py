from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db import models
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from .models import Department, PersonalDataAccess, User


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "is_active")
    # Robot webhook addresses are https; say so rather than rely on the form's default scheme.
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_filter = ("is_active",)
    search_fields = ("code", "name")


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("username", "get_full_name", "role", "scope_node", "department", "is_active")
    list_filter = ("role", "is_active", "is_staff", "department")
    list_select_related = ("scope_node", "department")
    autocomplete_fields = ("scope_node", "department")
    fieldsets = (
        *BaseUserAdmin.fieldsets,  # type: ignore[misc]
        (_("Scope"), {"fields": ("role", "scope_node", "department")}),
    )
    add_fieldsets = (
        *BaseUserAdmin.add_fieldsets,
        (_("Scope"), {"fields": ("role", "scope_node", "department")}),
    )


@admin.register(PersonalDataAccess)
class PersonalDataAccessAdmin(admin.ModelAdmin):
    """Read-only: the log of who saw residents' personal data whole."""

    list_display = ("at", "user", "object_type", "object_id", "fields")
    list_filter = ("object_type",)
    search_fields = ("user__username",)
    list_select_related = ("user",)
    date_hierarchy = "at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
