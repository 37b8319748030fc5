from django.db import migrations, models


class Migration(migrations.Migration):
    """After 0007 filled the channels in (and apart from it, for the reason it gives)."""

    dependencies = [
        ("members", "0007_payment_channels_and_anchors_filled_in"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="subscriptionevent",
            name="subscription_payment_once",
        ),
        migrations.AddConstraint(
            model_name='subscriptionevent',
            constraint=models.UniqueConstraint(condition=models.Q(('payment_reference', ''), _negated=True), fields=('channel', 'payment_reference'), name='payment_reference_once_per_channel'),
        ),
        migrations.AddConstraint(
            model_name='subscriptionevent',
            constraint=models.CheckConstraint(condition=models.Q(('payment_reference', ''), ('channel__isnull', False), _connector='OR'), name='payment_reference_has_channel'),
        ),
    ]
