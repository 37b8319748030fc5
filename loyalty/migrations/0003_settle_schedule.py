from django.db import migrations

from core.schedules import schedule_tasks

TASKS = [
    ("Expire due points and release pending points", "loyalty.tasks.settle_due_points", "every 15 minutes"),
]


class Migration(migrations.Migration):
    dependencies = [
        ("loyalty", "0002_append_only_and_program"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        schedule_tasks(TASKS),
    ]
