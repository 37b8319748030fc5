from django.db import migrations

from core.schedules import schedule_tasks

TASKS = [
    ("Deliver pending notifications (e-mail, webhooks)", "members.tasks.deliver_pending_notifications",
     "every 1 minutes"),
]


class Migration(migrations.Migration):
    dependencies = [
        ("members", "0004_notification_channels_language_birthdays"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        schedule_tasks(TASKS),
    ]
