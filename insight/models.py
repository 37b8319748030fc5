"""Insight keeps its own tables, fed from the apps below it: survey answers, each member's facts (kept up to date
by the order flows), the nightly segments and their stage changes, the metric snapshots and the fitted CLV model."""

from decimal import Decimal

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.history import track
from core.models import Channel, SettingsRow
from loyalty.models import Transaction
from members.models import Member


class Stage(models.TextChoices):
    PROSPECT = "prospect", _("潜在客户 Prospect (registered, never ordered)")
    NEW = "new", _("新客户 New")
    ACTIVE = "active", _("活跃客户 Active")
    DORMANT = "dormant", _("沉睡客户 Dormant")
    CHURNED = "churned", _("流失客户 Churned")
    WON_BACK = "won_back", _("回流客户 Won back")


class ValueTier(models.TextChoices):
    HIGH = "high", _("高价值 High value")
    GENERAL = "general", _("一般价值 General value")
    LOW = "low", _("低价值 Low value")
    NONE = "none", _("无购买 No orders")


class LoyaltyType(models.TextChoices):
    NONE = "none", _("不忠诚 Not loyal (无忠诚)")
    INERTIA = "inertia", _("惯性型忠诚 Inertia")
    MERCENARY = "mercenary", _("雇佣型忠诚 Mercenary (唯利忠诚)")
    LATENT = "latent", _("潜在忠诚 Latent")
    COMMITTED = "committed", _("坚定型忠诚 Committed (持续忠诚)")
    ADVOCATE = "advocate", _("狂热型忠诚 Advocate (倡导者)")


@track()
class InsightSettings(SettingsRow):
    """The thresholds staff set for stages, loyalty types and lifetime value."""

    new_days = models.PositiveIntegerField(default=30, help_text=_("新客户: ordered, and joined within this many days."),
        verbose_name=_("new days"))
    active_days = models.PositiveIntegerField(default=90, help_text=_("活跃客户: last order within this many days."),
        verbose_name=_("active days"))
    churned_days = models.PositiveIntegerField(
        default=180, help_text=_("沉睡客户 between active_days and this; 流失客户 beyond it."), verbose_name=_("churned days"))
    repeat_orders = models.PositiveIntegerField(
        default=3, help_text=_("Behavioural loyalty: at least this many orders (net of fully refunded ones) ..."),
        verbose_name=_("repeat orders"))
    repeat_per_year = models.DecimalField(
        max_digits=6, decimal_places=2, default=Decimal("4"),
        help_text=_("... and at least this many orders a year since the first one, and not dormant or churned."),
        verbose_name=_("repeat per year"))
    mercenary_share = models.DecimalField(
        max_digits=4, decimal_places=3, default=Decimal("0.5"),
        help_text=_("雇佣型忠诚: of a behaviourally loyal member's orders, at least this share paid with points."),
        verbose_name=_("mercenary share"))
    promoter_nps = models.PositiveSmallIntegerField(default=9, help_text=_("Attitudinal loyalty: last NPS at least this ..."),
        verbose_name=_("promoter nps"))
    loyal_cli = models.DecimalField(max_digits=3, decimal_places=2, default=Decimal("5"),
                                    help_text=_("... or last CLI index at least this ..."), verbose_name=_("loyal cli"))
    advocate_referrals = models.PositiveIntegerField(
        default=1, help_text=_("... or at least this many successful referrals made, which also makes an advocate (倡导者)."),
        verbose_name=_("advocate referrals"))
    expected_lifetime_years = models.DecimalField(max_digits=5, decimal_places=2, default=Decimal("3"),
                                                  help_text=_("Simple CLV: the expected lifetime of a customer."),
        verbose_name=_("expected lifetime years"))
    clv_horizon_weeks = models.PositiveIntegerField(default=52, help_text=_("Model CLV: weeks ahead."),
        verbose_name=_("clv horizon weeks"))
    clv_sample_size = models.PositiveIntegerField(default=50_000, help_text=_("Members the nightly fit samples."),
        verbose_name=_("clv sample size"))
    effect_months = models.PositiveSmallIntegerField(
        default=6, help_text=_("Programme effect: months of spend compared before and after joining."),
        verbose_name=_("effect months"))

    class Meta:
        verbose_name = _("insight settings")
        verbose_name_plural = _("insight settings")


