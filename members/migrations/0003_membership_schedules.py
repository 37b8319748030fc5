from django.db import migrations

from core.schedules import schedule_tasks

TASKS = [
    ("Evaluate tiers (downgrades, warnings)", "members.tasks.evaluate_tiers", "30 2 * * *"),
    ("End paid memberships past their period", "members.tasks.expire_subscriptions", "5 * * * *"),
    ("Paid membership reminders", "members.tasks.send_membership_reminders", "0 9 * * *"),
]


def settings_row(apps, schema_editor):
    apps.get_model("members", "MembershipSettings").objects.get_or_create(pk=1)


class Migration(migrations.Migration):
    dependencies = [
        ("members", "0002_tiers_and_plans"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        schedule_tasks(TASKS),
        migrations.RunPython(settings_row, migrations.RunPython.noop),
    ]
