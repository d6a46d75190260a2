from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from governance.admin import ScopedModelAdmin

from . import workflow
from .models import Category, FollowUp, Petition, PetitionEvent, Reminder


@admin.register(Category)
class CategoryAdmin(ScopedModelAdmin):
    list_display = (
        "code", "name", "service_area", "default_department",
        "accept_hours", "resolve_working_days", "follow_up_working_days", "dispatch_working_days", "is_active",
    )
    list_filter = ("service_area", "is_active")
    search_fields = ("code", "name")
    list_select_related = ("default_department",)


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class EventInline(ReadOnlyInline):
    model = PetitionEvent
    fields = ("at", "step", "from_status", "to_status", "actor", "department", "note")
    readonly_fields = fields

    @admin.display(description=_("action"))
    def step(self, event: PetitionEvent) -> str:
        return str(workflow.action_label(event.action))


class FollowUpInline(ReadOnlyInline):
    model = FollowUp
    fields = ("at", "reached", "solved", "satisfaction", "by", "note")
    readonly_fields = fields


@admin.register(Petition)
class PetitionAdmin(ScopedModelAdmin):
    """Read-only in admin: a petition changes only through the workflow (pages, API, tasks)."""

    list_display = ("number", "title", "status", "priority", "grid", "category", "department", "registered_at")
    list_filter = ("status", "priority", "category__service_area", "department")
    search_fields = ("title",)  # and the number (get_search_results)
    list_select_related = ("grid", "category", "department")
    date_hierarchy = "registered_at"
    inlines = [EventInline, FollowUpInline]
    show_full_result_count = False

    @admin.display(description=_("number"), ordering="id")
    def number(self, petition: Petition) -> str:
        return petition.number

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Petition], search_term: str
    ) -> tuple[QuerySet[Petition], bool]:
        by_number = Petition.number_q(search_term)
        if by_number is not None:
            return queryset.filter(by_number), False
        return super().get_search_results(request, queryset, search_term)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False  # the history is kept (可追溯); cancel a petition instead


@admin.register(Reminder)
class ReminderAdmin(ScopedModelAdmin):
    list_display = ("petition", "stage", "level", "round", "created_at", "sent_at")
    list_filter = ("level", "stage")
    raw_id_fields = ("petition",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
