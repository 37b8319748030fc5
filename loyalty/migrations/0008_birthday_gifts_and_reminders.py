
import django.db.models.deletion
import loyalty.models
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('loyalty', '0007_redeem_return'),
        ('members', '0003_membership_schedules'),
    ]

    operations = [
        migrations.AddField(
            model_name='programsettings',
            name='birthday_catch_up_days',
            field=models.PositiveSmallIntegerField(default=3, help_text='A birthday gift the job missed (an outage) is still given this many days late.'),
        ),
        migrations.AddField(
            model_name='programsettings',
            name='expiry_reminder_days',
            field=models.JSONField(blank=True, default=loyalty.models.default_expiry_reminder_days, help_text='Remind members this many days before their points expire, e.g. [30, 7]; empty for no reminders.'),
        ),
        migrations.AlterField(
            model_name='transaction',
            name='kind',
            field=models.CharField(choices=[('earn', 'Earned on an order'), ('refund', 'Taken back on a refund'), ('redeem', 'Redeemed'), ('redeem_cancel', 'Redemption cancelled'), ('redeem_return', 'Redeemed points returned (partly)'), ('adjust', 'Manual adjustment'), ('expire', 'Expired'), ('release', 'Released from pending'), ('bonus', 'Bonus'), ('gift', 'Gift (birthday)')], max_length=16),
        ),
        migrations.CreateModel(
            name='BirthdayGift',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('year', models.PositiveSmallIntegerField()),
                ('birthday', models.DateField(help_text='The day it was for (28 February for 29 February in other years).')),
                ('tier_code', models.CharField(blank=True, max_length=32)),
                ('points', models.BigIntegerField(default=0)),
                ('reward_code', models.CharField(blank=True, help_text="The tier's birthday reward; recorded, not issued yet (vouchers come with the rewards catalog).", max_length=64)),
                ('created_at', models.DateTimeField()),
                ('member', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='birthday_gifts', to='members.member')),
                ('transaction', models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, to='loyalty.transaction')),
            ],
            options={
                'indexes': [models.Index(fields=['created_at'], name='birthday_gift_recent')],
                'constraints': [models.UniqueConstraint(fields=('member', 'year'), name='birthday_gift_once_a_year')],
            },
        ),
    ]
