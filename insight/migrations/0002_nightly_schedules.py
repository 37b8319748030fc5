from django.db import migrations

from core.schedules import schedule_tasks


class Migration(migrations.Migration):

    dependencies = [
        ('insight', '0001_initial'),
        ('django_celery_beat', '0019_alter_periodictasks_options'),
    ]

    operations = [
        schedule_tasks([
            ("Insight: segments", "insight.tasks.compute_segments", "0 2 * * *"),
            ("Insight: CLV model fit", "insight.tasks.fit_clv_model", "20 2 * * *"),
            ("Insight: metric snapshots", "insight.tasks.take_metric_snapshots", "30 2 * * *"),
        ]),
    ]
