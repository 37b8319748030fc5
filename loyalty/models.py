"""The points ledger.

Transaction: one business event that moves points; append-only. Lot: points earned together, consumed
first-expiring-first. LotMovement: how much of which lot each transaction moved; append-only. Account: the
cached balances, updated with the entries under a row lock. See README, "The ledger".
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q

from core.cache import forget
from core.models import Channel, SettingsRow
from members.models import Member


def default_expiry_reminder_days() -> list[int]:
    return [30, 7]


class ProgramSettings(SettingsRow):
    """The program's rules, edited by staff in the admin. One row."""

    class Rounding(models.TextChoices):
        DOWN = "down", "Round down"
        NEAREST = "nearest", "Round to nearest (half up)"
        UP = "up", "Round up"

    class ExpiryPolicy(models.TextChoices):
        NEVER = "never", "Points never expire"
        MONTHS_AFTER_EARNING = "months_after_earning", "N months after earning"
        FIXED_YEARLY_DATE = "fixed_yearly_date", "On a fixed date of the following year"

    class RefundPolicy(models.TextChoices):
        TAKE_AVAILABLE = "take_available", "Take what is available, record the shortfall for staff"

    name = models.CharField(max_length=100, default="Loyalty program")
    currency = models.CharField(max_length=3, default="EUR")
    earn_points = models.PositiveIntegerField(default=1, help_text="Points earned per 'earn amount' spent.")
    earn_amount = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("15.00"),
                                      validators=[MinValueValidator(Decimal("0.01"))])
    rounding = models.CharField(max_length=16, choices=Rounding.choices, default=Rounding.DOWN)
    pending_days = models.PositiveIntegerField(default=14, help_text="Return window: points are pending this long.")
    expiry_policy = models.CharField(max_length=32, choices=ExpiryPolicy.choices,
                                     default=ExpiryPolicy.MONTHS_AFTER_EARNING)
    expiry_months = models.PositiveIntegerField(default=12)
    expiry_month = models.PositiveSmallIntegerField(default=12, help_text="Fixed yearly date: month.")
    expiry_day = models.PositiveSmallIntegerField(default=31, help_text="Fixed yearly date: day.")
    refund_policy = models.CharField(max_length=32, choices=RefundPolicy.choices, default=RefundPolicy.TAKE_AVAILABLE)
    clerk_adjust_limit = models.PositiveIntegerField(
        default=500, help_text="Largest manual adjustment (either sign) a clerk may make; managers have none."
    )
    expiry_reminder_days = models.JSONField(
        default=default_expiry_reminder_days, blank=True,
        help_text="Remind members this many days before their points expire, e.g. [30, 7]; empty for no reminders.")
    birthday_catch_up_days = models.PositiveSmallIntegerField(
        default=3, help_text="A birthday gift the job missed (an outage) is still given this many days late.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "program settings"
        constraints = [
            models.CheckConstraint(condition=Q(earn_amount__gt=0), name="program_earn_amount_positive"),
            models.CheckConstraint(condition=Q(expiry_month__gte=1, expiry_month__lte=12), name="program_expiry_month"),
            models.CheckConstraint(condition=Q(expiry_day__gte=1, expiry_day__lte=31), name="program_expiry_day"),
        ]

    def __str__(self) -> str:
        return self.name



class CategoryMultiplier(models.Model):
    category = models.SlugField(max_length=64, unique=True)
    multiplier = models.DecimalField(max_digits=6, decimal_places=3, validators=[MinValueValidator(Decimal("0"))])
    active = models.BooleanField(default=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(multiplier__gte=0), name="category_multiplier_nonnegative")]

    def __str__(self) -> str:
        return f"{self.category} x{self.multiplier}"

    def save(self, *args, **kwargs) -> None:
        super().save(*args, **kwargs)
        forget("category_multipliers")


class Account(models.Model):
    member = models.OneToOneField(Member, on_delete=models.PROTECT, primary_key=True, related_name="account")
    available = models.BigIntegerField(default=0)
    pending = models.BigIntegerField(default=0)
    lifetime_earned = models.BigIntegerField(default=0)
    lifetime_redeemed = models.BigIntegerField(default=0)
    lifetime_expired = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(available__gte=0), name="account_available_nonnegative"),
            models.CheckConstraint(condition=Q(pending__gte=0), name="account_pending_nonnegative"),
        ]

    def __str__(self) -> str:
        return f"{self.member_id}: {self.available} available, {self.pending} pending"


