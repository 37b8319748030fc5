"""The rewards catalog, the redemption rules, redemptions (of rewards, and of points at checkout), vouchers."""

import secrets
from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from core.history import track
from core.models import Channel, SettingsRow
from loyalty.models import BirthdayGift, Transaction
from members.models import Member, Plan, Tier


@track()
class RedemptionRules(SettingsRow):
    """The program-wide redemption rules, edited by staff. One row."""

    points_per_unit = models.PositiveIntegerField(
        default=100, validators=[MinValueValidator(1)], help_text=_("Points worth 1.00 of currency at checkout."),
        verbose_name=_("points per unit"))
    min_order_value = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"),
                                          help_text=_("Smallest order on which points may pay at all."),
        verbose_name=_("min order value"))
    max_order_share = models.PositiveSmallIntegerField(
        default=50, validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text=_("Largest share of an order (percent) payable with points."), verbose_name=_("max order share"))
    min_balance = models.PositiveIntegerField(default=0, help_text=_("Points a member must have to redeem at all."),
        verbose_name=_("min balance"))
    hold_minutes = models.PositiveIntegerField(default=30, help_text=_("A checkout hold lapses after this long."),
        verbose_name=_("hold minutes"))
    voucher_valid_days = models.PositiveIntegerField(default=90, help_text=_("Unless the reward says otherwise."),
        verbose_name=_("voucher valid days"))
    voucher_reminder_days = models.PositiveIntegerField(
        default=7, help_text=_("Remind members this many days before an unused voucher expires; 0 for never."),
        verbose_name=_("voucher reminder days"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = verbose_name_plural = _("redemption rules")

    def __str__(self) -> str:
        return "Redemption rules"



@track()
class Cause(models.Model):
    """Something members can give points to; the program keeps the total given."""

    code = models.SlugField(max_length=32, unique=True, verbose_name=_("code"))
    name = models.CharField(max_length=100, verbose_name=_("name"))
    description = models.TextField(blank=True, verbose_name=_("description"))
    donated_points = models.BigIntegerField(default=0, verbose_name=_("donated points"))

    class Meta:
        verbose_name = _("cause")
        verbose_name_plural = _("causes")
        constraints = [models.CheckConstraint(condition=Q(donated_points__gte=0), name="cause_total_nonnegative")]

    def __str__(self) -> str:
        return self.name


@track(exclude=("stock",))  # stock moves with every redemption; staff edits of it are in the audit log
class Reward(models.Model):
    class Kind(models.TextChoices):
        PRODUCT_VOUCHER = "product_voucher", _("Voucher for a product")
        FIXED_DISCOUNT = "fixed_discount", _("Voucher for a fixed discount")
        PERCENT_DISCOUNT = "percent_discount", _("Voucher for a percentage discount")
        PHYSICAL = "physical", _("Physical item")
        DONATION = "donation", _("Donation to a cause")

    class Period(models.TextChoices):
        DAY = "day", _("per day")
        WEEK = "week", _("per week")
        MONTH = "month", _("per month")
        YEAR = "year", _("per year")

    code = models.SlugField(max_length=32, unique=True, verbose_name=_("code"))
    name = models.CharField(max_length=100, verbose_name=_("name"))
    description = models.TextField(blank=True, verbose_name=_("description"))
    image_url = models.URLField(blank=True, verbose_name=_("image url"))
    kind = models.CharField(max_length=20, choices=Kind.choices, verbose_name=_("kind"))
    points_cost = models.PositiveIntegerField(validators=[MinValueValidator(1)], verbose_name=_("points cost"))
    value = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True,
                                help_text=_("Fixed discount (currency) or percentage, by kind."),
        verbose_name=_("value"))
    currency = models.CharField(max_length=3, blank=True, verbose_name=_("currency"))
    product_sku = models.CharField(max_length=100, blank=True, verbose_name=_("product sku"))
    cause = models.ForeignKey(Cause, null=True, blank=True, on_delete=models.PROTECT, verbose_name=_("cause"))
    valid_from = models.DateTimeField(null=True, blank=True, verbose_name=_("valid from"))
    valid_until = models.DateTimeField(null=True, blank=True, verbose_name=_("valid until"))
    voucher_valid_days = models.PositiveIntegerField(null=True, blank=True, verbose_name=_("voucher valid days"))
    stock = models.PositiveIntegerField(null=True, blank=True, help_text=_("Empty for unlimited."),
        verbose_name=_("stock"))
    per_member_limit = models.PositiveIntegerField(null=True, blank=True, help_text=_("In all, per member."),
        verbose_name=_("per member limit"))
    per_period_limit = models.PositiveIntegerField(null=True, blank=True, verbose_name=_("per period limit"))
    limit_period = models.CharField(max_length=8, choices=Period.choices, blank=True, verbose_name=_("limit period"))
    global_limit = models.PositiveIntegerField(null=True, blank=True, help_text=_("In all, for all members."),
        verbose_name=_("global limit"))
    tiers = models.ManyToManyField(Tier, blank=True, help_text=_("Only members of these tiers (empty: everyone)."),
        verbose_name=_("tiers"))
    plans = models.ManyToManyField(Plan, blank=True, help_text=_("Only members on these paid plans (empty: everyone)."),
        verbose_name=_("plans"))
    active = models.BooleanField(default=True, verbose_name=_("active"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("reward")
        verbose_name_plural = _("rewards")
        ordering = ["points_cost", "code"]
        constraints = [
            models.CheckConstraint(condition=Q(kind="donation", cause__isnull=False) | ~Q(kind="donation"),
                                   name="donation_has_a_cause"),
            models.CheckConstraint(condition=Q(stock__gte=0) | Q(stock__isnull=True), name="reward_stock_nonnegative"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.points_cost} points)"

    @property
    def issues_voucher(self) -> bool:
        return self.kind in (self.Kind.PRODUCT_VOUCHER, self.Kind.FIXED_DISCOUNT, self.Kind.PERCENT_DISCOUNT)


class Redemption(models.Model):
    """Points spent by a member: plain points, a reward of the catalog, or points paying part of an order."""

    class Kind(models.TextChoices):
        POINTS = "points", _("Points")
        REWARD = "reward", _("Reward")
        CHECKOUT = "checkout", _("Points as payment at checkout")

    class Status(models.TextChoices):
        HELD = "held", _("Held for checkout")
        COMPLETED = "completed", _("Completed")
        RELEASED = "released", _("Hold released")
        EXPIRED = "expired", _("Hold lapsed")
        CANCELLED = "cancelled", _("Cancelled")

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="redemptions", verbose_name=_("member"))
    # No constraint in the database, as the ledger's Transaction.channel (see core.models.IdempotencyRecord.channel):
    # its check took a shared lock on the shop's one channel row on every redemption (two WAL records, a multixact
    # among the requests in flight); Django's PROTECT still guards the channel. The index stays: every earn asks
    # whether its order was paid with points by (channel, order id).
    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, db_constraint=False, verbose_name=_("channel"))
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.POINTS, verbose_name=_("kind"))
    reward = models.ForeignKey(Reward, null=True, blank=True, on_delete=models.PROTECT, related_name="redemptions",
        verbose_name=_("reward"))
    quantity = models.PositiveIntegerField(default=1, verbose_name=_("quantity"))
    points = models.BigIntegerField(verbose_name=_("points"))
    points_returned = models.BigIntegerField(default=0, help_text=_("Given back on refunds of the order."),
        verbose_name=_("points returned"))
    order_id = models.CharField(max_length=100, blank=True, verbose_name=_("order id"))
    order_value = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True,
        verbose_name=_("order value"))
    discount = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True,
                                   help_text=_("What the points paid at checkout."), verbose_name=_("discount"))
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.COMPLETED,
        verbose_name=_("status"))
    hold_expires_at = models.DateTimeField(null=True, blank=True, verbose_name=_("hold expires at"))
    transaction = models.OneToOneField(Transaction, on_delete=models.PROTECT, related_name="redemption",
        verbose_name=_("transaction"))
    cancel_transaction = models.OneToOneField(Transaction, null=True, blank=True, on_delete=models.PROTECT,
                                              related_name="cancelled_redemption",
        verbose_name=_("cancel transaction"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    cancelled_at = models.DateTimeField(null=True, blank=True, verbose_name=_("cancelled at"))

    class Meta:
        verbose_name = _("redemption")
        verbose_name_plural = _("redemptions")
        constraints = [
            models.CheckConstraint(condition=Q(points__gt=0), name="redemption_points_positive"),
            models.CheckConstraint(condition=Q(points_returned__gte=0, points_returned__lte=F("points")),
                                   name="redemption_returned_within_points"),
            models.UniqueConstraint(fields=["channel", "order_id"], condition=Q(kind="checkout") & ~Q(
                status__in=["released", "expired", "cancelled"]), name="one_live_checkout_hold_per_order"),
        ]
        indexes = [
            models.Index(fields=["member", "-id"]),
            models.Index(fields=["hold_expires_at"], condition=Q(status="held"), name="redemption_hold_due"),
            models.Index(fields=["reward", "member", "created_at"], name="redemption_reward_limits"),
        ]

    def __str__(self) -> str:
        return f"redemption #{self.pk}: {self.points} points ({self.status})"


def voucher_code() -> str:
    """16 characters of an alphabet without look-alikes (no 0/O, 1/I/L), in groups: ~80 bits."""
    alphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
    raw = "".join(secrets.choice(alphabet) for _ in range(16))
    return "-".join(raw[i:i + 4] for i in range(0, 16, 4))


@track()
class Voucher(models.Model):
    class Status(models.TextChoices):
        ISSUED = "issued", _("Issued")
        REDEEMED = "redeemed", _("Redeemed")
        VOID = "void", _("Void")

    code = models.CharField(max_length=19, unique=True, default=voucher_code, verbose_name=_("code"))
    redemption = models.ForeignKey(Redemption, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="vouchers", verbose_name=_("redemption"))
    birthday_gift = models.OneToOneField(BirthdayGift, null=True, blank=True, on_delete=models.PROTECT,
                                         related_name="voucher", help_text=_("A tier's birthday present (no points)."),
        verbose_name=_("birthday gift"))
    grant_key = models.CharField(max_length=255, null=True, blank=True, unique=True,
                                 help_text=_("A voucher given away by an app above (a campaign): its unique origin."),
        verbose_name=_("grant key"))
    reward = models.ForeignKey(Reward, on_delete=models.PROTECT, verbose_name=_("reward"))
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="vouchers", verbose_name=_("member"))
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ISSUED, verbose_name=_("status"))
    expires_at = models.DateTimeField(verbose_name=_("expires at"))
    redeemed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("redeemed at"))
    redeemed_channel = models.ForeignKey(Channel, null=True, blank=True, on_delete=models.PROTECT,
        verbose_name=_("redeemed channel"))
    redeemed_store = models.CharField(max_length=100, blank=True, verbose_name=_("redeemed store"))
    redeemed_order_id = models.CharField(max_length=100, blank=True, verbose_name=_("redeemed order id"))
    voided_at = models.DateTimeField(null=True, blank=True, verbose_name=_("voided at"))
    void_reason = models.CharField(max_length=300, blank=True, verbose_name=_("void reason"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("voucher")
        verbose_name_plural = _("vouchers")
        indexes = [models.Index(fields=["expires_at"], condition=Q(status="issued"), name="voucher_issued_by_expiry")]
        permissions = [("void_voucher", _("Can void vouchers"))]
        constraints = [models.CheckConstraint(
            condition=Q(redemption__isnull=False) | Q(birthday_gift__isnull=False) | Q(grant_key__isnull=False),
            name="voucher_has_an_origin")]

    def __str__(self) -> str:
        return f"{self.code} ({self.status})"
