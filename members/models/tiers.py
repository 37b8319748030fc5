from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q

from core.cache import forget
from core.models import SettingsRow

from .member import Member


class MembershipSettings(SettingsRow):
    """How tiers qualify and how tier and paid benefits combine. One row, edited by staff."""

    class Basis(models.TextChoices):
        POINTS = "points", "Qualifying points earned"
        SPEND = "spend", "Spend"

    class Window(models.TextChoices):
        LIFETIME = "lifetime", "Lifetime"
        ROLLING_12_MONTHS = "rolling_12_months", "Rolling 12 months"
        CALENDAR_YEAR = "calendar_year", "Calendar year"

    class Combination(models.TextChoices):
        HIGHEST = "highest", "The highest multiplier wins"
        MULTIPLY = "multiply", "Tier and plan multipliers multiply"

    basis = models.CharField(max_length=16, choices=Basis.choices, default=Basis.POINTS)
    window = models.CharField(
        max_length=32, choices=Window.choices, default=Window.ROLLING_12_MONTHS,
        help_text="Where activity counts. Calendar year: what a member qualifies for in a year they keep through the "
                  "whole next year (qualified on 20 December 2025, kept until 31 December 2026).")
    downgrade_grace_days = models.PositiveIntegerField(
        default=30, help_text="How long a member may stay below their tier's threshold before a downgrade.")
    max_steps_down = models.PositiveSmallIntegerField(
        default=1, help_text="Tiers a member may lose at one evaluation; 0 for no limit.")
    downgrade_warning_days = models.PositiveIntegerField(
        default=14, help_text="Warn this many days before a downgrade takes effect; 0 for no warning.")
    combination = models.CharField(max_length=16, choices=Combination.choices, default=Combination.HIGHEST)
    renewal_reminder_days = models.PositiveIntegerField(default=7, help_text="Remind before a subscription renews.")
    expiry_reminder_days = models.PositiveIntegerField(default=7, help_text="Remind before a paid membership ends.")
    renewal_grace_days = models.PositiveIntegerField(
        default=3, help_text="A subscription's renewal payment may arrive this many days after the period's end and "
                             "still continue the membership (on its usual day); it ends, and the member is told, only "
                             "after them. Benefits pause from the period's end until the payment.")
    service_messages_need_consent = models.BooleanField(
        default=False, help_text="Send service messages (points about to expire, birthday gifts, membership "
                                 "reminders) only to members who gave marketing consent. Marketing always needs it.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "membership settings"

    def __str__(self) -> str:
        return "Membership settings"



class Tier(models.Model):
    code = models.SlugField(max_length=32, unique=True)
    name = models.CharField(max_length=64)
    rank = models.PositiveSmallIntegerField(unique=True, help_text="Higher is better.")
    threshold = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"),
                                    validators=[MinValueValidator(Decimal("0"))],
                                    help_text="Qualifying points or spend (per the membership settings) to enter and "
                                              "to keep. A change reaches existing members at the next nightly "
                                              "evaluation: those who now qualify move up; those below a raised "
                                              "threshold are warned and keep the tier through the grace period.")
    earn_multiplier = models.DecimalField(max_digits=6, decimal_places=3, default=Decimal("1"),
                                          validators=[MinValueValidator(Decimal("0"))])
    birthday_gift_points = models.PositiveIntegerField(default=0)
    birthday_reward_code = models.CharField(max_length=64, blank=True, help_text="A reward of the catalog, by code.")
    perks = models.JSONField(default=list, blank=True, help_text='Free-form, e.g. ["free_shipping", "lounge"].')
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["rank"]
        constraints = [
            models.CheckConstraint(condition=Q(threshold__gte=0), name="tier_threshold_nonnegative"),
            models.CheckConstraint(condition=Q(earn_multiplier__gte=0), name="tier_multiplier_nonnegative"),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        super().save(*args, **kwargs)
        forget("tiers")


class TierStatus(models.Model):
    """A member's place in the tiers. Locked (SELECT FOR UPDATE) by whoever changes it."""

    member = models.OneToOneField(Member, on_delete=models.CASCADE, primary_key=True, related_name="tier_status")
    tier = models.ForeignKey(Tier, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    since = models.DateTimeField(null=True, blank=True)
    pinned_tier = models.ForeignKey(Tier, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    pinned_until = models.DateTimeField(null=True, blank=True)
    pin_reason = models.CharField(max_length=300, blank=True)
    below_since = models.DateTimeField(null=True, blank=True, help_text="Start of the grace period, if below.")
    warned_at = models.DateTimeField(null=True, blank=True)
    review_at = models.DateTimeField(null=True, blank=True, help_text="When the nightly evaluation must look again.")

    class Meta:
        indexes = [models.Index(fields=["review_at"], condition=Q(review_at__isnull=False), name="tier_review_due")]
        verbose_name_plural = "tier statuses"

    def __str__(self) -> str:
        return f"{self.member_id}: {self.tier or 'no tier'}"


class QualifyingActivity(models.Model):
    """What a member earned and spent per calendar month: tiers qualify on these, never on the ledger."""

    # Indexed by the unique (member, month), whose first column serves every lookup by member: a second index on
    # member alone only cost each new month's row a write (WAL on an earn's hot path).
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="qualifying_activity", db_index=False)
    month = models.DateField(help_text="First day of the month.")
    points = models.BigIntegerField(default=0)
    spend = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"))

    class Meta:
        constraints = [models.UniqueConstraint(fields=["member", "month"], name="qualifying_activity_per_month")]
        verbose_name_plural = "qualifying activity"


class TierChange(models.Model):
    """Every change of a member's tier, append-only."""

    class Reason(models.TextChoices):
        UPGRADE = "upgrade", "Qualified"
        DOWNGRADE = "downgrade", "Below threshold after the grace period"
        PIN = "pin", "Pinned by staff"
        PLAN = "plan", "Paid membership's tier floor"
        TAKEN_BACK = "taken_back", "Refunded purchase or cancelled plan taken back"

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="tier_changes")
    from_tier = models.ForeignKey(Tier, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    to_tier = models.ForeignKey(Tier, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(max_length=16, choices=Reason.choices)
    note = models.CharField(max_length=300, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["member", "-id"], name="tier_change_history")]

    def __str__(self) -> str:
        return f"{self.member_id}: {self.from_tier or '-'} -> {self.to_tier or '-'} ({self.reason})"
