from typing import Any

from django import http
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from mptt.admin import DraggableMPTTAdmin

from governance.admin import ReadOnlyAdminMixin, ReadOnlyInline, ScopedAdminMixin, ScopedModelAdmin
from governance.history import ScopedHistoryAdmin

from . import services
from .models import Member, Organization, Wish, WishEvent

# Levels of the chain the tree indents (static/css/admin-tree.css); deeper ones indent as this one.
MAX_INDENT_LEVEL = 8


class NodeInline(ScopedAdminMixin, ReadOnlyInline):
    """What hangs on a node, shown on its page, read-only (each is edited on its own page).

    ``kinds``: the node kinds it is shown for (all when empty). Apps further down the chain
    (grids) add theirs with ``register_node_inline``: parties does not know their models.
    """

    kinds: frozenset[str] = frozenset()
    show_change_link = True


class MemberInline(NodeInline):
    model = Member
    fields = ("name", "in_service", "workplace")
    readonly_fields = fields


_node_inlines: list[type[NodeInline]] = [MemberInline]


def register_node_inline(inline: type[NodeInline]) -> type[NodeInline]:
    _node_inlines.append(inline)
    return inline


@admin.register(Organization)
class OrganizationAdmin(ScopedAdminMixin, ScopedHistoryAdmin, DraggableMPTTAdmin):
    """The chain as an indented, draggable tree. Every write goes through ``parties.services``.

    A node's page shows its members and what other apps hang on it (the grids a branch covers, the
    households a member household links); the parent is chosen by typing (a district has
    tens of thousands of nodes, too many for a list).
    """

    list_display = ("tree_actions", "indented_title", "kind", "code", "secretary")
    list_display_links = ("indented_title",)
    list_filter = ("kind",)
    search_fields = ("name", "code")
    autocomplete_fields = ("secretary", "parent")

    def get_inlines(self, request: HttpRequest, obj: Organization | None) -> list[type[NodeInline]]:
        if obj is None:
            return []
        return [inline for inline in _node_inlines if not inline.kinds or obj.kind in inline.kinds]
    list_per_page = 500

    class Media:
        css = {"all": ["css/admin-tree.css"]}
        # After a drag, back where the user was, with the outcome in view.
        js = ["js/admin-tree.js"]

    @admin.display(description=gettext_lazy("title"))
    def indented_title(self, item: Organization) -> str:
        # The indent as a class, not mptt's style attribute: the Content Security Policy allows no inline style.
        return format_html('<div class="tree-level-{}">{}</div>', min(item.level, MAX_INDENT_LEVEL), item)

    def save_model(self, request: HttpRequest, obj: Organization, form: Any, change: bool) -> None:
        fields = {f: form.cleaned_data[f] for f in form.cleaned_data if f != "parent"}
        parent = form.cleaned_data.get("parent")
        if change:
            services.organization_update(node=obj, parent=parent, **fields)
        else:
            node = services.organization_create(
                kind=fields["kind"],
                name=fields["name"],
                code=fields["code"],
                parent=parent,
                secretary_id=fields["secretary"].pk if fields.get("secretary") else None,
            )
            obj.pk = node.pk

    def delete_model(self, request: HttpRequest, obj: Organization) -> None:
        services.organization_delete(node=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Organization]) -> None:
        # Leaves first, so every delete removes a node without children.
        for node in queryset.order_by("-level"):
            services.organization_delete(node=node)

    def _move_node(self, request: HttpRequest) -> http.HttpResponse:
        position = request.POST.get("position")
        if position not in ("last-child", "left", "right"):
            self.message_user(request, _("Did not understand moving instruction."), level=messages.ERROR)
            return http.HttpResponse("FAIL, unknown instruction.")
        queryset = self.get_queryset(request)
        try:
            node = queryset.get(pk=request.POST.get("cut_item"))
            target = queryset.get(pk=request.POST.get("pasted_on"))
        except (Organization.DoesNotExist, TypeError, ValueError):
            self.message_user(request, _("Objects have disappeared, try again."), level=messages.ERROR)
            return http.HttpResponse("FAIL, invalid objects.")
        if not self.has_change_permission(request, node):
            self.message_user(request, _("No permission"), level=messages.ERROR)
            return http.HttpResponse("FAIL, no permission.")
        try:
            services.organization_move(node=node, target=target, position=position)
        except ValidationError as exc:
            message = " ".join(m for msgs in exc.message_dict.values() for m in msgs)
            self.message_user(request, message, level=messages.ERROR)
            return http.HttpResponse("FAIL, invalid move.")
        self.log_change(request, node, [{"changed": {"fields": ["parent"]}}])
        self.message_user(request, _("%s has been successfully moved.") % node)
        return http.HttpResponse("OK")


@admin.register(Member)
class MemberAdmin(ScopedModelAdmin):
    list_display = ("name", "organization", "in_service", "workplace")
    list_filter = ("in_service", "organization__kind")
    search_fields = ("name", "workplace", "organization__name")
    autocomplete_fields = ("organization", "account")
    list_select_related = ("organization",)


