from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.cache import forget
from core.history import track
from core.models import SettingsRow

from .member import Member


@track()
class MembershipSettings(SettingsRow):
    """How tiers qualify and how tier and paid benefits combine. One row, edited by staff."""

    class Basis(models.TextChoices):
        POINTS = "points", _("Qualifying points earned")
        SPEND = "spend", _("Spend")

    class Window(models.TextChoices):
        LIFETIME = "lifetime", _("Lifetime")
        ROLLING_12_MONTHS = "rolling_12_months", _("Rolling 12 months")
        CALENDAR_YEAR = "calendar_year", _("Calendar year")

    class Combination(models.TextChoices):
        HIGHEST = "highest", _("The highest multiplier wins")
        MULTIPLY = "multiply", _("Tier and plan multipliers multiply")

    basis = models.CharField(max_length=16, choices=Basis.choices, default=Basis.POINTS, verbose_name=_("basis"))
    window = models.CharField(
        max_length=32, choices=Window.choices, default=Window.ROLLING_12_MONTHS,
        help_text=_("Where activity counts. Calendar year: what a member qualifies for in a year they keep through the "
                  "whole next year (qualified on 20 December 2025, kept until 31 December 2026)."),
        verbose_name=_("window"))
    downgrade_grace_days = models.PositiveIntegerField(
        default=30, help_text=_("How long a member may stay below their tier's threshold before a downgrade."),
        verbose_name=_("downgrade grace days"))
    max_steps_down = models.PositiveSmallIntegerField(
        default=1, help_text=_("Tiers a member may lose at one evaluation; 0 for no limit."),
        verbose_name=_("max steps down"))
    downgrade_warning_days = models.PositiveIntegerField(
        default=14, help_text=_("Warn this many days before a downgrade takes effect; 0 for no warning."),
        verbose_name=_("downgrade warning days"))
    combination = models.CharField(max_length=16, choices=Combination.choices, default=Combination.HIGHEST,
        verbose_name=_("combination"))
    renewal_reminder_days = models.PositiveIntegerField(default=7, help_text=_("Remind before a subscription renews."),
        verbose_name=_("renewal reminder days"))
    expiry_reminder_days = models.PositiveIntegerField(default=7, help_text=_("Remind before a paid membership ends."),
        verbose_name=_("expiry reminder days"))
    renewal_grace_days = models.PositiveIntegerField(
        default=3, help_text=_("A subscription's renewal payment may arrive this many days after the period's end and "
                             "still continue the membership (on its usual day); it ends, and the member is told, only "
                             "after them. Benefits pause from the period's end until the payment."),
        verbose_name=_("renewal grace days"))
    service_messages_need_consent = models.BooleanField(
        default=False, help_text=_("Send service messages (points about to expire, birthday gifts, membership "
                                 "reminders) only to members who gave marketing consent. Marketing always needs it."),
        verbose_name=_("service messages need consent"))
    phone_region = models.CharField(
        max_length=2, default="CN", verbose_name=_("phone numbers' country"),
        help_text=_("ISO 3166 country code: phone numbers typed without a country code (+86, 0086) are read as numbers "
                  "of this country."))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = verbose_name_plural = _("membership settings")
        constraints = [models.CheckConstraint(condition=Q(phone_region__regex=r"^[A-Z]{2}$"),
                                              name="membership_settings_phone_region_iso")]

    def __str__(self) -> str:
        return "Membership settings"



