
import django.db.models.deletion
import django.db.models.functions.datetime
import django.utils.timezone
import members.models.notifications
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('members', '0003_membership_schedules'),
    ]

    operations = [
        migrations.CreateModel(
            name='WebhookEndpoint',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=100)),
                ('url', models.URLField(max_length=500)),
                ('secret', models.CharField(default=members.models.notifications.new_secret, help_text="Signs every request: X-Loyalty-Signature = HMAC-SHA256 of '<timestamp>.<body>' with this secret, hex.", max_length=128)),
                ('active', models.BooleanField(default=True)),
                ('kinds', models.JSONField(blank=True, default=list, help_text='Message kinds to send, e.g. ["points_expiring", "birthday_gift"]; empty for all.')),
                ('created_at', models.DateTimeField(auto_now_add=True)),
            ],
        ),
        migrations.RemoveIndex(
            model_name='notification',
            name='notification_pending',
        ),
        migrations.AddField(
            model_name='member',
            name='language',
            field=models.CharField(choices=[('en', 'English'), ('zh-hans', 'Simplified Chinese')], default='en', help_text='The language of the messages the member receives.', max_length=8),
        ),
        migrations.AddField(
            model_name='membershipsettings',
            name='service_messages_need_consent',
            field=models.BooleanField(default=False, help_text='Send service messages (points about to expire, birthday gifts, membership reminders) only to members who gave marketing consent. Marketing always needs it.'),
        ),
        migrations.AddField(
            model_name='notification',
            name='attempts',
            field=models.PositiveSmallIntegerField(default=0),
        ),
        migrations.AddField(
            model_name='notification',
            name='channel',
            field=models.CharField(choices=[('email', 'E-mail'), ('webhook', 'Webhook to the shop'), ('none', 'No channel')], default='email', max_length=16),
        ),
        migrations.AddField(
            model_name='notification',
            name='last_error',
            field=models.CharField(blank=True, max_length=500),
        ),
        migrations.AddField(
            model_name='notification',
            name='next_attempt_at',
            field=models.DateTimeField(default=django.utils.timezone.now, help_text='Not before this time (retries back off).'),
        ),
        migrations.AddField(
            model_name='notification',
            name='target',
            field=models.CharField(default='email', max_length=32),
        ),
        migrations.AlterField(
            model_name='notification',
            name='dedupe_key',
            field=models.CharField(max_length=200),
        ),
        migrations.AlterField(
            model_name='notification',
            name='status',
            field=models.CharField(choices=[('pending', 'Pending'), ('sent', 'Sent'), ('failed', 'Failed'), ('dead', 'Dead-lettered (every try failed)'), ('skipped', 'Skipped (no consent or no channel)')], default='pending', max_length=16),
        ),
        migrations.AddField(
            model_name='member',
            name='birth_day',
            field=models.GeneratedField(db_persist=True, expression=django.db.models.functions.datetime.ExtractDay('birth_date'), output_field=models.SmallIntegerField()),
        ),
        migrations.AddField(
            model_name='member',
            name='birth_month',
            field=models.GeneratedField(db_persist=True, expression=django.db.models.functions.datetime.ExtractMonth('birth_date'), output_field=models.SmallIntegerField()),
        ),
        migrations.AddIndex(
            model_name='member',
            index=models.Index(condition=models.Q(('status', 'active')), fields=['birth_month', 'birth_day', 'id'], name='member_birthday'),
        ),
        migrations.AddField(
            model_name='notification',
            name='endpoint',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, to='members.webhookendpoint'),
        ),
        migrations.AddIndex(
            model_name='notification',
            index=models.Index(condition=models.Q(('status', 'pending')), fields=['next_attempt_at', 'id'], name='notification_due'),
        ),
        migrations.AddConstraint(
            model_name='notification',
            constraint=models.UniqueConstraint(fields=('dedupe_key', 'target'), name='notification_once_per_channel'),
        ),
    ]
