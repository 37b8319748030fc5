from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

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
        ONE_TIME = "one_time", _("One-time fee for a duration")
        SUBSCRIPTION = "subscription", _("Subscription")

    class Period(models.TextChoices):
        MONTH = "month", _("Monthly")
        YEAR = "year", _("Yearly")

    code = models.SlugField(max_length=32, unique=True, verbose_name=_("code"))
    name = models.CharField(max_length=100, verbose_name=_("name"))
    kind = models.CharField(max_length=16, choices=Kind.choices, verbose_name=_("kind"))
    period = models.CharField(max_length=8, choices=Period.choices, blank=True, help_text=_("Subscriptions only."),
        verbose_name=_("period"))
    duration_days = models.PositiveIntegerField(null=True, blank=True, help_text=_("One-time plans only."),
        verbose_name=_("duration days"))
    price = models.DecimalField(max_digits=12, decimal_places=2, validators=[MinValueValidator(Decimal("0"))],
        verbose_name=_("price"))
    currency = models.CharField(max_length=3, default="EUR", verbose_name=_("currency"))
    trial_days = models.PositiveIntegerField(default=0, verbose_name=_("trial days"))
    earn_multiplier = models.DecimalField(max_digits=6, decimal_places=3, default=Decimal("1"),
                                          validators=[MinValueValidator(Decimal("0"))],
        verbose_name=_("earn multiplier"))
    tier_floor = models.ForeignKey(Tier, null=True, blank=True, on_delete=models.PROTECT,
                                   help_text=_("Members on this plan are at least in this tier."),
        verbose_name=_("tier floor"))
    perks = models.JSONField(default=list, blank=True, verbose_name=_("perks"))
    active = models.BooleanField(default=True, verbose_name=_("active"))

    class Meta:
        verbose_name = _("plan")
        verbose_name_plural = _("plans")
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
        forget("plans_exist", "plans")


class Subscription(models.Model):
    """A member's paid membership. The shop takes the payments; we record them and keep the dates."""

    class Status(models.TextChoices):
        TRIALING = "trialing", _("Trial")
        ACTIVE = "active", _("Active")
        CANCELLED = "cancelled", _("Cancelled")
        EXPIRED = "expired", _("Ended")

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="subscriptions",
        verbose_name=_("member"))
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, verbose_name=_("plan"))
    status = models.CharField(max_length=16, choices=Status.choices, verbose_name=_("status"))
    started_at = models.DateTimeField(verbose_name=_("started at"))
    current_period_start = models.DateTimeField(verbose_name=_("current period start"))
    current_period_end = models.DateTimeField(verbose_name=_("current period end"))
    period_anchor = models.DateTimeField(
        null=True, blank=True, help_text=_("Start of the first paid period: every period ends on its day of the month "
                                         "(or of the year), so a membership started on the 31st does not drift."),
        verbose_name=_("period anchor"))
    cancel_at_period_end = models.BooleanField(default=False, verbose_name=_("cancel at period end"))
    cancelled_at = models.DateTimeField(null=True, blank=True, verbose_name=_("cancelled at"))
    ended_at = models.DateTimeField(null=True, blank=True, verbose_name=_("ended at"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("subscription")
        verbose_name_plural = _("subscriptions")
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
        STARTED = "started", _("Started")
        TRIAL_STARTED = "trial_started", _("Trial started")
        RENEWED = "renewed", _("Renewed")
        CANCEL_SCHEDULED = "cancel_scheduled", _("Cancels at period end")
        CANCELLED = "cancelled", _("Cancelled immediately")
        EXPIRED = "expired", _("Ended")

    subscription = models.ForeignKey(Subscription, on_delete=models.PROTECT, related_name="events",
        verbose_name=_("subscription"))
    kind = models.CharField(max_length=20, choices=Kind.choices, verbose_name=_("kind"))
    channel = models.ForeignKey(Channel, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                help_text=_("Who reported the payment: a payment reference is unique per channel."),
        verbose_name=_("channel"))
    payment_reference = models.CharField(max_length=100, blank=True, verbose_name=_("payment reference"))
    amount = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True, verbose_name=_("amount"))
    refund_amount = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True,
        verbose_name=_("refund amount"))
    period_end = models.DateTimeField(null=True, blank=True, verbose_name=_("period end"))
    created_at = models.DateTimeField(verbose_name=_("created at"))

    class Meta:
        verbose_name = _("subscription event")
        verbose_name_plural = _("subscription events")
        ordering = ["id"]
        constraints = [
            # A payment counts once, for good: not for another member, not again after it was refunded.
            models.UniqueConstraint(fields=["channel", "payment_reference"], condition=~Q(payment_reference=""),
                                    name="payment_reference_once_per_channel"),
            models.CheckConstraint(condition=Q(payment_reference="") | Q(channel__isnull=False),
                                   name="payment_reference_has_channel"),
        ]
