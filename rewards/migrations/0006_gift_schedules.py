from django.db import migrations

TASKS = [
    ("Birthday vouchers", "rewards.tasks.issue_birthday_vouchers", "20 * * * *"),
    ("Voucher expiry reminders", "rewards.tasks.send_voucher_reminders", "0 10 * * *"),
]


def schedule(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for name, task, cron in TASKS:
        minute, hour, day, month, weekday = cron.split()
        crontab, _ = CrontabSchedule.objects.get_or_create(minute=minute, hour=hour, day_of_month=day,
                                                           month_of_year=month, day_of_week=weekday, timezone="UTC")
        PeriodicTask.objects.get_or_create(name=name, defaults={"task": task, "crontab": crontab})


def unschedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(task__in=[t for _, t, _ in TASKS]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("rewards", "0005_birthday_vouchers_and_reminders"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(schedule, unschedule)]