class Transaction(models.Model):
    class Kind(models.TextChoices):
        EARN = "earn", "Earned on an order"
        REFUND = "refund", "Taken back on a refund"
        REDEEM = "redeem", "Redeemed"
        REDEEM_CANCEL = "redeem_cancel", "Redemption cancelled"
        REDEEM_RETURN = "redeem_return", "Redeemed points returned (partly)"
        ADJUST = "adjust", "Manual adjustment"
        EXPIRE = "expire", "Expired"
        RELEASE = "release", "Released from pending"
        BONUS = "bonus", "Bonus"
        GIFT = "gift", "Gift (birthday)"

    # Indexed by the statement index (member, -id); the channel by the unique (channel, idempotency_key).
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="transactions", db_index=False)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    points = models.BigIntegerField(help_text="Signed change of available + pending.")
    available_delta = models.BigIntegerField()
    pending_delta = models.BigIntegerField()
    balance_after = models.BigIntegerField(help_text="Available balance after this transaction.")
    pending_after = models.BigIntegerField()
    reference = models.CharField(max_length=100, blank=True)
    # No constraint in the database: see core.models.IdempotencyRecord.channel (a shared lock on the channel row
    # per write); Django's PROTECT still guards the channel.
    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, db_index=False, db_constraint=False)
    # Partial indexes below: most transactions have neither, and every index costs each insert.
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                              db_index=False)
    reason = models.CharField(max_length=500, blank=True)
    idempotency_key = models.CharField(max_length=255)
    reverses = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversals",
                                 db_index=False)
    multiplier = models.DecimalField(max_digits=8, decimal_places=3, default=Decimal("1"),
                                     help_text="The tier / paid-plan multiplier applied (earning only).")
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["channel", "idempotency_key"], name="transaction_idempotent"),
            models.UniqueConstraint(fields=["reverses"], condition=Q(kind="redeem_cancel"),
                                    name="redemption_cancelled_once"),
            models.CheckConstraint(condition=Q(points=F("available_delta") + F("pending_delta")),
                                   name="transaction_deltas_add_up"),
            models.CheckConstraint(condition=Q(balance_after__gte=0, pending_after__gte=0),
                                   name="transaction_balances_nonnegative"),
        ]
        indexes = [
            models.Index(fields=["member", "-id"], name="transaction_statement"),
            models.Index(fields=["actor"], condition=Q(actor__isnull=False), name="transaction_by_staff"),
            models.Index(fields=["reverses"], condition=Q(reverses__isnull=False), name="transaction_reversals"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.kind} {self.points:+d} ({self.member_id})"


class Order(models.Model):
    # unique (channel, order_id); no constraint in the database, as Transaction.channel
    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, db_index=False, db_constraint=False)
    order_id = models.CharField(max_length=100)
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="orders")
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3)
    store = models.CharField(max_length=100, blank=True)
    occurred_at = models.DateTimeField()
    points_earned = models.BigIntegerField(default=0)
    qualifying_points = models.BigIntegerField(default=0, help_text="Points counted towards tiers (before the "
                                               "tier and plan multipliers).")
    qualifying_reversed = models.BigIntegerField(default=0)
    rate_points = models.PositiveIntegerField(default=1, help_text="The earn rate the order earned at: points ...")
    rate_amount = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("1"),
                                      help_text="... per this amount (refunds take back at the same rate).")
    refunded_amount = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    points_reversed = models.BigIntegerField(default=0)
    earn_transaction = models.OneToOneField(Transaction, null=True, blank=True, on_delete=models.PROTECT,
                                            related_name="order")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["channel", "order_id"], name="order_unique_per_channel"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="order_amount_nonnegative"),
            models.CheckConstraint(condition=Q(refunded_amount__gte=0, refunded_amount__lte=F("amount")),
                                   name="order_refund_within_amount"),
            models.CheckConstraint(condition=Q(points_reversed__gte=0, points_reversed__lte=F("points_earned")),
                                   name="order_reversal_within_earned"),
        ]

    def __str__(self) -> str:
        return f"{self.channel}:{self.order_id}"


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="lines")
    sku = models.CharField(max_length=100)
    category = models.CharField(max_length=64, blank=True)
    quantity = models.PositiveIntegerField(default=1)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    multiplier = models.DecimalField(max_digits=6, decimal_places=3, default=Decimal("1"))
    points = models.BigIntegerField(default=0, help_text="What this line earned, rounded down.")
    refunded_amount = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(refunded_amount__gte=0, refunded_amount__lte=F("amount")),
                                   name="order_line_refund_within_amount"),
        ]


