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
from django.utils.translation import gettext_lazy as _

from core.cache import forget
from core.history import track
from core.models import Channel, SettingsRow
from members.models import Member


def default_expiry_reminder_days() -> list[int]:
    return [30, 7]


@track()
class ProgramSettings(SettingsRow):
    """The program's rules, edited by staff in the admin. One row."""

    class Rounding(models.TextChoices):
        DOWN = "down", _("Round down")
        NEAREST = "nearest", _("Round to nearest (half up)")
        UP = "up", _("Round up")

    class ExpiryPolicy(models.TextChoices):
        NEVER = "never", _("Points never expire")
        MONTHS_AFTER_EARNING = "months_after_earning", _("N months after earning")
        FIXED_YEARLY_DATE = "fixed_yearly_date", _("On a fixed date of the following year")

    class RefundPolicy(models.TextChoices):
        TAKE_AVAILABLE = "take_available", _("Take what is available, record the shortfall for staff")

    name = models.CharField(max_length=100, default="Loyalty program", verbose_name=_("name"))
    currency = models.CharField(max_length=3, default="EUR", verbose_name=_("currency"))
    earn_points = models.PositiveIntegerField(default=1, help_text=_("Points earned per 'earn amount' spent."),
        verbose_name=_("earn points"))
    earn_amount = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("15.00"),
                                      validators=[MinValueValidator(Decimal("0.01"))], verbose_name=_("earn amount"))
    rounding = models.CharField(max_length=16, choices=Rounding.choices, default=Rounding.DOWN,
        verbose_name=_("rounding"))
    pending_days = models.PositiveIntegerField(default=14, help_text=_("Return window: points are pending this long."),
        verbose_name=_("pending days"))
    expiry_policy = models.CharField(max_length=32, choices=ExpiryPolicy.choices,
                                     default=ExpiryPolicy.MONTHS_AFTER_EARNING, verbose_name=_("expiry policy"))
    expiry_months = models.PositiveIntegerField(default=12, verbose_name=_("expiry months"))
    expiry_month = models.PositiveSmallIntegerField(default=12, help_text=_("Fixed yearly date: month."),
        verbose_name=_("expiry month"))
    expiry_day = models.PositiveSmallIntegerField(default=31, help_text=_("Fixed yearly date: day."),
        verbose_name=_("expiry day"))
    refund_policy = models.CharField(max_length=32, choices=RefundPolicy.choices, default=RefundPolicy.TAKE_AVAILABLE,
        verbose_name=_("refund policy"))
    clerk_adjust_limit = models.PositiveIntegerField(
        default=500, help_text=_("Largest manual adjustment (either sign) a clerk may make; managers have none."),
        verbose_name=_("clerk adjust limit")
    )
    expiry_reminder_days = models.JSONField(
        default=default_expiry_reminder_days, blank=True,
        help_text=_("Remind members this many days before their points expire, e.g. [30, 7]; empty for no reminders."),
        verbose_name=_("expiry reminder days"))
    birthday_catch_up_days = models.PositiveSmallIntegerField(
        default=3, help_text=_("A birthday gift the job missed (an outage) is still given this many days late."),
        verbose_name=_("birthday catch up days"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = verbose_name_plural = _("program settings")
        constraints = [
            models.CheckConstraint(condition=Q(earn_amount__gt=0), name="program_earn_amount_positive"),
            models.CheckConstraint(condition=Q(expiry_month__gte=1, expiry_month__lte=12), name="program_expiry_month"),
            models.CheckConstraint(condition=Q(expiry_day__gte=1, expiry_day__lte=31), name="program_expiry_day"),
        ]

    def __str__(self) -> str:
        return self.name



@track()
class CategoryMultiplier(models.Model):
    category = models.SlugField(max_length=64, unique=True, verbose_name=_("category"))
    multiplier = models.DecimalField(max_digits=6, decimal_places=3, validators=[MinValueValidator(Decimal("0"))],
        verbose_name=_("multiplier"))
    active = models.BooleanField(default=True, verbose_name=_("active"))

    class Meta:
        verbose_name = _("category multiplier")
        verbose_name_plural = _("category multipliers")
        constraints = [models.CheckConstraint(condition=Q(multiplier__gte=0), name="category_multiplier_nonnegative")]

    def __str__(self) -> str:
        return f"{self.category} x{self.multiplier}"

    def save(self, *args, **kwargs) -> None:
        super().save(*args, **kwargs)
        forget("category_multipliers")


class Account(models.Model):
    member = models.OneToOneField(Member, on_delete=models.PROTECT, primary_key=True, related_name="account",
        verbose_name=_("member"))
    available = models.BigIntegerField(default=0, verbose_name=_("available"))
    pending = models.BigIntegerField(default=0, verbose_name=_("pending"))
    lifetime_earned = models.BigIntegerField(default=0, verbose_name=_("lifetime earned"))
    lifetime_redeemed = models.BigIntegerField(default=0, verbose_name=_("lifetime redeemed"))
    lifetime_expired = models.BigIntegerField(default=0, verbose_name=_("lifetime expired"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("account")
        verbose_name_plural = _("accounts")
        constraints = [
            models.CheckConstraint(condition=Q(available__gte=0), name="account_available_nonnegative"),
            models.CheckConstraint(condition=Q(pending__gte=0), name="account_pending_nonnegative"),
        ]

    def __str__(self) -> str:
        return f"{self.member_id}: {self.available} available, {self.pending} pending"


class Transaction(models.Model):
    class Kind(models.TextChoices):
        EARN = "earn", _("Earned on an order")
        REFUND = "refund", _("Taken back on a refund")
        REDEEM = "redeem", _("Redeemed")
        REDEEM_CANCEL = "redeem_cancel", _("Redemption cancelled")
        REDEEM_RETURN = "redeem_return", _("Redeemed points returned (partly)")
        ADJUST = "adjust", _("Manual adjustment")
        EXPIRE = "expire", _("Expired")
        RELEASE = "release", _("Released from pending")
        BONUS = "bonus", _("Bonus")
        GIFT = "gift", _("Gift (birthday)")

    # Indexed by the statement index (member, -id); the channel by the unique (channel, idempotency_key).
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="transactions", db_index=False,
                               verbose_name=_("member"))
    kind = models.CharField(max_length=16, choices=Kind.choices, verbose_name=_("kind"))
    points = models.BigIntegerField(help_text=_("Signed change of available + pending."), verbose_name=_("points"))
    available_delta = models.BigIntegerField(verbose_name=_("available delta"))
    pending_delta = models.BigIntegerField(verbose_name=_("pending delta"))
    balance_after = models.BigIntegerField(help_text=_("Available balance after this transaction."),
        verbose_name=_("balance after"))
    pending_after = models.BigIntegerField(verbose_name=_("pending after"))
    reference = models.CharField(max_length=100, blank=True, verbose_name=_("reference"))
    # No constraint in the database: see core.models.IdempotencyRecord.channel (a shared lock on the channel row
    # per write); Django's PROTECT still guards the channel.
    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, db_index=False, db_constraint=False, verbose_name=_("channel"))
    # Partial indexes below: most transactions have neither, and every index costs each insert.
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                              db_index=False, verbose_name=_("actor"))
    reason = models.CharField(max_length=500, blank=True, verbose_name=_("reason"))
    idempotency_key = models.CharField(max_length=255, verbose_name=_("idempotency key"))
    reverses = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversals",
                                 db_index=False, verbose_name=_("reverses"))
    multiplier = models.DecimalField(max_digits=8, decimal_places=3, default=Decimal("1"),
                                     help_text=_("The tier / paid-plan multiplier applied (earning only)."),
        verbose_name=_("multiplier"))
    details = models.JSONField(default=dict, blank=True, verbose_name=_("details"))
    created_at = models.DateTimeField(verbose_name=_("created at"))

    class Meta:
        verbose_name = _("transaction")
        verbose_name_plural = _("transactions")
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
    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, db_index=False, db_constraint=False, verbose_name=_("channel"))
    order_id = models.CharField(max_length=100, verbose_name=_("order id"))
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="orders", verbose_name=_("member"))
    amount = models.DecimalField(max_digits=12, decimal_places=2, verbose_name=_("amount"))
    currency = models.CharField(max_length=3, verbose_name=_("currency"))
    store = models.CharField(max_length=100, blank=True, verbose_name=_("store"))
    occurred_at = models.DateTimeField(verbose_name=_("occurred at"))
    points_earned = models.BigIntegerField(default=0, verbose_name=_("points earned"))
    qualifying_points = models.BigIntegerField(default=0, help_text=_("Points counted towards tiers (before the "
                                               "tier and plan multipliers)."), verbose_name=_("qualifying points"))
    qualifying_reversed = models.BigIntegerField(default=0, verbose_name=_("qualifying reversed"))
    rate_points = models.PositiveIntegerField(default=1, help_text=_("The earn rate the order earned at: points ..."),
        verbose_name=_("rate points"))
    rate_amount = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("1"),
                                      help_text=_("... per this amount (refunds take back at the same rate)."),
        verbose_name=_("rate amount"))
    refunded_amount = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"),
        verbose_name=_("refunded amount"))
    points_reversed = models.BigIntegerField(default=0, verbose_name=_("points reversed"))
    earn_transaction = models.OneToOneField(Transaction, null=True, blank=True, on_delete=models.PROTECT,
                                            related_name="order", verbose_name=_("earn transaction"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
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
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="lines", verbose_name=_("order"))
    sku = models.CharField(max_length=100, verbose_name=_("sku"))
    category = models.CharField(max_length=64, blank=True, verbose_name=_("category"))
    quantity = models.PositiveIntegerField(default=1, verbose_name=_("quantity"))
    amount = models.DecimalField(max_digits=12, decimal_places=2, verbose_name=_("amount"))
    multiplier = models.DecimalField(max_digits=6, decimal_places=3, default=Decimal("1"),
        verbose_name=_("multiplier"))
    points = models.BigIntegerField(default=0, help_text=_("What this line earned, rounded down."),
        verbose_name=_("points"))
    refunded_amount = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"),
        verbose_name=_("refunded amount"))

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        constraints = [
            models.CheckConstraint(condition=Q(refunded_amount__gte=0, refunded_amount__lte=F("amount")),
                                   name="order_line_refund_within_amount"),
        ]


