from typing import Any

from django import forms
from django.apps import apps
from django.contrib import admin
from django.contrib.admin.views.main import ChangeList
from django.contrib.auth.admin import GroupAdmin as BaseGroupAdmin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import translation
from django.utils.html import format_html
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from .access import restrict
from .history import ScopedHistoryAdmin
from .models import Department, PersonalDataAccess, User


def _model(label: str) -> type[models.Model] | None:
    try:
        return apps.get_model(label)
    except (LookupError, ValueError):
        return None


class _ObjectTypeFilter(admin.SimpleListFilter):
    """By kind of object, named as people say it (住户, 诉求), not by its model label."""

    title = _("object type")
    parameter_name = "object_type"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        labels = PersonalDataAccess.objects.order_by().values_list("object_type", flat=True).distinct()
        return [(label, _type_name(label)) for label in sorted(labels)]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.filter(object_type=self.value()) if self.value() else queryset


# The pages outside the admin on which personal data is shown whole, as people name them.
PAGE_NAMES = {
    "petitions:detail": _("petition page"),
    "api-petition-detail": _("API: a petition"),
    "api-petition-list": _("API: the petition list"),
}
ADMIN_ACTIONS = {
    "change": _("change page"),
    "changelist": _("list"),
    "history": _("history"),
    "delete": _("delete page"),
}


def page_label(view_name: str) -> str:
    """The screen a view name stands for, in the user's language ("后台：居民 修改页")."""
    if view_name in PAGE_NAMES:
        return str(PAGE_NAMES[view_name])
    if view_name.startswith("admin:"):
        prefix, _sep, action = view_name.removeprefix("admin:").rpartition("_")
        for model in apps.get_models():
            if f"{model._meta.app_label}_{model._meta.model_name}" == prefix:
                return str(_("Admin: %(model)s, %(action)s")) % {
                    "model": model._meta.verbose_name,
                    "action": ADMIN_ACTIONS.get(action, action),
                }
    return view_name


def _type_name(label: str) -> str:
    model = _model(label)
    return str(model._meta.verbose_name) if model else label


class _AccessChangeList(ChangeList):
    """The log's page names whose data was seen (a resident's name, a petition's number and title),
    one query per kind of object on the page rather than one per row."""

    def get_results(self, request: HttpRequest) -> None:
        super().get_results(request)
        wanted: dict[str, set[int]] = {}
        for entry in self.result_list:
            wanted.setdefault(entry.object_type, set()).add(entry.object_id)
        found: dict[tuple[str, int], str] = {}
        for label, ids in wanted.items():
            model = _model(label)
            if model is not None:
                found.update({(label, pk): str(obj) for pk, obj in model._default_manager.in_bulk(ids).items()})
        for entry in self.result_list:
            entry.subject_label = found.get((entry.object_type, entry.object_id), "")


def _history_msgids(models_: list[type[models.Model]]) -> dict[str, str]:
    """English form labels ("Name") → the fields' own msgids ("name") for these models."""
    lookup: dict[str, str] = {}
    with translation.override(None):
        for model in models_:
            for field in model._meta.get_fields():
                verbose = getattr(field, "verbose_name", None)
                if verbose:
                    lookup[capfirst(str(verbose))] = str(verbose)
    return lookup


class ReadableHistoryMixin:
    """History reads "已修改 名称" rather than "已修改Name".

    Django stores a change's field labels in English, capitalised ("Name"), and translates them when
    shown; our catalogue has the fields' own msgids ("name"), so store those instead.
    """

    def construct_change_message(
        self, request: HttpRequest, form: Any, formsets: Any, add: bool = False
    ) -> list[dict[str, Any]]:
        message = super().construct_change_message(request, form, formsets, add)  # type: ignore[misc]
        lookup = _history_msgids([form._meta.model, *(formset.model for formset in formsets or ())])
        for entry in message:
            for sub in entry.values():
                if isinstance(sub, dict) and "fields" in sub:
                    sub["fields"] = [lookup.get(label, label) for label in sub["fields"]]
        return message  # type: ignore[no-any-return]


