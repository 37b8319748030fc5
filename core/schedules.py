"""Periodic tasks kept in the database (django-celery-beat), created by the apps' migrations so that staff
see and change them in the admin."""

from django.db import migrations


def schedule_tasks(tasks: list[tuple[str, str, str]]) -> migrations.RunPython:
    """A migration operation creating (name, task, when) periodic tasks; `when` is a crontab line
    ("30 2 * * *") or "every N minutes". Existing ones (staff may have changed them) are left as they are."""

    def forward(apps, schema_editor):
        CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
        IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
        PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
        for name, task, when in tasks:
            if when.startswith("every "):
                every = int(when.split()[1])
                interval, _ = IntervalSchedule.objects.get_or_create(every=every, period="minutes")
                PeriodicTask.objects.get_or_create(name=name, defaults={"task": task, "interval": interval})
                continue
            minute, hour, day, month, weekday = when.split()
            crontab, _ = CrontabSchedule.objects.get_or_create(minute=minute, hour=hour, day_of_month=day,
                                                               month_of_year=month, day_of_week=weekday,
                                                               timezone="UTC")
            PeriodicTask.objects.get_or_create(name=name, defaults={"task": task, "crontab": crontab})

    def backward(apps, schema_editor):
        apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(
            task__in=[task for _, task, _ in tasks]).delete()

    return migrations.RunPython(forward, backward)
