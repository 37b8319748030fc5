from django.db import migrations

from core.schedules import schedule_tasks


class Migration(migrations.Migration):

    dependencies = [
        ("core", "0009_drop_idempotency_created_at_index"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        schedule_tasks([
            ("Forget old idempotency answers", "core.tasks.purge_idempotency_records", "50 3 * * *"),
        ]),
    ]