# A model's four standard permissions, read in the user's language (their stored names are English).
_PERMISSION_ACTIONS = {
    "add": _("Can add %(model)s"),
    "change": _("Can change %(model)s"),
    "delete": _("Can delete %(model)s"),
    "view": _("Can view %(model)s"),
}


def permission_label(permission: Permission) -> str:
    """“住户管理 | 可以查看 住户” for ``grids.view_household``; a custom permission by its name."""
    model = permission.content_type.model_class()
    if model is None:
        return permission.name
    action, _sep, model_name = permission.codename.partition("_")
    template = _PERMISSION_ACTIONS.get(action) if model_name == model._meta.model_name else None
    text = template % {"model": model._meta.verbose_name} if template else translation.gettext(permission.name)
    return f"{apps.get_app_config(model._meta.app_label).verbose_name} | {text}"


class PermissionChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return permission_label(obj)


class ReadablePermissionsMixin:
    """The permission widgets (users', groups') list permissions in the user's language."""

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest | None = None, **kwargs: Any) -> Any:
        if db_field.related_model is Permission:
            kwargs["form_class"] = PermissionChoiceField
            kwargs.setdefault("queryset", Permission.objects.select_related("content_type"))
        return super().formfield_for_manytomany(db_field, request, **kwargs)  # type: ignore[misc]


class ScopedAdminMixin(ReadableHistoryMixin):
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


class ReadOnlyAdminMixin:
    """Shown in admin, never added, changed or deleted there: the record moves through its services
    (a petition, a wish, an extension) or is a log nobody may edit."""

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline):  # type: ignore[type-arg]
    """What hangs on a record, listed on its page, read-only (a timeline, follow-ups, members)."""

    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Department)
class DepartmentAdmin(ScopedModelAdmin):
    list_display = ("code", "name", "is_active")
    # Robot webhook addresses are https; say so rather than rely on the form's default scheme.
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_filter = ("is_active",)
    search_fields = ("code", "name")


@admin.register(User)
class UserAdmin(ReadablePermissionsMixin, ScopedAdminMixin, ScopedHistoryAdmin, BaseUserAdmin):  # type: ignore[misc]
    list_display = ("username", "full_name", "role", "scope_node", "department", "is_active")
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

    @admin.display(description=_("name"), ordering="last_name")
    def full_name(self, user: User) -> str:
        return user.get_full_name()


admin.site.unregister(Group)


@admin.register(Group)
class GroupAdmin(ReadablePermissionsMixin, ReadableHistoryMixin, BaseGroupAdmin):
    pass


@admin.register(PersonalDataAccess)
class PersonalDataAccessAdmin(ReadOnlyAdminMixin, ScopedModelAdmin):
    """Read-only: the log of who saw residents' personal data whole."""

    list_display = ("at", "user", "what", "subject", "which_fields", "where")
    list_filter = (_ObjectTypeFilter,)
    search_fields = ("user__username",)
    list_select_related = ("user",)
    date_hierarchy = "at"

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return _AccessChangeList

    @admin.display(description=_("object type"), ordering="object_type")
    def what(self, entry: PersonalDataAccess) -> str:
        return _type_name(entry.object_type)

    @admin.display(description=_("whose data"))
    def subject(self, entry: PersonalDataAccess) -> str:
        return getattr(entry, "subject_label", "") or f"#{entry.object_id}"

    @admin.display(description=_("page"), ordering="page")
    def where(self, entry: PersonalDataAccess) -> str:
        if not entry.page:
            return "—"
        return format_html("{}<br><small>{}</small>", page_label(entry.view_name), entry.page)

    @admin.display(description=_("fields"))
    def which_fields(self, entry: PersonalDataAccess) -> str:
        model = _model(entry.object_type)
        labels = []
        for name in entry.fields.split(","):
            try:
                labels.append(str(getattr(model._meta.get_field(name), "verbose_name", name)) if model else name)
            except FieldDoesNotExist:
                labels.append(name)
        return "、".join(labels)

