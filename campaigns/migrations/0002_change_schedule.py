from django.db import migrations

from core.schedules import schedule_tasks


class Migration(migrations.Migration):

    dependencies = [
        ('campaigns', '0001_initial'),
        ('django_celery_beat', '0019_alter_periodictasks_options'),
    ]

    operations = [
        schedule_tasks([
            ("Campaigns: stage and tier changes", "campaigns.tasks.evaluate_changes", "every 5 minutes"),
        ]),
    ]
