"""Referral codes, programs (single-tier and multi-tier), referrals and the rewards they paid.

One program is active at a time (a partial unique index); older ones are kept for history, and each referral
remembers the program it was made under. A reward is paid at most once per referral and role (a unique key),
so two qualifying orders arriving together can never pay twice.
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.history import track
from loyalty.models import Order, Transaction
from members.models import Member


class ReferralCode(models.Model):
    """A member's own code: 8 characters of an alphabet without 0/O/1/I/L."""

    member = models.OneToOneField(Member, on_delete=models.CASCADE, related_name="referral_code",
        verbose_name=_("member"))
    code = models.CharField(max_length=16, unique=True, verbose_name=_("code"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("referral code")
        verbose_name_plural = _("referral codes")

    def __str__(self) -> str:
        return self.code


@track()
class Program(models.Model):
    class Kind(models.TextChoices):
        SINGLE_TIER = "single_tier", _("Single-tier: the same reward for every referral")
        MULTI_TIER = "multi_tier", _("Multi-tier: the reward grows with the number of referrals (steps)")

    name = models.CharField(max_length=100, verbose_name=_("name"))
    active = models.BooleanField(default=False, help_text=_("One program is active at a time."),
        verbose_name=_("active"))
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.SINGLE_TIER, verbose_name=_("kind"))
    referrer_points = models.PositiveIntegerField(default=100, help_text=_("Single-tier: the referrer's reward."),
        verbose_name=_("referrer points"))
    welcome_points = models.PositiveIntegerField(default=0, help_text=_("The new member's reward; 0 for none."),
        verbose_name=_("welcome points"))
    min_order_amount = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"),
                                           validators=[MinValueValidator(Decimal("0"))],
                                           help_text=_("The first order must be worth at least this much."),
        verbose_name=_("min order amount"))
    qualify_days = models.PositiveIntegerField(default=30, help_text=_("... and be placed within this many days "
                                               "of joining."), verbose_name=_("qualify days"))
    attach_days = models.PositiveIntegerField(default=7, help_text=_("A code can be attached this many days after "
                                              "joining."), verbose_name=_("attach days"))
    monthly_cap = models.PositiveIntegerField(null=True, blank=True,
                                              help_text=_("Rewarded referrals per referrer per calendar month."),
        verbose_name=_("monthly cap"))
    total_cap = models.PositiveIntegerField(null=True, blank=True, help_text=_("Rewarded referrals per referrer."),
        verbose_name=_("total cap"))
    second_level = models.BooleanField(default=False, help_text=_("Also reward the referrer's own referrer."),
        verbose_name=_("second level"))
    second_level_percent = models.PositiveSmallIntegerField(default=20, validators=[MaxValueValidator(100)],
                                                            help_text=_("Their share of the referrer's reward."),
        verbose_name=_("second level percent"))
    device_threshold = models.PositiveSmallIntegerField(
        default=3, validators=[MinValueValidator(2)],
        help_text=_("Hold a sign-up when this many use one code from one device or network within the window."),
        verbose_name=_("device threshold"))
    device_window_hours = models.PositiveIntegerField(default=24, verbose_name=_("device window hours"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name_plural = _("referral programs")
        verbose_name = _("referral program")
        constraints = [
            models.UniqueConstraint(fields=["active"], condition=Q(active=True), name="one_active_referral_program"),
            models.CheckConstraint(condition=Q(second_level_percent__lte=100), name="referral_second_level_share"),
            models.CheckConstraint(condition=Q(min_order_amount__gte=0), name="referral_min_order_nonnegative"),
        ]

    def __str__(self) -> str:
        return f"{self.name}{' (active)' if self.active else ''}"


@track()
class ProgramStep(models.Model):
    """Multi-tier: from the `from_count`-th successful referral on, each one pays `points`."""

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="steps", verbose_name=_("program"))
    from_count = models.PositiveIntegerField(validators=[MinValueValidator(1)], verbose_name=_("from count"))
    points = models.PositiveIntegerField(verbose_name=_("points"))

    class Meta:
        verbose_name = _("program step")
        verbose_name_plural = _("program steps")
        ordering = ["from_count"]
        constraints = [
            models.UniqueConstraint(fields=["program", "from_count"], name="referral_step_unique"),
            models.CheckConstraint(condition=Q(from_count__gte=1), name="referral_step_from_one"),
        ]

    def __str__(self) -> str:
        return f"from {self.from_count}: {self.points}"


@track(exclude=("device_id", "ip"))  # personal data that erasure removes
class Referral(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Pending: waiting for the first qualifying order")
        QUALIFIED = "qualified", _("Qualified, the referrer not rewarded (a cap)")
        REWARDED = "rewarded", _("Rewarded")
        HELD = "held_for_review", _("Held for review")
        REJECTED = "rejected", _("Rejected")
        REVERSED = "reversed", _("Reversed (the qualifying order was refunded)")

    referrer = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="referrals_made",
        verbose_name=_("referrer"))
    referred = models.OneToOneField(Member, on_delete=models.PROTECT, related_name="referred_by",
        verbose_name=_("referred"))
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="referrals",
        verbose_name=_("program"))
    code = models.CharField(max_length=16, verbose_name=_("code"))
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING, verbose_name=_("status"))
    reasons = models.JSONField(default=list, blank=True, help_text=_("Why it was held, capped or reversed."),
        verbose_name=_("reasons"))
    cleared = models.BooleanField(default=False, help_text=_("Staff approved it: no further holds."),
        verbose_name=_("cleared"))
    device_id = models.CharField(max_length=128, blank=True, verbose_name=_("device id"))
    ip = models.GenericIPAddressField(null=True, blank=True, verbose_name=_("ip"))
    order = models.OneToOneField(Order, null=True, blank=True, on_delete=models.PROTECT, related_name="referral",
                                 help_text=_("The qualifying order."), verbose_name=_("order"))
    ordinal = models.PositiveIntegerField(null=True, blank=True,
                                          help_text=_("The referrer's n-th successful referral (the tier step)."),
        verbose_name=_("ordinal"))
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
        verbose_name=_("reviewed by"))
    reviewed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("reviewed at"))
    created_at = models.DateTimeField(verbose_name=_("created at"))
    qualified_at = models.DateTimeField(null=True, blank=True, verbose_name=_("qualified at"))

    class Meta:
        verbose_name = _("referral")
        verbose_name_plural = _("referrals")
        ordering = ["-id"]
        permissions = [("review_referral", _("Can approve or reject referrals held for review"))]
        constraints = [
            models.CheckConstraint(condition=~Q(referrer=models.F("referred")), name="referral_not_self"),
        ]
        indexes = [
            models.Index(fields=["referrer", "status"], name="referral_by_referrer"),
            models.Index(fields=["status"], condition=Q(status="held_for_review"), name="referral_review_queue"),
            models.Index(fields=["code", "created_at"], name="referral_code_recent"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.referrer_id} -> {self.referred_id} ({self.status})"


class ReferralReward(models.Model):
    """Points a referral paid to one party. Unique per (referral, role): never paid twice."""

    class Role(models.TextChoices):
        REFERRER = "referrer", _("Referrer")
        WELCOME = "welcome", _("New member (welcome)")
        SECOND_LEVEL = "second_level", _("The referrer's referrer")

    referral = models.ForeignKey(Referral, on_delete=models.PROTECT, related_name="rewards",
        verbose_name=_("referral"))
    role = models.CharField(max_length=16, choices=Role.choices, verbose_name=_("role"))
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="referral_rewards",
        verbose_name=_("member"))
    points = models.PositiveIntegerField(verbose_name=_("points"))
    transaction = models.OneToOneField(Transaction, on_delete=models.PROTECT, related_name="referral_reward",
        verbose_name=_("transaction"))
    revoke_transaction = models.OneToOneField(Transaction, null=True, blank=True, on_delete=models.PROTECT,
                                              related_name="referral_reward_revoked",
        verbose_name=_("revoke transaction"))
    created_at = models.DateTimeField(verbose_name=_("created at"))

    class Meta:
        verbose_name = _("referral reward")
        verbose_name_plural = _("referral rewards")
        constraints = [models.UniqueConstraint(fields=["referral", "role"], name="referral_reward_once")]
        indexes = [models.Index(fields=["member", "role", "created_at"], name="referral_reward_by_member")]


class PaymentFingerprint(models.Model):
    """Payment fingerprints a member's orders carried (the shop's, opaque), for the self-referral check."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="payment_fingerprints",
                               db_index=False, verbose_name=_("member"))
    fingerprint = models.CharField(max_length=128, verbose_name=_("fingerprint"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("payment fingerprint")
        verbose_name_plural = _("payment fingerprints")
        constraints = [models.UniqueConstraint(fields=["member", "fingerprint"], name="payment_fingerprint_once")]
        indexes = [models.Index(fields=["fingerprint"], name="payment_fingerprint_lookup")]
