"""Behaviour events the shop pushes, their per-day counters, campaigns staff define, and each campaign's firings.

A firing is unique per (campaign, member, occurrence key): whatever runs a campaign twice for the same occurrence
(a replayed order, a rerun job, a retried batch) meets that key and applies nothing twice.
"""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.cache import forget
from core.history import track
from core.models import Channel, SettingsRow
from insight.models import Stage, Tag
from loyalty.models import Transaction
from members.models import Member, Plan, Tier
from rewards.models import Reward, Voucher

ATTRIBUTE_TYPES = {"string": str, "integer": int, "number": (int, float), "boolean": bool}


@track()
class EventType(models.Model):
    """A kind of behaviour event staff define, with a small schema of its attributes:
    `{"course_id": {"type": "string", "required": true}, "seconds": {"type": "integer"}}`."""

    name = models.SlugField(max_length=64, unique=True, verbose_name=_("name"))
    description = models.CharField(max_length=200, blank=True, verbose_name=_("description"))
    attributes = models.JSONField(default=dict, blank=True,
                                  help_text=_('Per attribute: {"type": "string|integer|number|boolean", '
                                            '"required": true|false}. Attributes not listed are refused.'),
        verbose_name=_("attributes"))
    active = models.BooleanField(default=True, verbose_name=_("active"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("event type")
        verbose_name_plural = _("event types")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        super().save(*args, **kwargs)
        forget("campaigns.event_types")  # the per-process types and their compiled attribute checkers

    def clean(self) -> None:
        if not isinstance(self.attributes, dict):
            raise ValidationError({"attributes": "An object of attribute name to its rule."})
        for key, rule in self.attributes.items():
            if not isinstance(rule, dict) or rule.get("type") not in ATTRIBUTE_TYPES or set(rule) - {"type", "required"}:
                raise ValidationError({"attributes": f"{key}: needs a type among {', '.join(ATTRIBUTE_TYPES)}."})


class Event(models.Model):
    """One behaviour event. The table is partitioned by month of `occurred_at` (migration 0003): its primary key
    in the database is (id, occurred_at), and "once per (channel, event id)" is kept by EventKey, which a
    partitioned table cannot hold as a unique constraint of its own."""

    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, db_index=False, verbose_name=_("channel"))
    event_id = models.CharField(max_length=100, verbose_name=_("event id"))
    member = models.ForeignKey(Member, on_delete=models.PROTECT, db_index=False, verbose_name=_("member"))
    type = models.ForeignKey(EventType, on_delete=models.PROTECT, db_index=False, verbose_name=_("type"))
    occurred_at = models.DateTimeField(verbose_name=_("occurred at"))
    attributes = models.JSONField(default=dict, blank=True, verbose_name=_("attributes"))
    recorded_at = models.DateTimeField(verbose_name=_("recorded at"))

    class Meta:
        verbose_name = _("event")
        verbose_name_plural = _("events")
        # No other index: no query reads events by anything else, and each index costs every event an insert.
        indexes = [models.Index(fields=["member", "type", "occurred_at"], name="event_by_member_type_time")]

    def __str__(self) -> str:
        return f"{self.type_id} of {self.member_id} at {self.occurred_at:%Y-%m-%d %H:%M}"


class EventKey(models.Model):
    """An event id a channel sent, kept once: the dedupe key of the partitioned events table. Kept as long as
    the event's partition (the retention job deletes both); an event older than that is refused anyway."""

    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, db_index=False, verbose_name=_("channel"))
    event_id = models.CharField(max_length=100, verbose_name=_("event id"))
    occurred_at = models.DateTimeField(db_index=True, verbose_name=_("occurred at"))

    class Meta:
        verbose_name = _("event key")
        verbose_name_plural = _("event keys")
        constraints = [models.UniqueConstraint(fields=["channel", "event_id"], name="event_key_unique_per_channel")]


