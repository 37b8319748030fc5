"""Database guards that the ORM cannot express: append-only tables."""

from django.db import migrations


def _append_only_sql(table: str) -> tuple[str, str]:
    forward = f"""
        CREATE OR REPLACE FUNCTION refuse_change_{table}() RETURNS trigger AS $$
        BEGIN
            RAISE EXCEPTION '{table} is append-only: % refused', TG_OP USING ERRCODE = 'restrict_violation';
        END;
        $$ LANGUAGE plpgsql;
        CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
            FOR EACH ROW EXECUTE FUNCTION refuse_change_{table}();
    """
    backward = f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}; DROP FUNCTION IF EXISTS refuse_change_{table}();"
    return forward, backward


def append_only(table: str) -> migrations.RunPython:
    """A migration operation that makes `table` append-only (PostgreSQL, the only database the project runs on)."""

    def forward(apps, schema_editor):
        schema_editor.execute(_append_only_sql(table)[0], params=None)

    def backward(apps, schema_editor):
        schema_editor.execute(_append_only_sql(table)[1], params=None)

    return migrations.RunPython(forward, backward)


def one_or_none(queryset):
    """The first row of an unordered lookup, or None. Unlike .first(), adds no ORDER BY (cheaper on hot paths
    where at most one row matches)."""
    return next(iter(queryset.order_by()[:1]), None)
