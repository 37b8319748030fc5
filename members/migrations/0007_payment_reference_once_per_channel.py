from django.db import migrations, models


class Migration(migrations.Migration):
    """Apart from 0006, which fills the channels in: PostgreSQL does not alter a table with pending trigger events
    in the transaction that updated it."""

    dependencies = [
        ("members", "0006_payments_once_renewal_anchor_tier_reviews"),
    ]

    operations = [
        migrations.AddConstraint(
            model_name='subscriptionevent',
            constraint=models.UniqueConstraint(condition=models.Q(('payment_reference', ''), _negated=True), fields=('channel', 'payment_reference'), name='payment_reference_once_per_channel'),
        ),
        migrations.AddConstraint(
            model_name='subscriptionevent',
            constraint=models.CheckConstraint(condition=models.Q(('payment_reference', ''), ('channel__isnull', False), _connector='OR'), name='payment_reference_has_channel'),
        ),
    ]
