from django.db import migrations


def schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every_minute, _ = IntervalSchedule.objects.get_or_create(every=1, period="minutes")
    PeriodicTask.objects.get_or_create(name="Release lapsed checkout holds",
                                       defaults={"task": "rewards.tasks.release_lapsed_holds", "interval": every_minute})
    apps.get_model("rewards", "RedemptionRules").objects.get_or_create(pk=1)


def unschedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(task="rewards.tasks.release_lapsed_holds").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("rewards", "0003_voucher_permission"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(schedule, unschedule)]