@track()
class Survey(models.Model):
    class Kind(models.TextChoices):
        NPS = "nps", _("净推荐值 NPS (0-10)")
        CSAT = "csat", _("客户满意度 CSAT (1-5)")
        CLI = "cli", _("客户忠诚度指数 CLI (three questions, 1-6 each)")

    class Period(models.TextChoices):
        ONCE = "once", _("Once")
        MONTH = "month", _("Once a month")
        QUARTER = "quarter", _("Once a quarter")
        YEAR = "year", _("Once a year")

    code = models.SlugField(max_length=64, unique=True, verbose_name=_("code"))
    kind = models.CharField(max_length=8, choices=Kind.choices, verbose_name=_("kind"))
    title = models.CharField(max_length=200, blank=True, verbose_name=_("title"))
    period = models.CharField(max_length=8, choices=Period.choices, default=Period.QUARTER,
                              help_text=_("A member answers once per period; a later answer in it is not recorded."),
        verbose_name=_("period"))
    reward_points = models.PositiveIntegerField(default=0, help_text=_("Points for the member's first answer per period."),
        verbose_name=_("reward points"))
    active = models.BooleanField(default=True, verbose_name=_("active"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("survey")
        verbose_name_plural = _("surveys")

    def __str__(self) -> str:
        return f"{self.code} ({self.kind})"


class SurveyAnswer(models.Model):
    survey = models.ForeignKey(Survey, on_delete=models.PROTECT, related_name="answers", verbose_name=_("survey"))
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="survey_answers", db_index=False,
        verbose_name=_("member"))
    period = models.CharField(max_length=10, help_text=_("The survey period answered: 2026-11, 2026-Q4, 2026 or once."),
        verbose_name=_("period"))
    score = models.DecimalField(max_digits=5, decimal_places=3,
                                help_text=_("NPS 0-10, CSAT 1-5, or the CLI index (the mean of its three answers)."),
        verbose_name=_("score"))
    recommend = models.PositiveSmallIntegerField(null=True, blank=True, help_text=_("CLI: would recommend us (1-6)."),
        verbose_name=_("recommend"))
    buy_again = models.PositiveSmallIntegerField(null=True, blank=True, help_text=_("CLI: would buy again (1-6)."),
        verbose_name=_("buy again"))
    try_other = models.PositiveSmallIntegerField(null=True, blank=True, help_text=_("CLI: would try other products (1-6)."),
        verbose_name=_("try other"))
    comment = models.TextField(blank=True, verbose_name=_("comment"))
    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, db_index=False, verbose_name=_("channel"))
    reward = models.OneToOneField(Transaction, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("reward"))
    answered_at = models.DateTimeField(verbose_name=_("answered at"))

    class Meta:
        verbose_name = _("survey answer")
        verbose_name_plural = _("survey answers")
        constraints = [
            models.UniqueConstraint(fields=["member", "survey", "period"], name="survey_answer_once_per_period"),
            models.CheckConstraint(condition=Q(score__gte=0, score__lte=10), name="survey_score_in_range"),
        ]
        indexes = [models.Index(fields=["survey", "answered_at"], name="survey_answer_by_time")]


