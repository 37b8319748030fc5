import django.core.validators
import django.db.models.deletion
from decimal import Decimal
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0003_fewer_indexes'),
        ('members', '0005_notification_schedule'),
    ]

    operations = [
        migrations.AddField(
            model_name='membershipsettings',
            name='renewal_grace_days',
            field=models.PositiveIntegerField(default=3, help_text="A subscription's renewal payment may arrive this many days after the period's end and still continue the membership (on its usual day); it ends, and the member is told, only after them. Benefits pause from the period's end until the payment."),
        ),
        migrations.AddField(
            model_name='subscription',
            name='period_anchor',
            field=models.DateTimeField(blank=True, help_text='Start of the first paid period: every period ends on its day of the month (or of the year), so a membership started on the 31st does not drift.', null=True),
        ),
        migrations.AddField(
            model_name='subscriptionevent',
            name='channel',
            field=models.ForeignKey(blank=True, help_text='Who reported the payment: a payment reference is unique per channel.', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='core.channel'),
        ),
        migrations.AlterField(
            model_name='membershipsettings',
            name='window',
            field=models.CharField(choices=[('lifetime', 'Lifetime'), ('rolling_12_months', 'Rolling 12 months'), ('calendar_year', 'Calendar year')], default='rolling_12_months', help_text='Where activity counts. Calendar year: what a member qualifies for in a year they keep through the whole next year (qualified on 20 December 2025, kept until 31 December 2026).', max_length=32),
        ),
        migrations.AlterField(
            model_name='tier',
            name='threshold',
            field=models.DecimalField(decimal_places=2, default=Decimal('0'), help_text='Qualifying points or spend (per the membership settings) to enter and to keep. A change reaches existing members at the next nightly evaluation: those who now qualify move up; those below a raised threshold are warned and keep the tier through the grace period.', max_digits=14, validators=[django.core.validators.MinValueValidator(Decimal('0'))]),
        ),
        migrations.AlterField(
            model_name='tierchange',
            name='reason',
            field=models.CharField(choices=[('upgrade', 'Qualified'), ('downgrade', 'Below threshold after the grace period'), ('pin', 'Pinned by staff'), ('plan', "Paid membership's tier floor"), ('taken_back', 'Refunded purchase or cancelled plan taken back')], max_length=16),
        ),
    ]
