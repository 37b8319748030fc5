from django.db import migrations

from core.schedules import schedule_tasks

TASKS = [
    ("Birthday vouchers", "rewards.tasks.issue_birthday_vouchers", "20 * * * *"),
    ("Voucher expiry reminders", "rewards.tasks.send_voucher_reminders", "0 10 * * *"),
]


class Migration(migrations.Migration):
    dependencies = [
        ("rewards", "0005_birthday_vouchers_and_reminders"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        schedule_tasks(TASKS),
    ]
