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

from core.history import track
from loyalty.models import Order, Transaction
from members.models import Member


class ReferralCode(models.Model):
    """A member's own code: 8 characters of an alphabet without 0/O/1/I/L."""

    member = models.OneToOneField(Member, on_delete=models.CASCADE, related_name="referral_code")
    code = models.CharField(max_length=16, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.code


@track()
class Program(models.Model):
    class Kind(models.TextChoices):
        SINGLE_TIER = "single_tier", "Single-tier: the same reward for every referral"
        MULTI_TIER = "multi_tier", "Multi-tier: the reward grows with the number of referrals (steps)"

    name = models.CharField(max_length=100)
    active = models.BooleanField(default=False, help_text="One program is active at a time.")
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.SINGLE_TIER)
    referrer_points = models.PositiveIntegerField(default=100, help_text="Single-tier: the referrer's reward.")
    welcome_points = models.PositiveIntegerField(default=0, help_text="The new member's reward; 0 for none.")
    min_order_amount = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"),
                                           validators=[MinValueValidator(Decimal("0"))],
                                           help_text="The first order must be worth at least this much.")
    qualify_days = models.PositiveIntegerField(default=30, help_text="... and be placed within this many days "
                                               "of joining.")
    attach_days = models.PositiveIntegerField(default=7, help_text="A code can be attached this many days after "
                                              "joining.")
    monthly_cap = models.PositiveIntegerField(null=True, blank=True,
                                              help_text="Rewarded referrals per referrer per calendar month.")
    total_cap = models.PositiveIntegerField(null=True, blank=True, help_text="Rewarded referrals per referrer.")
    second_level = models.BooleanField(default=False, help_text="Also reward the referrer's own referrer.")
    second_level_percent = models.PositiveSmallIntegerField(default=20, validators=[MaxValueValidator(100)],
                                                            help_text="Their share of the referrer's reward.")
    device_threshold = models.PositiveSmallIntegerField(
        default=3, validators=[MinValueValidator(2)],
        help_text="Hold a sign-up when this many use one code from one device or network within the window.")
    device_window_hours = models.PositiveIntegerField(default=24)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "referral program"
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

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="steps")
    from_count = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    points = models.PositiveIntegerField()

    class Meta:
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
        PENDING = "pending", "Pending: waiting for the first qualifying order"
        QUALIFIED = "qualified", "Qualified, the referrer not rewarded (a cap)"
        REWARDED = "rewarded", "Rewarded"
        HELD = "held_for_review", "Held for review"
        REJECTED = "rejected", "Rejected"
        REVERSED = "reversed", "Reversed (the qualifying order was refunded)"

    referrer = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="referrals_made")
    referred = models.OneToOneField(Member, on_delete=models.PROTECT, related_name="referred_by")
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="referrals")
    code = models.CharField(max_length=16)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    reasons = models.JSONField(default=list, blank=True, help_text="Why it was held, capped or reversed.")
    cleared = models.BooleanField(default=False, help_text="Staff approved it: no further holds.")
    device_id = models.CharField(max_length=128, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    order = models.OneToOneField(Order, null=True, blank=True, on_delete=models.PROTECT, related_name="referral",
                                 help_text="The qualifying order.")
    ordinal = models.PositiveIntegerField(null=True, blank=True,
                                          help_text="The referrer's n-th successful referral (the tier step).")
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    qualified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        permissions = [("review_referral", "Can approve or reject referrals held for review")]
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
        REFERRER = "referrer", "Referrer"
        WELCOME = "welcome", "New member (welcome)"
        SECOND_LEVEL = "second_level", "The referrer's referrer"

    referral = models.ForeignKey(Referral, on_delete=models.PROTECT, related_name="rewards")
    role = models.CharField(max_length=16, choices=Role.choices)
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="referral_rewards")
    points = models.PositiveIntegerField()
    transaction = models.OneToOneField(Transaction, on_delete=models.PROTECT, related_name="referral_reward")
    revoke_transaction = models.OneToOneField(Transaction, null=True, blank=True, on_delete=models.PROTECT,
                                              related_name="referral_reward_revoked")
    created_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["referral", "role"], name="referral_reward_once")]
        indexes = [models.Index(fields=["member", "role", "created_at"], name="referral_reward_by_member")]


class PaymentFingerprint(models.Model):
    """Payment fingerprints a member's orders carried (the shop's, opaque), for the self-referral check."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="payment_fingerprints",
                               db_index=False)
    fingerprint = models.CharField(max_length=128)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["member", "fingerprint"], name="payment_fingerprint_once")]
        indexes = [models.Index(fields=["fingerprint"], name="payment_fingerprint_lookup")]