class Refund(models.Model):
    """A take-back of points: the refund of (part of) an order, or the revocation of a bonus (a referral reward).
    The one record of what was due, what could be taken, and the shortfall staff review."""

    order = models.ForeignKey(Order, null=True, blank=True, on_delete=models.PROTECT, related_name="refunds",
        verbose_name=_("order"))
    bonus = models.OneToOneField(Transaction, null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="take_back", help_text=_("The bonus taken back (when not an order)."),
        verbose_name=_("bonus"))
    amount = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"), verbose_name=_("amount"))
    points_due = models.BigIntegerField(help_text=_("What the refunded part earned (or the bonus)."),
        verbose_name=_("points due"))
    points_taken = models.BigIntegerField(help_text=_("What could be taken back."), verbose_name=_("points taken"))
    shortfall = models.BigIntegerField(default=0, help_text=_("Already spent and not covered: for staff to review."),
        verbose_name=_("shortfall"))
    points_expired = models.BigIntegerField(default=0, help_text=_("Had expired: the member never kept them."),
        verbose_name=_("points expired"))
    recovered = models.BigIntegerField(default=0, help_text=_("Of the shortfall, taken back later (e.g. when the "
                                       "redemption that spent the points was cancelled)."),
        verbose_name=_("recovered"))
    written_off = models.BigIntegerField(default=0, help_text=_("Of the shortfall, written off: the spent points came "
                                         "back after their lot had expired, so the member would not have them either."),
        verbose_name=_("written off"))
    substituted = models.BigIntegerField(default=0, help_text=_("Of the points taken, taken from the member's other "
                                         "points because the order's own had been spent."),
        verbose_name=_("substituted"))
    restored = models.BigIntegerField(default=0, help_text=_("Of those, given back to the lots they came from once "
                                      "the spent points came back (a cancelled redemption)."),
        verbose_name=_("restored"))
    transaction = models.OneToOneField(Transaction, null=True, blank=True, on_delete=models.PROTECT,
        verbose_name=_("transaction"))
    details = models.JSONField(default=dict, blank=True, verbose_name=_("details"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")
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
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="lots", verbose_name=_("member"))
    source = models.ForeignKey(Transaction, on_delete=models.PROTECT, related_name="lots", verbose_name=_("source"))
    order = models.ForeignKey(Order, null=True, blank=True, on_delete=models.PROTECT, related_name="lots",
                              db_index=False,
        verbose_name=_("order"))  # partial index below: lots of gifts and adjustments have none
    amount = models.BigIntegerField(verbose_name=_("amount"))
    remaining = models.BigIntegerField(verbose_name=_("remaining"))
    released = models.BooleanField(help_text=_("Counted in the available balance (else still pending)."),
        verbose_name=_("released"))
    earned_at = models.DateTimeField(verbose_name=_("earned at"))
    available_at = models.DateTimeField(verbose_name=_("available at"))
    expires_at = models.DateTimeField(null=True, blank=True, verbose_name=_("expires at"))

    class Meta:
        verbose_name = _("lot")
        verbose_name_plural = _("lots")
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

    transaction = models.ForeignKey(Transaction, on_delete=models.PROTECT, related_name="movements",
        verbose_name=_("transaction"))
    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="movements", verbose_name=_("lot"))
    points = models.BigIntegerField(verbose_name=_("points"))

    class Meta:
        verbose_name = _("lot movement")
        verbose_name_plural = _("lot movements")
        constraints = [models.CheckConstraint(condition=~Q(points=0), name="lot_movement_nonzero")]