@track()
class Tier(models.Model):
    code = models.SlugField(max_length=32, unique=True, verbose_name=_("code"))
    name = models.CharField(max_length=64, verbose_name=_("name"))
    rank = models.PositiveSmallIntegerField(unique=True, help_text=_("Higher is better."), verbose_name=_("rank"))
    threshold = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"),
                                    validators=[MinValueValidator(Decimal("0"))],
                                    help_text=_("Qualifying points or spend (per the membership settings) to enter and "
                                              "to keep. A change reaches existing members at the next nightly "
                                              "evaluation: those who now qualify move up; those below a raised "
                                              "threshold are warned and keep the tier through the grace period."),
        verbose_name=_("threshold"))
    earn_multiplier = models.DecimalField(max_digits=6, decimal_places=3, default=Decimal("1"),
                                          validators=[MinValueValidator(Decimal("0"))],
        verbose_name=_("earn multiplier"))
    birthday_gift_points = models.PositiveIntegerField(default=0, verbose_name=_("birthday gift points"))
    birthday_reward_code = models.CharField(max_length=64, blank=True, help_text=_("A reward of the catalog, by code."),
        verbose_name=_("birthday reward code"))
    perks = models.JSONField(default=list, blank=True, help_text=_('Free-form, e.g. ["free_shipping", "lounge"].'),
        verbose_name=_("perks"))
    active = models.BooleanField(default=True, verbose_name=_("active"))

    class Meta:
        verbose_name = _("tier")
        verbose_name_plural = _("tiers")
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

    member = models.OneToOneField(Member, on_delete=models.CASCADE, primary_key=True, related_name="tier_status",
        verbose_name=_("member"))
    tier = models.ForeignKey(Tier, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("tier"))
    since = models.DateTimeField(null=True, blank=True, verbose_name=_("since"))
    pinned_tier = models.ForeignKey(Tier, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("pinned tier"))
    pinned_until = models.DateTimeField(null=True, blank=True, verbose_name=_("pinned until"))
    pin_reason = models.CharField(max_length=300, blank=True, verbose_name=_("pin reason"))
    below_since = models.DateTimeField(null=True, blank=True, help_text=_("Start of the grace period, if below."),
        verbose_name=_("below since"))
    warned_at = models.DateTimeField(null=True, blank=True, verbose_name=_("warned at"))
    review_at = models.DateTimeField(null=True, blank=True, help_text=_("When the nightly evaluation must look again."),
        verbose_name=_("review at"))

    class Meta:
        verbose_name = _("tier status")
        indexes = [models.Index(fields=["review_at"], condition=Q(review_at__isnull=False), name="tier_review_due")]
        verbose_name_plural = _("tier statuses")

    def __str__(self) -> str:
        return f"{self.member_id}: {self.tier or 'no tier'}"


class QualifyingActivity(models.Model):
    """What a member earned and spent per calendar month: tiers qualify on these, never on the ledger."""

    # Indexed by the unique (member, month), whose first column serves every lookup by member: a second index on
    # member alone only cost each new month's row a write (WAL on an earn's hot path).
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="qualifying_activity", db_index=False,
                               verbose_name=_("member"))
    month = models.DateField(help_text=_("First day of the month."), verbose_name=_("month"))
    points = models.BigIntegerField(default=0, verbose_name=_("points"))
    spend = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"), verbose_name=_("spend"))

    class Meta:
        verbose_name = _("qualifying activity")
        constraints = [models.UniqueConstraint(fields=["member", "month"], name="qualifying_activity_per_month")]
        verbose_name_plural = _("qualifying activity")


class TierChange(models.Model):
    """Every change of a member's tier, append-only."""

    class Reason(models.TextChoices):
        UPGRADE = "upgrade", _("Qualified")
        DOWNGRADE = "downgrade", _("Below threshold after the grace period")
        PIN = "pin", _("Pinned by staff")
        PLAN = "plan", _("Paid membership's tier floor")
        TAKEN_BACK = "taken_back", _("Refunded purchase or cancelled plan taken back")

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="tier_changes",
        verbose_name=_("member"))
    from_tier = models.ForeignKey(Tier, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("from tier"))
    to_tier = models.ForeignKey(Tier, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("to tier"))
    reason = models.CharField(max_length=16, choices=Reason.choices, verbose_name=_("reason"))
    note = models.CharField(max_length=300, blank=True, verbose_name=_("note"))
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
        verbose_name=_("actor"))
    details = models.JSONField(default=dict, blank=True, verbose_name=_("details"))
    created_at = models.DateTimeField(db_index=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("tier change")
        verbose_name_plural = _("tier changes")
        ordering = ["-id"]
        indexes = [models.Index(fields=["member", "-id"], name="tier_change_history")]

    def __str__(self) -> str:
        return f"{self.member_id}: {self.from_tier or '-'} -> {self.to_tier or '-'} ({self.reason})"
