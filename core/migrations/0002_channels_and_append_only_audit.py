from django.db import migrations

from core.db import append_only


def seed_channels(apps, schema_editor):
    Channel = apps.get_model("core", "Channel")
    for name, description in [("admin", "Staff in the admin"), ("system", "Our own background jobs")]:
        Channel.objects.get_or_create(name=name, defaults={"description": description})


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]

    operations = [
        migrations.RunPython(seed_channels, migrations.RunPython.noop),
        append_only("core_auditlog"),
    ]
