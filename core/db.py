"""Database guards that the ORM cannot express: append-only tables."""

from django.db import connection, connections, migrations


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


def insert_linked(rows: list, *, links: dict[tuple[int, str], int] | None = None,
                  before: tuple[str, list] | None = None) -> None:
    """INSERT new model instances in one statement (one round trip), each row able to point at the new id of an
    earlier one: `links[(i, attname)] = j` sets row i's foreign key `attname` to row j's new primary key. `before`
    is one more data-modifying statement (SQL, params) run first in the same statement, e.g. the UPDATE of a
    counter row. Sets every instance's primary key and marks it saved, as Model.save() would.

    The rows are written as data-modifying CTEs: they run against the same snapshot, which is fine for inserts
    of new rows; foreign keys between them are checked at the end of the statement."""
    links = links or {}
    ctes, params = [], []
    if before is not None:
        ctes.append(f"b AS ({before[0]} RETURNING 1)")
        params += before[1]
    for i, instance in enumerate(rows):
        meta = instance._meta
        columns, values, sources = [], [], set()
        for field in meta.concrete_fields:
            if field.primary_key and (i, field.attname) not in links and getattr(instance, field.attname) is None:
                continue  # serial: the database numbers it
            columns.append(connection.ops.quote_name(field.column))
            if (i, field.attname) in links:
                j = links[(i, field.attname)]
                values.append(f"r{j}.{connection.ops.quote_name(rows[j]._meta.pk.column)}")
                sources.add(j)
                continue
            value = field.pre_save(instance, add=True)
            values.append(f"CAST(%s AS {field.db_type(connection)})")
            params.append(field.get_db_prep_save(value, connection))
        source = f" FROM {', '.join(f'r{j}' for j in sorted(sources))}" if sources else ""
        ctes.append(f"r{i} AS (INSERT INTO {connection.ops.quote_name(meta.db_table)} ({', '.join(columns)}) "
                    f"SELECT {', '.join(values)}{source} RETURNING {connection.ops.quote_name(meta.pk.column)})")
    selected = ", ".join(f"(SELECT * FROM r{i})" for i in range(len(rows)))
    with connection.cursor() as cursor:
        cursor.execute(f"WITH {', '.join(ctes)} SELECT {selected}", params)
        ids = cursor.fetchone()
    for i, instance in enumerate(rows):
        instance.pk = ids[i]
        for (k, attname), j in links.items():
            if k == i:
                setattr(instance, attname, ids[j])
        instance._state.adding, instance._state.db = False, connection.alias


class ModelColumns:
    """A model's columns under a table alias, for a hand-written statement that reads rows of several models at
    once (a LEFT JOIN gives NULLs: no instance), and the loader that makes the instances again as the ORM would:
    Django's converters applied (JSON decoded), saved state. The SQL text is built once, so a statement made of
    it stays the same text from request to request and the driver's prepared statements apply; the ORM would
    compile the same query again for every request, at several times the cost of running it."""

    def __init__(self, model, alias: str):
        qn = connection.ops.quote_name
        fields = model._meta.concrete_fields
        self.model, self.width = model, len(fields)
        self.sql = ", ".join(f"{qn(alias)}.{qn(field.column)}" for field in fields)
        self._attnames = [field.attname for field in fields]
        self._pk = fields.index(model._meta.pk)
        self._converters = []
        for i, field in enumerate(fields):
            column = field.get_col(alias)
            found = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
            if found:
                self._converters.append((i, found, column))

    def load(self, row, start: int, db: str):
        """The instance in `row` from column `start` on; None where the join found no row."""
        values = row[start:start + self.width]
        if values[self._pk] is None:
            return None
        if self._converters:
            values, using = list(values), connections[db]
            for i, converters, column in self._converters:
                for convert in converters:
                    values[i] = convert(values[i], column, using)
        return self.model.from_db(db, self._attnames, values)