class Refund(models.Model):
    """A take-back of points: the refund of (part of) an order, or the revocation of a bonus (a referral reward).
    The one record of what was due, what could be taken, and the shortfall staff review."""

    order = models.ForeignKey(Order, null=True, blank=True, on_delete=models.PROTECT, related_name="refunds")
    bonus = models.OneToOneField(Transaction, null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="take_back", help_text="The bonus taken back (when not an order).")
    amount = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    points_due = models.BigIntegerField(help_text="What the refunded part earned (or the bonus).")
    points_taken = models.BigIntegerField(help_text="What could be taken back.")
    shortfall = models.BigIntegerField(default=0, help_text="Already spent and not covered: for staff to review.")
    points_expired = models.BigIntegerField(default=0, help_text="Had expired: the member never kept them.")
    recovered = models.BigIntegerField(default=0, help_text="Of the shortfall, taken back later (e.g. when the "
                                       "redemption that spent the points was cancelled).")
    written_off = models.BigIntegerField(default=0, help_text="Of the shortfall, written off: the spent points came "
                                         "back after their lot had expired, so the member would not have them either.")
    substituted = models.BigIntegerField(default=0, help_text="Of the points taken, taken from the member's other "
                                         "points because the order's own had been spent.")
    restored = models.BigIntegerField(default=0, help_text="Of those, given back to the lots they came from once "
                                      "the spent points came back (a cancelled redemption).")
    transaction = models.OneToOneField(Transaction, null=True, blank=True, on_delete=models.PROTECT)
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(points_taken__gte=0, shortfall__gte=0, points_expired__gte=0),
                                   name="refund_points_nonnegative"),
            models.CheckConstraint(condition=Q(points_due=F("points_taken") + F("shortfall") + F("points_expired")),
                                   name="refund_shortfall_adds_up"),
            models.CheckConstraint(condition=Q(recovered__gte=0, written_off__gte=0,
                                               shortfall__gte=F("recovered") + F("written_off")),
                                   name="refund_recovered_within_shortfall"),
            models.CheckConstraint(condition=Q(substituted__gte=0, substituted__lte=F("points_taken"),
                                               restored__gte=0, restored__lte=F("substituted")),
                                   name="refund_restored_within_substituted"),
            models.CheckConstraint(condition=Q(order__isnull=False, bonus__isnull=True)
                                   | Q(order__isnull=True, bonus__isnull=False), name="refund_of_order_or_bonus"),
        ]
        indexes = [models.Index(fields=["shortfall"], condition=Q(shortfall__gt=0), name="refund_with_shortfall")]

    def __str__(self) -> str:
        what = f"order {self.order_id}" if self.order_id else f"bonus {self.bonus_id}"
        return f"take-back #{self.pk} of {what}: {self.points_taken}/{self.points_due}"


class Lot(models.Model):
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="lots")
    source = models.ForeignKey(Transaction, on_delete=models.PROTECT, related_name="lots")
    order = models.ForeignKey(Order, null=True, blank=True, on_delete=models.PROTECT, related_name="lots",
                              db_index=False)  # partial index below: lots of gifts and adjustments have none
    amount = models.BigIntegerField()
    remaining = models.BigIntegerField()
    released = models.BooleanField(help_text="Counted in the available balance (else still pending).")
    earned_at = models.DateTimeField()
    available_at = models.DateTimeField()
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="lot_amount_positive"),
            models.CheckConstraint(condition=Q(remaining__gte=0, remaining__lte=F("amount")),
                                   name="lot_remaining_within_amount"),
        ]
        indexes = [
            models.Index(fields=["member", "expires_at", "id"], condition=Q(remaining__gt=0), name="lot_open_by_member"),
            models.Index(fields=["expires_at", "member"], condition=Q(remaining__gt=0), name="lot_due_for_expiry"),
            models.Index(fields=["available_at", "member"], condition=Q(remaining__gt=0, released=False),
                         name="lot_due_for_release"),
            models.Index(fields=["order"], condition=Q(order__isnull=False), name="lot_of_order"),
        ]

    def __str__(self) -> str:
        return f"lot #{self.pk}: {self.remaining}/{self.amount}"


class LotMovement(models.Model):
    """How many points of which lot a transaction moved (negative: taken out). Append-only."""

    transaction = models.ForeignKey(Transaction, on_delete=models.PROTECT, related_name="movements")
    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="movements")
    points = models.BigIntegerField()

    class Meta:
        constraints = [models.CheckConstraint(condition=~Q(points=0), name="lot_movement_nonzero")]


class BirthdayGift(models.Model):
    """A member's birthday gift of one year: given once (the unique key), whatever the job does."""

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="birthday_gifts", db_index=False)
    year = models.PositiveSmallIntegerField()
    birthday = models.DateField(help_text="The day it was for (28 February for 29 February in other years).")
    tier_code = models.CharField(max_length=32, blank=True)
    points = models.BigIntegerField(default=0)
    reward_code = models.CharField(max_length=64, blank=True,
                                   help_text="The tier's birthday reward: the rewards app issues its voucher.")
    transaction = models.OneToOneField(Transaction, null=True, blank=True, on_delete=models.PROTECT)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["member", "year"], name="birthday_gift_once_a_year")]
        indexes = [models.Index(fields=["created_at"], name="birthday_gift_recent")]

    def __str__(self) -> str:
        return f"{self.member_id} {self.year}: {self.points} points"


class LedgerCheck(models.Model):
    """One run of the nightly proof of the books (`ledger_check`): what it checked and any drift it found."""

    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    members_checked = models.PositiveIntegerField()
    lots_checked = models.PositiveIntegerField()
    drifted = models.PositiveIntegerField(help_text="Members or lots whose balances disagree with their entries.")
    details = models.JSONField(default=dict, blank=True, help_text="The first drifted rows, and the global totals.")

    class Meta:
        indexes = [models.Index(fields=["-started_at"], name="ledger_check_recent")]

    def __str__(self) -> str:
        return f"{self.started_at:%Y-%m-%d %H:%M}: {'OK' if not self.drifted else f'{self.drifted} drifted'}"


class LedgerPermissions(models.Model):
    """Holds the ledger's staff permissions; no table rows."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [
            ("adjust_points", "Can adjust points within the clerk limit"),
            ("adjust_points_unlimited", "Can adjust points beyond the clerk limit"),
        ]
