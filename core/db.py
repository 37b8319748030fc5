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


def _sqlite_sql(table: str) -> tuple[list[str], list[str]]:
    forward = [
        f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END;",
        f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END;",
    ]
    backward = [f"DROP TRIGGER IF EXISTS {table}_no_update;", f"DROP TRIGGER IF EXISTS {table}_no_delete;"]
    return forward, backward


def append_only(table: str) -> migrations.RunPython:
    """A migration operation that makes `table` append-only on PostgreSQL (and on SQLite for local runs)."""

    def forward(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(_append_only_sql(table)[0], params=None)
        elif schema_editor.connection.vendor == "sqlite":
            for sql in _sqlite_sql(table)[0]:
                schema_editor.execute(sql)

    def backward(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(_append_only_sql(table)[1], params=None)
        elif schema_editor.connection.vendor == "sqlite":
            for sql in _sqlite_sql(table)[1]:
                schema_editor.execute(sql)

    return migrations.RunPython(forward, backward)


def one_or_none(queryset):
    """The first row of an unordered lookup, or None. Unlike .first(), adds no ORDER BY (cheaper on hot paths
    where at most one row matches)."""
    return next(iter(queryset.order_by()[:1]), None)
