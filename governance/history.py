"""The audit trail of admin changes (django-simple-history): scoped like what it records, read-only.

Each tracked model says ``history = HistoricalRecords(...)``; its historical rows reach the chain
the same way it does (the historical model keeps the same relations), so the historical model gets
the tracked model's ``scope`` here, once, when the apps are ready. Nobody edits the trail: the
admin shows it and offers no revert (``SIMPLE_HISTORY_REVERT_DISABLED``), and on PostgreSQL a
trigger refuses UPDATE and DELETE on every historical table.
"""

from typing import Any

from django.apps import apps
from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Model
from django.http import Http404, HttpRequest, HttpResponse
from simple_history.admin import SimpleHistoryAdmin

from .access import SCOPED_APPS, scope_of


def tracked_models() -> list[type[Model]]:
    return [
        model
        for model in apps.get_models()
        if model._meta.app_label in SCOPED_APPS and hasattr(model._meta, "simple_history_manager_attribute")
    ]


def scope_historical_models() -> None:
    """Give each historical model its tracked model's scope (governance.E001 then holds for both)."""
    for model in tracked_models():
        manager = getattr(model, model._meta.simple_history_manager_attribute)  # type: ignore[attr-defined]
        manager.model.scope = scope_of(model)


class ScopedHistoryAdmin(SimpleHistoryAdmin):
    """The change history of an object, to staff who may see that object: the same scope as its
    change form (``get_queryset``). simple-history would otherwise show the history of an object
    outside the scope from its last historical row. A model that is not tracked keeps Django's own
    history page (the admin log)."""

    def __init__(self, model: type[Model], admin_site: Any) -> None:
        super().__init__(model, admin_site)
        self.tracked = hasattr(model._meta, "simple_history_manager_attribute")
        if not self.tracked:
            self.object_history_template = None

    def _in_scope(self, request: HttpRequest, object_id: str) -> bool:
        if request.user.is_superuser:
            return True
        try:
            return self.get_queryset(request).filter(pk=object_id).exists()
        except (ValueError, ValidationError):
            return False

    def history_view(self, request: HttpRequest, object_id: str, extra_context: Any = None) -> HttpResponse:
        if not self.tracked:
            return admin.ModelAdmin.history_view(self, request, object_id, extra_context)
        if not self._in_scope(request, object_id):
            raise Http404
        return super().history_view(request, object_id, extra_context)

    def history_form_view(
        self, request: HttpRequest, object_id: str, version_id: str, extra_context: Any = None
    ) -> HttpResponse:
        if not self.tracked or not self._in_scope(request, object_id):
            raise Http404
        # SIMPLE_HISTORY_REVERT_DISABLED only hides the button: a POST here would still revert.
        if request.method not in ("GET", "HEAD"):
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)


__all__ = ["ScopedHistoryAdmin", "scope_historical_models", "tracked_models"]


# PostgreSQL: the historical tables refuse UPDATE and DELETE, as the petition timeline does.
_FUNCTION = """
CREATE OR REPLACE FUNCTION wangge_history_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the audit trail is append-only (%% refused on %%)', TG_OP, TG_TABLE_NAME;
END;
$$ LANGUAGE plpgsql;
"""


def append_only(*tables: str) -> Any:
    """A migration operation making ``tables`` append-only on PostgreSQL (nothing elsewhere)."""
    from django.db import migrations

    def forwards(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        schema_editor.execute(_FUNCTION)
        for table in tables:
            schema_editor.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION wangge_history_append_only()"
            )

    def backwards(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        for table in tables:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")

    return migrations.RunPython(forwards, backwards)
