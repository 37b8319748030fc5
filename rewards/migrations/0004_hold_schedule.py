from django.db import migrations

from core.schedules import schedule_tasks

TASKS = [
    ("Release lapsed checkout holds", "rewards.tasks.release_lapsed_holds", "every 1 minutes"),
]


def rules_row(apps, schema_editor):
    apps.get_model("rewards", "RedemptionRules").objects.get_or_create(pk=1)


class Migration(migrations.Migration):
    dependencies = [
        ("rewards", "0003_voucher_permission"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        schedule_tasks(TASKS),
        migrations.RunPython(rules_row, migrations.RunPython.noop),
    ]
