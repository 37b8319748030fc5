from django.db import migrations

from core.schedules import schedule_tasks

TASKS = [
    ("Birthday gifts", "loyalty.tasks.give_birthday_gifts", "10 * * * *"),
    ("Points expiry reminders", "loyalty.tasks.send_expiry_reminders", "0 8 * * *"),
]


class Migration(migrations.Migration):
    dependencies = [
        ("loyalty", "0008_birthday_gifts_and_reminders"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        schedule_tasks(TASKS),
    ]
