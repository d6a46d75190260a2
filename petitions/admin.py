from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST
from import_export import resources
from import_export.admin import ImportExportMixin
from import_export.formats.base_formats import CSV, XLSX

from governance.admin import ReadOnlyAdminMixin, ReadOnlyInline, ScopedModelAdmin
from grids.admin import GridAdmin
from grids.models import Grid

from . import services, workflow
from .models import (
    CalendarDay,
    Category,
    Extension,
    FollowUp,
    Petition,
    PetitionEvent,
    PetitionPhoto,
    Reminder,
    ServiceCard,
    _card_token,
)
from .selectors import reporter_phone_visible

PERSONAL_FIELDS = ("reporter_name", "reporter_phone")


@admin.register(Category)
class CategoryAdmin(ScopedModelAdmin):
    list_display = (
        "code", "name", "service_area", "default_department",
        "accept_hours", "resolve_working_days", "follow_up_working_days", "dispatch_working_days", "is_active",
    )
    list_filter = ("service_area", "is_active")
    search_fields = ("code", "name")
    list_select_related = ("default_department",)


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


class PhotoInline(ReadOnlyInline):
    model = PetitionPhoto
    fields = ("at", "kind", "uploaded_by", "view")
    readonly_fields = fields

    @admin.display(description=_("photo"))
    def view(self, photo: PetitionPhoto) -> str:
        # Through the scope-checked view, like on the pages (there is no public URL).
        url = reverse("petitions:photo", args=[photo.pk])
        return format_html('<a href="{}" target="_blank" rel="noopener">{}</a>', url, _("open"))


@admin.register(Petition)
class PetitionAdmin(ScopedModelAdmin):
    """Read-only in admin: a petition changes only through the workflow (pages, API, tasks)."""

    list_display = ("number", "title", "status", "priority", "grid", "category", "department", "registered_at")
    list_filter = ("status", "priority", "category__service_area", "department")
    search_fields = ("title",)  # and the number (get_search_results)
    list_select_related = ("grid", "category", "department")
    date_hierarchy = "registered_at"
    inlines = [EventInline, FollowUpInline, PhotoInline]
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

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = list(super().get_fields(request, obj))
        if getattr(request.user, "is_department_staff", False):
            # Department staff get the resident through the grid worker (selectors.reporter_phone_visible).
            fields = [f for f in fields if f not in PERSONAL_FIELDS]
        return fields

    def render_change_form(self, request: HttpRequest, context: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        # The page shows the resident's name and phone whole: the same rule as the pages, which logs the viewing.
        obj = kwargs.get("obj")
        if obj is not None and obj.pk:
            reporter_phone_visible(request.user, obj)
        return super().render_change_form(request, context, *args, **kwargs)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False  # the history is kept (可追溯); cancel a petition instead


@admin.register(Reminder)
class ReminderAdmin(ScopedModelAdmin):
    list_display = ("petition", "stage", "level", "round", "created_at", "sent_at", "attempts", "last_error")
    list_filter = ("level", "stage", "given_up")
    raw_id_fields = ("petition",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class CalendarDayResource(resources.ModelResource):
    """The official list as a spreadsheet: date, kind (holiday / workday), name, source, official."""

    class Meta:
        model = CalendarDay
        import_id_fields = ("date",)
        fields = ("date", "kind", "name", "source", "official")
        skip_unchanged = True


@admin.register(CalendarDay)
class CalendarDayAdmin(ImportExportMixin, ScopedModelAdmin):
    """The district's working calendar (工作日历): overrides the package; a form or a spreadsheet import."""

    list_display = ("date", "kind", "name", "source", "official")
    list_filter = ("kind", "official")
    search_fields = ("name", "source")
    date_hierarchy = "date"
    resource_classes = [CalendarDayResource]
    formats = [CSV, XLSX]
    change_list_template = "admin/petitions/calendarday/change_list.html"

    def get_urls(self) -> list[URLPattern]:
        recompute = self.admin_site.admin_view(require_POST(self.recompute_view))
        return [path("recompute/", recompute, name="petitions_calendarday_recompute"), *super().get_urls()]

    def recompute_view(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_superuser:
            messages.error(request, _("Only district administrators may recompute deadlines."))
        else:
            changed = services.petition_recompute_deadlines(actor=request.user)  # type: ignore[arg-type]
            messages.success(request, _("Deadlines recomputed for %(count)d petitions.") % {"count": changed})
        return HttpResponseRedirect(reverse("admin:petitions_calendarday_changelist"))


@admin.register(Extension)
class ExtensionAdmin(ReadOnlyAdminMixin, ScopedModelAdmin):
    """Read-only: extension requests are made and decided through the loop's steps (pages, API)."""

    list_display = ("petition", "proposed_due", "decision", "requested_by", "requested_at", "decided_by")
    list_filter = ("decision",)
    raw_id_fields = ("petition",)
    list_select_related = ("petition", "requested_by", "decided_by")


def _card_link(grid: Grid) -> str:
    return format_html(
        '<a href="{}" target="_blank" rel="noopener">{}</a>', reverse("petitions:service-card", args=[grid.code]),
        _("print the service card"),
    )


@admin.register(ServiceCard)
class ServiceCardAdmin(ScopedModelAdmin):
    """The grids' service cards: the token of each public report page; a new token retires printed cards."""

    list_display = ("grid", "created_at", "card")
    search_fields = ("grid__code", "grid__name")
    list_select_related = ("grid",)
    autocomplete_fields = ("grid",)
    fields = ("grid", "created_at")
    readonly_fields = ("created_at",)
    actions = ["new_token"]

    @admin.display(description=_("service card"))
    def card(self, card: ServiceCard) -> str:
        return _card_link(card.grid)

    @admin.action(description=_("Issue a new QR code (the printed cards stop working)"))
    def new_token(self, request: HttpRequest, queryset: QuerySet[ServiceCard]) -> None:
        for card in queryset:
            card.token = _card_token()
            card.save(update_fields=["token"])
        messages.success(request, _("New codes issued: print the cards again."))


# The grid list links each grid to its printable service card (this app owns the card).
admin.site.unregister(Grid)


@admin.register(Grid)
class GridWithCardAdmin(GridAdmin):
    # Not named "service_card": that is the grid's reverse one-to-one, which the changelist would read
    # as a field, one query per row, showing "-" for a grid without a card yet.
    list_display: Any = (*GridAdmin.list_display, "print_card")
    readonly_fields = (*GridAdmin.readonly_fields, "print_card")

    @admin.display(description=_("service card"))
    def print_card(self, grid: Grid) -> str:
        return _card_link(grid) if grid.pk else "—"
