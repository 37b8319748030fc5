from django.db import migrations

TASKS = [
    ("Evaluate tiers (downgrades, warnings)", "members.tasks.evaluate_tiers", "30 2 * * *"),
    ("End paid memberships past their period", "members.tasks.expire_subscriptions", "5 * * * *"),
    ("Paid membership reminders", "members.tasks.send_membership_reminders", "0 9 * * *"),
]


def schedule(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    apps.get_model("members", "MembershipSettings").objects.get_or_create(pk=1)
    for name, task, cron in TASKS:
        minute, hour, day, month, weekday = cron.split()
        crontab, _ = CrontabSchedule.objects.get_or_create(minute=minute, hour=hour, day_of_month=day,
                                                           month_of_year=month, day_of_week=weekday, timezone="UTC")
        PeriodicTask.objects.get_or_create(name=name, defaults={"task": task, "crontab": crontab})


def unschedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(task__in=[t for _, t, _ in TASKS]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("members", "0002_tiers_and_plans"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(schedule, unschedule)]