class MemberFacts(models.Model):
    """A member's purchase facts, updated by every order and refund (never by rescanning history).

    No index besides the key: every earn updates the member's row, and with no indexed column changing that is a
    HOT update (no index entries, a smaller WAL record). The readers of `last_order_at` scan every member anyway
    (the nightly segments' quintiles and stages, the tags' rules); an index on it cost each earn two index
    inserts (it and the key's) for a nightly sort it barely shortened."""

    member = models.OneToOneField(Member, on_delete=models.PROTECT, primary_key=True, related_name="facts",
        verbose_name=_("member"))
    first_order_at = models.DateTimeField(null=True, blank=True, verbose_name=_("first order at"))
    last_order_at = models.DateTimeField(null=True, blank=True, verbose_name=_("last order at"))
    orders_count = models.PositiveIntegerField(default=0, help_text=_("Orders placed."), verbose_name=_("orders count"))
    refunded_orders = models.PositiveIntegerField(default=0, help_text=_("Of those, refunded in full."),
        verbose_name=_("refunded orders"))
    redeemed_orders = models.PositiveIntegerField(default=0, help_text=_("Orders paid (partly) with points."),
        verbose_name=_("redeemed orders"))
    spend = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"), help_text=_("Net of refunds."),
        verbose_name=_("spend"))
    categories = models.JSONField(default=list, blank=True, help_text=_("The distinct categories bought."),
        verbose_name=_("categories"))
    categories_count = models.PositiveIntegerField(default=0, verbose_name=_("categories count"))
    last_nps = models.PositiveSmallIntegerField(null=True, blank=True, verbose_name=_("last nps"))
    last_cli = models.DecimalField(max_digits=4, decimal_places=3, null=True, blank=True, verbose_name=_("last cli"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("member facts")
        verbose_name_plural = _("member facts")

    @property
    def net_orders(self) -> int:
        return self.orders_count - self.refunded_orders

    @property
    def average_order_value(self) -> Decimal | None:
        return (self.spend / self.net_orders).quantize(Decimal("0.01")) if self.net_orders > 0 else None

    @property
    def mean_days_between_orders(self) -> float | None:
        """Orders come in any order (late or imported ones), so the mean gap is the span over the gaps."""
        if self.orders_count < 2 or not self.first_order_at:
            return None
        return round((self.last_order_at - self.first_order_at).total_seconds() / 86400 / (self.orders_count - 1), 2)


class MemberSegment(models.Model):
    """A member's segments, as of the nightly run of `computed_on`."""

    member = models.OneToOneField(Member, on_delete=models.PROTECT, primary_key=True, related_name="segment",
        verbose_name=_("member"))
    stage = models.CharField(max_length=10, choices=Stage.choices, verbose_name=_("stage"))
    stage_since = models.DateTimeField(verbose_name=_("stage since"))
    recency = models.PositiveSmallIntegerField(default=0, help_text=_("RFM: quintile of the last order (5 = latest)."),
        verbose_name=_("recency"))
    frequency = models.PositiveSmallIntegerField(default=0, help_text=_("RFM: quintile of the orders count."),
        verbose_name=_("frequency"))
    monetary = models.PositiveSmallIntegerField(default=0, help_text=_("RFM: quintile of the spend."),
        verbose_name=_("monetary"))
    value_tier = models.CharField(max_length=8, choices=ValueTier.choices, verbose_name=_("value tier"))
    loyalty_type = models.CharField(max_length=10, choices=LoyaltyType.choices, verbose_name=_("loyalty type"))
    computed_on = models.DateTimeField(verbose_name=_("computed on"))

    class Meta:
        verbose_name = _("member segment")
        verbose_name_plural = _("member segments")
        indexes = [
            models.Index(fields=["stage"], name="segment_by_stage"),
            models.Index(fields=["value_tier"], name="segment_by_value"),
            models.Index(fields=["loyalty_type"], name="segment_by_loyalty"),
        ]


class StageChange(models.Model):
    """Every change of lifecycle stage (the first stage comes from ""), for campaigns to act on."""

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="stage_changes", db_index=False,
        verbose_name=_("member"))
    from_stage = models.CharField(max_length=10, blank=True, choices=Stage.choices, verbose_name=_("from stage"))
    to_stage = models.CharField(max_length=10, choices=Stage.choices, verbose_name=_("to stage"))
    changed_at = models.DateTimeField(verbose_name=_("changed at"))

    class Meta:
        verbose_name = _("stage change")
        verbose_name_plural = _("stage changes")
        indexes = [models.Index(fields=["member", "-changed_at"], name="stage_change_by_member"),
                   models.Index(fields=["changed_at"], name="stage_change_by_time")]


class MetricSnapshot(models.Model):
    class Period(models.TextChoices):
        DAY = "day", _("Day")
        WEEK = "week", _("Week")
        MONTH = "month", _("Month")

    period = models.CharField(max_length=8, choices=Period.choices, verbose_name=_("period"))
    start = models.DateField(verbose_name=_("start"))
    end = models.DateField(help_text=_("Exclusive."), verbose_name=_("end"))
    store = models.CharField(max_length=100, blank=True, verbose_name=_("store"))
    segment = models.CharField(max_length=40, blank=True, verbose_name=_("segment"))
    values = models.JSONField(default=dict, verbose_name=_("values"))
    computed_at = models.DateTimeField(verbose_name=_("computed at"))

    class Meta:
        verbose_name = _("metric snapshot")
        verbose_name_plural = _("metric snapshots")
        constraints = [models.UniqueConstraint(fields=["period", "start", "store", "segment"],
                                               name="one_snapshot_per_period")]


class ClvModel(models.Model):
    """The BG/NBD and Gamma-Gamma parameters of a nightly fit (time unit: weeks)."""

    fitted_at = models.DateTimeField(verbose_name=_("fitted at"))
    customers = models.PositiveIntegerField(verbose_name=_("customers"))
    r = models.FloatField(verbose_name=_("r"))
    alpha = models.FloatField(verbose_name=_("alpha"))
    a = models.FloatField(verbose_name=_("a"))
    b = models.FloatField(verbose_name=_("b"))
    p = models.FloatField(null=True, blank=True, verbose_name=_("p"))
    q = models.FloatField(null=True, blank=True, verbose_name=_("q"))
    gamma = models.FloatField(null=True, blank=True, verbose_name=_("gamma"))

    class Meta:
        verbose_name = _("clv model")
        verbose_name_plural = _("clv models")
        indexes = [models.Index(fields=["-fitted_at"], name="clv_model_latest")]


class Tag(models.Model):
    """A label on members: manual (staff attach it) or rule-based (a condition on the facts or segments, evaluated
    nightly after the segments: members matching it get the tag, members no longer matching lose it)."""

    class Field(models.TextChoices):
        NET_ORDERS = "net_orders", _("Orders (net of fully refunded ones)")
        SPEND = "spend", _("Spend (net of refunds)")
        AVERAGE_ORDER_VALUE = "average_order_value", _("Average order value")
        CATEGORIES_COUNT = "categories_count", _("Distinct categories bought")
        DAYS_SINCE_LAST_ORDER = "days_since_last_order", _("Days since the last order")
        LAST_NPS = "last_nps", _("Last NPS answer")
        LAST_CLI = "last_cli", _("Last CLI index")
        STAGE = "stage", _("Lifecycle stage")
        VALUE_TIER = "value_tier", _("Value tier")
        LOYALTY_TYPE = "loyalty_type", _("Loyalty type")

    class Op(models.TextChoices):
        GTE = "gte", _(">=")
        LTE = "lte", _("<=")
        EQ = "eq", _("=")

    TEXT_FIELDS = {"stage", "value_tier", "loyalty_type"}

    code = models.SlugField(max_length=40, unique=True, verbose_name=_("code"))
    name = models.CharField(max_length=100, verbose_name=_("name"))
    rule_field = models.CharField(max_length=24, choices=Field.choices, blank=True,
                                  help_text=_("Empty for a manual tag."), verbose_name=_("rule field"))
    rule_op = models.CharField(max_length=3, choices=Op.choices, blank=True, verbose_name=_("rule op"))
    rule_value = models.CharField(max_length=40, blank=True, help_text=_("A number, or a stage / tier / type code."),
        verbose_name=_("rule value"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")

    def __str__(self) -> str:
        return self.code

    @property
    def is_rule(self) -> bool:
        return bool(self.rule_field)

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        if not self.rule_field:
            if self.rule_op or self.rule_value:
                raise ValidationError("A manual tag has no rule: leave the operator and value empty.")
            return
        if not self.rule_op or not self.rule_value:
            raise ValidationError("A rule needs a field, an operator and a value.")
        if self.rule_field in self.TEXT_FIELDS:
            choices = {"stage": Stage, "value_tier": ValueTier, "loyalty_type": LoyaltyType}[self.rule_field]
            if self.rule_op != self.Op.EQ or self.rule_value not in choices.values:
                raise ValidationError({"rule_value": f"Use = and one of {', '.join(choices.values)}."})
        else:
            try:
                Decimal(self.rule_value)
            except ArithmeticError:
                raise ValidationError({"rule_value": "A number."}) from None


class MemberTag(models.Model):
    class Source(models.TextChoices):
        MANUAL = "manual", _("Attached by staff")
        RULE = "rule", _("By the tag's rule")

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="tags", db_index=False,
        verbose_name=_("member"))
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="members", verbose_name=_("tag"))
    source = models.CharField(max_length=8, choices=Source.choices, verbose_name=_("source"))
    added_at = models.DateTimeField(verbose_name=_("added at"))

    class Meta:
        verbose_name = _("member tag")
        verbose_name_plural = _("member tags")
        constraints = [models.UniqueConstraint(fields=["member", "tag"], name="member_tag_once")]


class HistoricalOrder(models.Model):
    """An order from before the program (the shop's history), imported for the facts, segments and lifetime value:
    it never earns points and is not a ledger order. Unique per channel and order id, so an import can be re-run."""

    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, db_index=False, verbose_name=_("channel"))
    order_id = models.CharField(max_length=100, verbose_name=_("order id"))
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="historical_orders", db_index=False,
        verbose_name=_("member"))
    amount = models.DecimalField(max_digits=12, decimal_places=2, verbose_name=_("amount"))
    occurred_at = models.DateTimeField(verbose_name=_("occurred at"))
    categories = models.JSONField(default=list, blank=True, verbose_name=_("categories"))
    imported_at = models.DateTimeField(verbose_name=_("imported at"))

    class Meta:
        verbose_name = _("historical order")
        verbose_name_plural = _("historical orders")
        constraints = [models.UniqueConstraint(fields=["channel", "order_id"], name="historical_order_once")]
        indexes = [models.Index(fields=["member", "occurred_at"], name="historical_order_by_member")]


class ChartSnapshot(models.Model):
    """What the dashboard's charts read instead of scanning every member or the whole ledger on each view: the
    segments' counts, the lifetime-value histogram and the points per day, stored by the nightly run."""

    key = models.SlugField(max_length=40, unique=True, verbose_name=_("key"))
    data = models.JSONField(default=dict, verbose_name=_("data"))
    computed_at = models.DateTimeField(verbose_name=_("computed at"))

    class Meta:
        verbose_name = _("chart snapshot")
        verbose_name_plural = _("chart snapshots")