class WishEventInline(ReadOnlyInline):
    model = WishEvent
    fields = ("at", "action", "from_status", "to_status", "actor", "note")
    readonly_fields = fields


@admin.register(Wish)
class WishAdmin(ReadOnlyAdminMixin, ScopedModelAdmin):
    """Read-only: a wish moves only through its steps on the wishes pages (parties.wishes)."""

    list_display = ("title", "place", "status", "claimed_by", "recorded_at", "rating")
    list_filter = ("status",)
    search_fields = ("title", "place__name")
    list_select_related = ("place", "claimed_by")
    date_hierarchy = "recorded_at"
    inlines = [WishEventInline]


# ------------------------------------------------------------------------ 双报到 and points (issue 9)

from .models import (  # noqa: E402
    CoUnit,
    MemberReport,
    Pairing,
    PointsAward,
    PointsEntry,
    PointsRule,
    ServiceActivity,
    ServiceRecord,
)


class PairingInline(ScopedAdminMixin, admin.TabularInline):  # type: ignore[type-arg]
    model = Pairing
    extra = 0
    autocomplete_fields = ("community",)


@admin.register(CoUnit)
class CoUnitAdmin(ScopedModelAdmin):
    """Co-building units, their pairings with communities, and the accounts of their own staff."""

    list_display = ("name", "kind", "party_organisation", "located_in")
    list_filter = ("kind",)
    search_fields = ("name", "party_organisation")
    autocomplete_fields = ("party_node", "located_in", "accounts")
    list_select_related = ("located_in",)
    inlines = [PairingInline]


@admin.register(MemberReport)
class MemberReportAdmin(ScopedModelAdmin):
    list_display = ("member", "community", "reported_on", "confirmed_at", "confirmed_by")
    list_filter = (("confirmed_at", admin.EmptyFieldListFilter),)
    search_fields = ("member__name", "community__name")
    autocomplete_fields = ("member", "community")
    list_select_related = ("member", "community", "confirmed_by")
    readonly_fields = ("confirmed_at", "confirmed_by")


class ServiceRecordInline(ReadOnlyInline):
    model = ServiceRecord
    fields = ("member", "status", "signed_up_at", "decided_at", "decided_by")
    readonly_fields = fields


@admin.register(ServiceActivity)
class ServiceActivityAdmin(ReadOnlyAdminMixin, ScopedModelAdmin):
    """Read-only: services are posted on the community's page, their records move through parties.units."""

    list_display = ("title", "community", "kind", "held_on", "place")
    list_filter = ("kind",)
    search_fields = ("title", "community__name")
    list_select_related = ("community",)
    date_hierarchy = "held_on"
    inlines = [ServiceRecordInline]


@admin.register(PointsRule)
class PointsRuleAdmin(ScopedModelAdmin):
    """How many points a confirmed service of each kind earns (红细胞积分)."""

    list_display = ("kind", "points", "is_active")


@admin.register(PointsAward)
class PointsAwardAdmin(ReadOnlyAdminMixin, ScopedModelAdmin):
    list_display = ("member", "community", "points", "reason", "status", "proposed_by", "decided_by")
    list_filter = ("status",)
    list_select_related = ("member", "community", "proposed_by", "decided_by")


@admin.register(PointsEntry)
class PointsEntryAdmin(ReadOnlyAdminMixin, ScopedModelAdmin):
    """Read-only: a ledger is never edited; a mistake is undone by a reversal entry."""

    list_display = ("on", "member", "community", "kind", "points", "reason", "granted_by", "approved_by")
    list_filter = ("kind",)
    search_fields = ("member__name", "reason")
    list_select_related = ("member", "community", "granted_by", "approved_by")
    date_hierarchy = "on"


# ------------------------------------------------------------------------------ deliberation (五议)

from .models import Deliberation, DeliberationEvaluation, DeliberationEvent  # noqa: E402


class DeliberationEventInline(ReadOnlyInline):
    model = DeliberationEvent
    fields = ("at", "action", "from_status", "to_status", "actor", "note")
    readonly_fields = fields


class DeliberationEvaluationInline(ReadOnlyInline):
    model = DeliberationEvaluation
    fields = ("at", "resident", "satisfaction", "comment", "recorded_by")
    readonly_fields = fields

    @admin.display(description=gettext_lazy("resident's name"))
    def resident(self, obj: DeliberationEvaluation) -> str:
        return obj.masked_resident


@admin.register(Deliberation)
class DeliberationAdmin(ReadOnlyAdminMixin, ScopedModelAdmin):
    """Read-only: a matter moves only through its steps on the deliberation pages (parties.deliberations)."""

    list_display = ("title", "community", "status", "masked_proposer", "proposed_at", "deadline")
    list_filter = ("status", "source")
    search_fields = ("title", "community__name")
    list_select_related = ("community",)
    date_hierarchy = "proposed_at"
    exclude = ("proposer_name",)
    inlines = [DeliberationEventInline, DeliberationEvaluationInline]

    @admin.display(description=gettext_lazy("proposed by"))
    def masked_proposer(self, obj: Deliberation) -> str:
        return obj.masked_proposer
