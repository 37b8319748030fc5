from django.db import migrations

from core.schedules import schedule_tasks


class Migration(migrations.Migration):

    dependencies = [
        ('campaigns', '0003_event_partitions_and_challenges'),
        ('django_celery_beat', '0019_alter_periodictasks_options'),
    ]

    operations = [
        schedule_tasks([
            ("Campaigns: event partitions and retention", "campaigns.tasks.maintain_event_partitions", "40 3 * * *"),
        ]),
    ]