class EarnBoost(models.Model):
    """A multiplier on the member's next order that earns points (a campaign's effect): pending until that order
    takes it, under the member's ledger lock, in the order's transaction. One order takes one boost, the oldest."""

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+", db_index=False, verbose_name=_("member"))
    multiplier = models.DecimalField(max_digits=6, decimal_places=3, verbose_name=_("multiplier"))
    grant_key = models.CharField(max_length=200, unique=True, help_text=_("Once per grant (e.g. a campaign firing)."),
        verbose_name=_("grant key"))
    reason = models.CharField(max_length=200, blank=True, verbose_name=_("reason"))
    granted_at = models.DateTimeField(verbose_name=_("granted at"))
    expires_at = models.DateTimeField(null=True, blank=True, verbose_name=_("expires at"))
    used_at = models.DateTimeField(null=True, blank=True, verbose_name=_("used at"))
    used_by = models.OneToOneField(Transaction, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("used by"))

    class Meta:
        verbose_name = _("earn boost")
        verbose_name_plural = _("earn boosts")
        constraints = [models.CheckConstraint(condition=Q(multiplier__gt=1), name="earn_boost_above_one")]
        # The earn path's one extra query: the member's unused boosts, through this partial index.
        indexes = [models.Index(fields=["member", "id"], condition=Q(used_at__isnull=True), name="earn_boost_unused")]

    def __str__(self) -> str:
        return f"x{self.multiplier} for {self.member_id}"


