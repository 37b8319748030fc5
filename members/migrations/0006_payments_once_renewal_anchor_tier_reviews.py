import django.core.validators
import django.db.models.deletion
from decimal import Decimal
from django.db import migrations, models
from django.db.models import Count, Min


def payments_on_a_channel(apps, schema_editor):
    """Payment references become unique per channel. Older events did not record their channel: they go to the
    shop's channel when there is one only (the usual case), else to the system channel (channel unknown). A
    reference recorded more than once (another member's, or one reused after a refund) stays on its first event;
    the later ones are kept for the history, marked as duplicates, so they never match a new payment."""
    Channel = apps.get_model("core", "Channel")
    SubscriptionEvent = apps.get_model("members", "SubscriptionEvent")
    legacy = SubscriptionEvent.objects.filter(channel__isnull=True).exclude(payment_reference="")
    if not legacy.exists():
        return
    shops = list(Channel.objects.exclude(name__in=["admin", "system"]).values_list("pk", flat=True)[:2])
    channel_id = shops[0] if len(shops) == 1 else Channel.objects.get_or_create(name="system")[0].pk
    legacy.update(channel_id=channel_id)
    repeated = (SubscriptionEvent.objects.exclude(payment_reference="").values("channel_id", "payment_reference")
                .annotate(n=Count("id"), first=Min("id")).filter(n__gt=1))
    for group in repeated:
        later = SubscriptionEvent.objects.filter(channel_id=group["channel_id"],
                                                 payment_reference=group["payment_reference"], id__gt=group["first"])
        for event in later:
            suffix = f" (duplicate {event.pk})"
            event.payment_reference = event.payment_reference[:100 - len(suffix)] + suffix
            event.save(update_fields=["payment_reference"])


def anchor_periods(apps, schema_editor):
    """Periods follow the first paid period's start: the start itself, or the end of a trial."""
    Subscription = apps.get_model("members", "Subscription")
    SubscriptionEvent = apps.get_model("members", "SubscriptionEvent")
    subs = Subscription.objects.filter(plan__kind="subscription", period_anchor__isnull=True)
    for sub in subs.iterator(chunk_size=1000):
        first = SubscriptionEvent.objects.filter(subscription=sub).order_by("id").first()
        if first is not None and first.kind == "trial_started":
            renewed = SubscriptionEvent.objects.filter(subscription=sub, kind="renewed").exists()
            sub.period_anchor = first.period_end if renewed else None  # set by the first payment otherwise
        else:
            sub.period_anchor = sub.started_at
        if sub.period_anchor is not None:
            sub.save(update_fields=["period_anchor"])


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0003_fewer_indexes'),
        ('members', '0005_notification_schedule'),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='subscriptionevent',
            name='subscription_payment_once',
        ),
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
        migrations.RunPython(payments_on_a_channel, migrations.RunPython.noop),
        migrations.RunPython(anchor_periods, migrations.RunPython.noop),
    ]
