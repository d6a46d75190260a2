from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from .access import restrict
from .history import ScopedHistoryAdmin
from .models import Department, PersonalDataAccess, User


class ScopedAdminMixin:
    """Django admin with the pages' scope for staff who are not superusers.

    The change list, change forms, deletes, actions and exports all start from ``get_queryset``; the
    choices of every foreign key (selects and autocomplete alike, which read the related model's own
    admin) are narrowed to the same scope. Superusers see the whole district.
    """

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        queryset = super().get_queryset(request)  # type: ignore[misc]
        return queryset if request.user.is_superuser else restrict(request.user, queryset)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)  # type: ignore[misc]
        if field is not None and hasattr(field, "queryset") and not request.user.is_superuser:
            field.queryset = restrict(request.user, field.queryset)
        return field


class ScopedModelAdmin(ScopedAdminMixin, ScopedHistoryAdmin):
    """A model's admin: the pages' scope, and the audit trail of its changes (``governance.history``)."""


@admin.register(Department)
class DepartmentAdmin(ScopedModelAdmin):
    list_display = ("code", "name", "is_active")
    # Robot webhook addresses are https; say so rather than rely on the form's default scheme.
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_filter = ("is_active",)
    search_fields = ("code", "name")


@admin.register(User)
class UserAdmin(ScopedAdminMixin, ScopedHistoryAdmin, BaseUserAdmin):  # type: ignore[misc]
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
class PersonalDataAccessAdmin(ScopedModelAdmin):
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
