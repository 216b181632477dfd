"""On PostgreSQL, a trigger refuses UPDATE and DELETE of a follow-up action's history and
evidence, whatever the client (as for the audit trail, audit migration 0002). Other databases
rely on the models' own refusals."""

from django.db import migrations

TABLES = ("results_actionchange", "results_actionevidence")

CREATE = """
CREATE FUNCTION followup_append_only() RETURNS trigger AS $$
BEGIN
    -- Concatenated, not a RAISE placeholder: the driver would read one as its own.
    RAISE EXCEPTION USING MESSAGE = 'follow-up history and evidence are append-only: ' || TG_OP || ' refused';
END;
$$ LANGUAGE plpgsql;
""" + "".join(
    f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}\n"
    "    FOR EACH ROW EXECUTE FUNCTION followup_append_only();\n"
    for table in TABLES
)
DROP = "".join(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};\n" for table in TABLES) + (
    "DROP FUNCTION IF EXISTS followup_append_only();\n"
)


def _on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("results", "0006_followup_actions")]

    operations = [migrations.RunPython(_on_postgresql(CREATE), _on_postgresql(DROP))]
