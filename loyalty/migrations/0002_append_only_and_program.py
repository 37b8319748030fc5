from django.db import migrations

from core.db import append_only


def seed_program(apps, schema_editor):
    apps.get_model("loyalty", "ProgramSettings").objects.get_or_create(pk=1)


class Migration(migrations.Migration):
    dependencies = [("loyalty", "0001_initial")]

    operations = [
        append_only("loyalty_transaction"),
        append_only("loyalty_lotmovement"),
        migrations.RunPython(seed_program, migrations.RunPython.noop),
    ]
