from django.db import migrations
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
    """Data only, in a migration of its own: PostgreSQL does not alter a table (nor build its indexes) with pending
    trigger events in the transaction that updated it."""

    dependencies = [
        ("members", "0006_payment_channel_renewal_anchor"),
    ]

    operations = [
        migrations.RunPython(payments_on_a_channel, migrations.RunPython.noop),
        migrations.RunPython(anchor_periods, migrations.RunPython.noop),
    ]
