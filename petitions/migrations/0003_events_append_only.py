"""On PostgreSQL, the petition timeline refuses UPDATE and DELETE: history is only ever added to."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION petitions_event_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'petition events are append-only (%% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER petitions_event_append_only
    BEFORE UPDATE OR DELETE ON petitions_petitionevent
    FOR EACH ROW EXECUTE FUNCTION petitions_event_append_only();
"""
DROP = """
DROP TRIGGER IF EXISTS petitions_event_append_only ON petitions_petitionevent;
DROP FUNCTION IF EXISTS petitions_event_append_only();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("petitions", "0002_reminders_delivery")]
    operations = [migrations.RunPython(forwards, backwards)]