class BirthdayGift(models.Model):
    """A member's birthday gift of one year: given once (the unique key), whatever the job does."""

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="birthday_gifts", db_index=False,
        verbose_name=_("member"))
    year = models.PositiveSmallIntegerField(verbose_name=_("year"))
    birthday = models.DateField(help_text=_("The day it was for (28 February for 29 February in other years)."),
        verbose_name=_("birthday"))
    tier_code = models.CharField(max_length=32, blank=True, verbose_name=_("tier code"))
    points = models.BigIntegerField(default=0, verbose_name=_("points"))
    reward_code = models.CharField(max_length=64, blank=True,
                                   help_text=_("The tier's birthday reward: the rewards app issues its voucher."),
        verbose_name=_("reward code"))
    transaction = models.OneToOneField(Transaction, null=True, blank=True, on_delete=models.PROTECT,
        verbose_name=_("transaction"))
    created_at = models.DateTimeField(verbose_name=_("created at"))

    class Meta:
        verbose_name = _("birthday gift")
        verbose_name_plural = _("birthday gifts")
        constraints = [models.UniqueConstraint(fields=["member", "year"], name="birthday_gift_once_a_year")]
        indexes = [models.Index(fields=["created_at"], name="birthday_gift_recent")]

    def __str__(self) -> str:
        return f"{self.member_id} {self.year}: {self.points} points"