class EventCounter(models.Model):
    """How many events of a type a member had on a day (UTC), kept by an upsert as events arrive."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, db_index=False, verbose_name=_("member"))
    type = models.ForeignKey(EventType, on_delete=models.CASCADE, db_index=False, verbose_name=_("type"))
    day = models.DateField(verbose_name=_("day"))
    count = models.PositiveIntegerField(default=0, verbose_name=_("count"))

    class Meta:
        verbose_name = _("event counter")
        verbose_name_plural = _("event counters")
        constraints = [models.UniqueConstraint(fields=["member", "type", "day"], name="event_counter_unique")]


@track(exclude=("spent_points",))  # moved by every firing, not by staff
class Campaign(models.Model):
    class Trigger(models.TextChoices):
        EVENT = "event", _("Each event of a type")
        EVENT_COUNT = "event_count", _("N events of a type within a window")
        ORDER = "order", _("An order")
        STAGE_CHANGE = "stage_change", _("A lifecycle stage change")
        TIER_CHANGE = "tier_change", _("A tier change")
        TAG_ENTERED = "tag_entered", _("A tag or segment entered")
        BIRTHDAY = "birthday", _("The member's birthday")
        ANNIVERSARY = "anniversary", _("The anniversary of joining")
        FIXED_DATE = "fixed_date", _("A fixed date")
        TIER_WARNING = "tier_warning", _("A warning before a tier downgrade")

    class PaidPlan(models.TextChoices):
        ON_PLAN = "on_plan", _("On a paid plan (trial or active)")
        NO_PLAN = "no_plan", _("Not on a paid plan")

    class LimitPeriod(models.TextChoices):
        DAY = "day", _("Day")
        WEEK = "week", _("Week")
        MONTH = "month", _("Month")

    class Window(models.TextChoices):
        AFTER_SIGN_UP = "after_sign_up", _("Within the window after the member signed up")
        SLIDING = "sliding", _("Within any sliding window of days")

    code = models.SlugField(max_length=64, unique=True, verbose_name=_("code"))
    name = models.CharField(max_length=200, verbose_name=_("name"))
    journey = models.CharField(max_length=32, blank=True, editable=False, verbose_name=_("journey"),
                               help_text=_("The lifecycle journey this ready campaign ships as."))
    active = models.BooleanField(default=False, help_text=_("Live: evaluated as events, orders and changes arrive."),
        verbose_name=_("active"))
    starts_at = models.DateTimeField(null=True, blank=True, verbose_name=_("starts at"))
    ends_at = models.DateTimeField(null=True, blank=True, verbose_name=_("ends at"))
    # Trigger
    trigger = models.CharField(max_length=16, choices=Trigger.choices, verbose_name=_("trigger"))
    event_type = models.ForeignKey(EventType, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("event type"))
    event_count = models.PositiveIntegerField(default=1, help_text=_("N: at least this many events (more than 10 = 11)."),
        verbose_name=_("event count"))
    window = models.CharField(max_length=16, choices=Window.choices, default=Window.AFTER_SIGN_UP,
        verbose_name=_("window"))
    window_hours = models.PositiveIntegerField(default=24, help_text=_("After sign-up: the window, in hours."),
        verbose_name=_("window hours"))
    window_days = models.PositiveIntegerField(default=1, help_text=_("Sliding: the window, in days (UTC)."),
        verbose_name=_("window days"))
    collect_attribute = models.CharField(max_length=64, blank=True,
                                         help_text=_("Event count: the attribute whose values (e.g. the courses "
                                                   "viewed) go with the firing and its message."),
        verbose_name=_("collect attribute"))
    order_min_amount = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True,
        verbose_name=_("order min amount"))
    to_stage = models.CharField(max_length=10, choices=Stage.choices, blank=True,
                                help_text=_("Stage change: the stage entered (any when blank)."),
        verbose_name=_("to stage"))
    to_tier = models.ForeignKey(Tier, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                help_text=_("Tier change: the tier entered (any when blank)."), verbose_name=_("to tier"))
    upgrades_only = models.BooleanField(default=False, verbose_name=_("upgrades only"),
                                        help_text=_("Tier change: only when the member qualified for a higher tier."))
    to_tag = models.ForeignKey(Tag, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                               verbose_name=_("tag entered"),
                               help_text=_("Tag entered: the tag. A segment is a rule tag on the value tier, "
                                           "loyalty type or stage (e.g. value tier = high)."))
    fire_on = models.DateField(null=True, blank=True, verbose_name=_("fixed date"),
                               help_text=_("Fixed date: the day (the program's time zone) it reaches its members."))
    # Conditions (blank: any)
    tiers = models.JSONField(default=list, blank=True, help_text=_('Tier codes the member must hold, e.g. ["gold"].'),
        verbose_name=_("tiers"))
    stages = models.JSONField(default=list, blank=True, help_text=_('Lifecycle stages, e.g. ["new", "active"].'),
        verbose_name=_("stages"))
    stores = models.JSONField(default=list, blank=True, help_text=_("The order's store (or the event's `store`)."),
        verbose_name=_("stores"))
    channels = models.JSONField(default=list, blank=True, help_text=_("Names of the channels the trigger came from."),
        verbose_name=_("channels"))
    value_tiers = models.JSONField(default=list, blank=True, verbose_name=_("value tiers"),
                                   help_text=_('Value tiers (insight), e.g. ["high"].'))
    loyalty_types = models.JSONField(default=list, blank=True, verbose_name=_("loyalty types"),
                                     help_text=_('Loyalty types (insight), e.g. ["latent", "committed"].'))
    paid_plan = models.CharField(max_length=8, choices=PaidPlan.choices, blank=True, verbose_name=_("paid plan"),
                                 help_text=_("Any member when blank."))
    plan = models.ForeignKey(Plan, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                             verbose_name=_("plan"), help_text=_("With a paid plan: this plan only."))
    hour_from = models.PositiveSmallIntegerField(null=True, blank=True, verbose_name=_("from hour"),
                                                 help_text=_("Time of day in the member's time zone: from this hour "
                                                             "(0-23) ..."))
    hour_to = models.PositiveSmallIntegerField(null=True, blank=True, verbose_name=_("to hour"),
                                               help_text=_("... until before this hour (1-24; past midnight when "
                                                           "smaller than the first)."))
    weekdays = models.JSONField(default=list, blank=True, verbose_name=_("days of the week"),
                                help_text=_("ISO days in the member's time zone, 1 = Monday ... 7 = Sunday."))
    languages = models.JSONField(default=list, blank=True, verbose_name=_("languages"),
                                 help_text=_("The member's language, e.g. [\"zh-hans\"]."))
    needs_marketing_consent = models.BooleanField(default=False, verbose_name=_("needs marketing consent"))
    age_min = models.PositiveSmallIntegerField(null=True, blank=True, verbose_name=_("minimum age"),
                                               help_text=_("From the birth date; members without one are left out."))
    age_max = models.PositiveSmallIntegerField(null=True, blank=True, verbose_name=_("maximum age"))
    # Effects
    bonus_points = models.PositiveIntegerField(default=0, verbose_name=_("bonus points"))
    reward = models.ForeignKey(Reward, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                               help_text=_("A voucher of this reward, given without points."), verbose_name=_("reward"))
    boost_multiplier = models.DecimalField(
        max_digits=6, decimal_places=3, null=True, blank=True, verbose_name=_("multiplier on the next order"),
        validators=[MinValueValidator(Decimal("1.001"))],
        help_text=_("E.g. 2 for double points on the member's next order that earns."))
    boost_valid_days = models.PositiveIntegerField(default=30, verbose_name=_("multiplier valid for days"))
    message_subject = models.JSONField(default=dict, blank=True, help_text=_('Per language: {"en": "...", "zh-hans": "..."}.'),
        verbose_name=_("message subject"))
    message_text = models.JSONField(default=dict, blank=True, help_text=_("Per language, as the subject."),
        verbose_name=_("message text"))
    tag = models.ForeignKey(Tag, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("tag"))
    # Limits
    once_per_member = models.BooleanField(default=True, verbose_name=_("once per member"))
    limit_per_member = models.PositiveIntegerField(null=True, blank=True, verbose_name=_("firings per member"),
                                                   help_text=_("At most this many firings per member in each period."))
    limit_period = models.CharField(max_length=8, choices=LimitPeriod.choices, default=LimitPeriod.MONTH,
                                    verbose_name=_("period"))
    budget_points = models.PositiveBigIntegerField(null=True, blank=True, help_text=_("Stops paying points beyond this."),
        verbose_name=_("budget points"))
    spent_points = models.PositiveBigIntegerField(default=0, editable=False, verbose_name=_("spent points"))
    budget_vouchers = models.PositiveIntegerField(null=True, blank=True, verbose_name=_("budget in vouchers"),
                                                  help_text=_("Stops giving vouchers beyond this."))
    spent_vouchers = models.PositiveIntegerField(default=0, editable=False, verbose_name=_("vouchers given"))
    # Control group
    holdout_percent = models.PositiveSmallIntegerField(
        default=0, validators=[MaxValueValidator(50)], verbose_name=_("control group (%)"),
        help_text=_("This share of the members it reaches (0-50) is held out at random, stably per member: they get "
                    "no effect, so the campaign's effect is measured against them."))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        constraints = [models.CheckConstraint(condition=Q(holdout_percent__lte=50), name="campaign_holdout_at_most_half"),
                       models.CheckConstraint(
            condition=Q(budget_points__isnull=True) | Q(spent_points__lte=models.F("budget_points")),
            name="campaign_within_budget"), models.CheckConstraint(
            condition=Q(budget_vouchers__isnull=True) | Q(spent_vouchers__lte=models.F("budget_vouchers")),
            name="campaign_within_voucher_budget")]
        indexes = [models.Index(fields=["trigger", "event_type"], condition=Q(active=True), name="campaign_live")]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        super().save(*args, **kwargs)
        forget("campaigns.order", "campaigns.event")  # the cached lists of order and event campaigns

    def clean(self) -> None:
        if self.trigger in (self.Trigger.EVENT, self.Trigger.EVENT_COUNT) and not self.event_type_id:
            raise ValidationError({"event_type": "An event trigger needs its event type."})
        if self.plan_id and self.paid_plan != self.PaidPlan.ON_PLAN:
            raise ValidationError({"plan": _("A given plan needs the condition: on a paid plan.")})
        if (self.hour_from is None) != (self.hour_to is None) or (self.hour_from or 0) > 23 or (self.hour_to or 1) > 24:
            raise ValidationError({"hour_to": _("Both hours, from 0-23 to 1-24.")})
        if any(d not in range(1, 8) for d in self.weekdays or []):
            raise ValidationError({"weekdays": _("Days are 1 (Monday) to 7 (Sunday).")})
        if self.trigger == self.Trigger.TAG_ENTERED and not self.to_tag_id:
            raise ValidationError({"to_tag": _("A tag trigger needs its tag.")})
        if self.trigger == self.Trigger.FIXED_DATE and not self.fire_on:
            raise ValidationError({"fire_on": _("A fixed-date trigger needs its date.")})
        if not (self.bonus_points or self.reward_id or self.message_text or self.tag_id or self.boost_multiplier):
            raise ValidationError("A campaign needs at least one effect.")
        if self.reward_id and not self.reward.issues_voucher:
            raise ValidationError({"reward": "This reward issues no voucher."})


class CampaignSettings(SettingsRow):
    """Program-wide rules of campaigns."""

    message_cap = models.PositiveIntegerField(
        null=True, blank=True, verbose_name=_("campaign messages per member"),
        help_text=_("Frequency cap across campaigns: at most this many campaign messages per member in the days "
                    "below (blank: no cap). A capped message is recorded as skipped; the other effects apply."))
    message_cap_days = models.PositiveIntegerField(default=7, verbose_name=_("in days"))
    event_retention_months = models.PositiveSmallIntegerField(
        default=13, validators=[MinValueValidator(1), MaxValueValidator(120)], verbose_name=_("keep events for months"),
        help_text=_("Behaviour events are kept this many whole months before the current one; older monthly "
                  "partitions are dropped by the nightly job, and older events are refused. Counters and "
                  "challenge progress are kept apart and stay."))

    class Meta:
        verbose_name = verbose_name_plural = _("campaign settings")

    def __str__(self) -> str:
        return str(_("Campaign settings"))


class Firing(models.Model):
    """A campaign applied to a member for one occurrence, with what it gave."""

    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="firings", db_index=False,
        verbose_name=_("campaign"))
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+", verbose_name=_("member"))
    occurrence_key = models.CharField(max_length=200, verbose_name=_("occurrence key"))
    fired_at = models.DateTimeField(verbose_name=_("fired at"))
    points = models.BigIntegerField(default=0, verbose_name=_("points"))
    transaction = models.OneToOneField(Transaction, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("transaction"))
    voucher = models.OneToOneField(Voucher, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("voucher"))
    details = models.JSONField(default=dict, blank=True, verbose_name=_("details"))
    messaged = models.BooleanField(default=False, help_text=_("A campaign message went to the outbox."),
        verbose_name=_("messaged"))
    held_out = models.BooleanField(default=False, help_text=_("In the control group: recorded, with no effect."),
        verbose_name=_("held out"))

    class Meta:
        verbose_name = _("firing")
        verbose_name_plural = _("firings")
        constraints = [models.UniqueConstraint(fields=["campaign", "member", "occurrence_key"],
                                               name="firing_once_per_occurrence")]
        # The frequency cap counts a member's recent campaign messages through this.
        indexes = [models.Index(fields=["member", "fired_at"], condition=Q(messaged=True), name="firing_messages")]

    def __str__(self) -> str:
        return f"{self.campaign_id} for {self.member_id} ({self.occurrence_key})"


class ChangeCursor(models.Model):
    """How far the change job has read a source of changes (stage changes, tier changes), by id."""

    source = models.CharField(max_length=32, unique=True, verbose_name=_("source"))
    last_id = models.BigIntegerField(default=0, verbose_name=_("last id"))

    class Meta:
        verbose_name = _("change cursor")
        verbose_name_plural = _("change cursors")


class Challenge(models.Model):
    """A small game staff define: "do E N times within T days" (an event type, or orders when blank), or a streak
    ("an order every week for K consecutive weeks", weeks from Monday in the member's time zone). Progress is
    kept per member as events and orders arrive; completing pays once per member."""

    class Kind(models.TextChoices):
        COUNT = "count", _("N times within T days")
        STREAK = "streak", _("An order every week for K weeks")

    code = models.SlugField(max_length=64, unique=True, verbose_name=_("code"))
    title = models.JSONField(default=dict, help_text=_('Per language: {"en": "...", "zh-hans": "..."}.'), verbose_name=_("title"))
    description = models.JSONField(default=dict, blank=True, help_text=_("Per language, as the title."),
        verbose_name=_("description"))
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.COUNT, verbose_name=_("kind"))
    event_type = models.ForeignKey(EventType, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                   help_text=_("Count: the event to do; blank: orders. Streaks count orders."),
        verbose_name=_("event type"))
    times = models.PositiveIntegerField(default=1, validators=[MinValueValidator(1)], help_text=_("Count: N."),
        verbose_name=_("times"))
    within_days = models.PositiveIntegerField(default=7, validators=[MinValueValidator(1)],
                                              help_text=_("Count: T, days from the first of the N."),
        verbose_name=_("within days"))
    weeks = models.PositiveIntegerField(default=4, validators=[MinValueValidator(1)], help_text=_("Streak: K."),
        verbose_name=_("weeks"))
    starts_at = models.DateTimeField(null=True, blank=True, verbose_name=_("starts at"))
    ends_at = models.DateTimeField(null=True, blank=True, verbose_name=_("ends at"))
    active = models.BooleanField(default=False, verbose_name=_("active"))
    bonus_points = models.PositiveIntegerField(default=0, help_text=_("Paid through the ledger when done."),
        verbose_name=_("bonus points"))
    reward = models.ForeignKey(Reward, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                               help_text=_("A voucher of this reward, given when done."), verbose_name=_("reward"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("challenge")
        verbose_name_plural = _("challenges")
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.code

    def save(self, *args, **kwargs) -> None:
        super().save(*args, **kwargs)
        forget("campaigns.challenges")  # the per-process list of live challenges

    def clean(self) -> None:
        if self.kind == self.Kind.STREAK and self.event_type_id:
            raise ValidationError({"event_type": "A streak counts orders: leave the event type blank."})
        if not (self.bonus_points or self.reward_id):
            raise ValidationError("A challenge needs a reward: bonus points or a voucher.")
        if self.reward_id and not self.reward.issues_voucher:
            raise ValidationError({"reward": "This reward issues no voucher."})
        if not isinstance(self.title, dict) or not self.title.get("en"):
            raise ValidationError({"title": 'At least {"en": "..."}.'})

    @property
    def target(self) -> int:
        return self.weeks if self.kind == self.Kind.STREAK else self.times


class ChallengeProgress(models.Model):
    """One attempt of a member at a challenge: a count window from its first event, or a run of weeks. An attempt
    that can no longer progress (`open_until` passed) is left as it is and the next event starts a new one."""

    challenge = models.ForeignKey(Challenge, on_delete=models.PROTECT, related_name="progress", db_index=False,
        verbose_name=_("challenge"))
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+", db_index=False, verbose_name=_("member"))
    period_start = models.DateTimeField(help_text=_("Count: the first event; streak: the first week's Monday."),
        verbose_name=_("period start"))
    last_at = models.DateTimeField(help_text=_("Count: the last event counted; streak: the last week's Monday."),
        verbose_name=_("last at"))
    open_until = models.DateTimeField(help_text=_("Count: the end of the window; streak: the end of the next week."),
        verbose_name=_("open until"))
    count = models.PositiveIntegerField(default=0, verbose_name=_("count"))
    completed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("completed at"))
    points = models.BigIntegerField(default=0, verbose_name=_("points"))
    transaction = models.OneToOneField(Transaction, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("transaction"))
    voucher = models.OneToOneField(Voucher, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("voucher"))

    class Meta:
        verbose_name = _("challenge progress")
        verbose_name_plural = _("challenge progress")
        verbose_name_plural = _("challenge progress")
        constraints = [
            models.UniqueConstraint(fields=["challenge", "member", "period_start"], name="challenge_progress_period"),
            models.UniqueConstraint(fields=["challenge", "member"], condition=Q(completed_at__isnull=False),
                                    name="challenge_completed_once"),
        ]
        indexes = [models.Index(fields=["member", "challenge", "open_until"], name="challenge_progress_member")]

    def __str__(self) -> str:
        return f"{self.challenge_id} of {self.member_id}: {self.count}"
