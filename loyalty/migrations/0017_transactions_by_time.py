from django.db import migrations

# The dashboard reads the points of the hours since the nightly snapshot (created_at >= last midnight). The ledger
# is append-only and written in time order, so a BRIN index on created_at finds them for a few pages of index and
# costs an insert next to nothing (a B-tree would cost every insert). PostgreSQL only.


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("CREATE INDEX IF NOT EXISTS transaction_by_time ON loyalty_transaction "
                              "USING brin (created_at)")


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS transaction_by_time")


class Migration(migrations.Migration):
    dependencies = [("loyalty", "0016_open_lots_expire_at_end_of_local_day")]

    operations = [migrations.RunPython(forward, backward)]
