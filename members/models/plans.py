from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q

from core.cache import forget
from core.history import track
from core.models import Channel

from .member import Member
from .tiers import Tier

LIVE = ("trialing", "active")


@track()
class Plan(models.Model):
    """A paid membership: a one-time fee for a duration, or a monthly or yearly subscription."""

    class Kind(models.TextChoices):
        ONE_TIME = "one_time", "One-time fee for a duration"
        SUBSCRIPTION = "subscription", "Subscription"

    class Period(models.TextChoices):
        MONTH = "month", "Monthly"
        YEAR = "year", "Yearly"

    code = models.SlugField(max_length=32, unique=True)
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    period = models.CharField(max_length=8, choices=Period.choices, blank=True, help_text="Subscriptions only.")
    duration_days = models.PositiveIntegerField(null=True, blank=True, help_text="One-time plans only.")
    price = models.DecimalField(max_digits=12, decimal_places=2, validators=[MinValueValidator(Decimal("0"))])
    currency = models.CharField(max_length=3, default="EUR")
    trial_days = models.PositiveIntegerField(default=0)
    earn_multiplier = models.DecimalField(max_digits=6, decimal_places=3, default=Decimal("1"),
                                          validators=[MinValueValidator(Decimal("0"))])
    tier_floor = models.ForeignKey(Tier, null=True, blank=True, on_delete=models.PROTECT,
                                   help_text="Members on this plan are at least in this tier.")
    perks = models.JSONField(default=list, blank=True)
    active = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(Q(kind="subscription") & ~Q(period="")) | (Q(kind="one_time") & Q(duration_days__gt=0)),
                name="plan_has_a_length",
            ),
            models.CheckConstraint(condition=Q(price__gte=0), name="plan_price_nonnegative"),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        super().save(*args, **kwargs)
        forget("plans_exist")


class Subscription(models.Model):
    """A member's paid membership. The shop takes the payments; we record them and keep the dates."""

    class Status(models.TextChoices):
        TRIALING = "trialing", "Trial"
        ACTIVE = "active", "Active"
        CANCELLED = "cancelled", "Cancelled"
        EXPIRED = "expired", "Ended"

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="subscriptions")
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT)
    status = models.CharField(max_length=16, choices=Status.choices)
    started_at = models.DateTimeField()
    current_period_start = models.DateTimeField()
    current_period_end = models.DateTimeField()
    period_anchor = models.DateTimeField(
        null=True, blank=True, help_text="Start of the first paid period: every period ends on its day of the month "
                                         "(or of the year), so a membership started on the 31st does not drift.")
    cancel_at_period_end = models.BooleanField(default=False)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["member"], condition=Q(status__in=LIVE), name="one_live_subscription"),
            models.CheckConstraint(condition=Q(current_period_end__gt=models.F("current_period_start")),
                                   name="subscription_period_forward"),
        ]
        indexes = [models.Index(fields=["current_period_end"], condition=Q(status__in=LIVE),
                                name="subscription_live_by_end")]

    def __str__(self) -> str:
        return f"{self.member_id} on {self.plan_id} ({self.status})"

    @property
    def is_live(self) -> bool:
        return self.status in LIVE


class SubscriptionEvent(models.Model):
    class Kind(models.TextChoices):
        STARTED = "started", "Started"
        TRIAL_STARTED = "trial_started", "Trial started"
        RENEWED = "renewed", "Renewed"
        CANCEL_SCHEDULED = "cancel_scheduled", "Cancels at period end"
        CANCELLED = "cancelled", "Cancelled immediately"
        EXPIRED = "expired", "Ended"

    subscription = models.ForeignKey(Subscription, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    channel = models.ForeignKey(Channel, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                help_text="Who reported the payment: a payment reference is unique per channel.")
    payment_reference = models.CharField(max_length=100, blank=True)
    amount = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    refund_amount = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    period_end = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["id"]
        constraints = [
            # A payment counts once, for good: not for another member, not again after it was refunded.
            models.UniqueConstraint(fields=["channel", "payment_reference"], condition=~Q(payment_reference=""),
                                    name="payment_reference_once_per_channel"),
            models.CheckConstraint(condition=Q(payment_reference="") | Q(channel__isnull=False),
                                   name="payment_reference_has_channel"),
        ]