class LedgerCheck(models.Model):
    """One run of the nightly proof of the books (`ledger_check`): what it checked and any drift it found."""

    started_at = models.DateTimeField(verbose_name=_("started at"))
    finished_at = models.DateTimeField(verbose_name=_("finished at"))
    members_checked = models.PositiveIntegerField(verbose_name=_("members checked"))
    lots_checked = models.PositiveIntegerField(verbose_name=_("lots checked"))
    drifted = models.PositiveIntegerField(help_text=_("Members or lots whose balances disagree with their entries."),
        verbose_name=_("drifted"))
    details = models.JSONField(default=dict, blank=True, help_text=_("The first drifted rows, and the global totals."),
        verbose_name=_("details"))

    class Meta:
        verbose_name = _("ledger check")
        verbose_name_plural = _("ledger checks")
        indexes = [models.Index(fields=["-started_at"], name="ledger_check_recent")]

    def __str__(self) -> str:
        return f"{self.started_at:%Y-%m-%d %H:%M}: {'OK' if not self.drifted else f'{self.drifted} drifted'}"


class BulkAdjustment(models.Model):
    """One credit or debit of the same points, with one reason, to many members (a list or a segment): a bulk award
    or a point-of-sale correction, run by a job in batches that commit one by one, with its progress here."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")

    points = models.BigIntegerField(help_text=_("Positive to credit, negative to debit, for each member."),
        verbose_name=_("points"))
    reason = models.CharField(max_length=500, verbose_name=_("reason"))
    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="+", verbose_name=_("channel"))
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="+", verbose_name=_("actor"))
    source = models.CharField(max_length=120, help_text=_("The members it was given to: a list, or a segment."),
        verbose_name=_("source"))
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED, verbose_name=_("status"))
    total = models.PositiveIntegerField(default=0, verbose_name=_("total"))
    done = models.PositiveIntegerField(default=0, verbose_name=_("done"))
    skipped = models.PositiveIntegerField(default=0, help_text=_("Members the adjustment could not be made for "
                                                                 "(e.g. not enough points for a debit)."),
        verbose_name=_("skipped"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    finished_at = models.DateTimeField(null=True, blank=True, verbose_name=_("finished at"))

    class Meta:
        verbose_name = _("bulk adjustment")
        verbose_name_plural = _("bulk adjustments")
        constraints = [models.CheckConstraint(condition=~Q(points=0), name="bulk_adjustment_points_not_zero")]

    def __str__(self) -> str:
        return f"{self.points:+} × {self.total} ({self.get_status_display()})"


class BulkAdjustmentItem(models.Model):
    """One member of a bulk adjustment and what became of it."""

    class Outcome(models.TextChoices):
        PENDING = "pending", _("Pending")
        DONE = "done", _("Done")
        SKIPPED = "skipped", _("Skipped")

    bulk = models.ForeignKey(BulkAdjustment, on_delete=models.PROTECT, related_name="items", verbose_name=_("bulk"))
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+", verbose_name=_("member"))
    outcome = models.CharField(max_length=8, choices=Outcome.choices, default=Outcome.PENDING, verbose_name=_("outcome"))
    transaction = models.ForeignKey(Transaction, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("transaction"))
    note = models.CharField(max_length=200, blank=True, verbose_name=_("note"))

    class Meta:
        verbose_name = _("bulk adjustment item")
        verbose_name_plural = _("bulk adjustment items")
        constraints = [models.UniqueConstraint(fields=["bulk", "member"], name="bulk_adjustment_member_once")]
        indexes = [models.Index(fields=["bulk", "member"], condition=Q(outcome="pending"),
                                name="bulk_adjustment_pending")]


class LedgerPermissions(models.Model):
    """Holds the ledger's staff permissions; no table rows."""

    class Meta:
        verbose_name = _("ledger permissions")
        verbose_name_plural = _("ledger permissions")
        managed = False
        default_permissions = ()
        permissions = [
            ("adjust_points", _("Can adjust points within the clerk limit")),
            ("adjust_points_unlimited", _("Can adjust points beyond the clerk limit")),
        ]
