"""Behaviour events the shop pushes, their per-day counters, campaigns staff define, and each campaign's firings.

A firing is unique per (campaign, member, occurrence key): whatever runs a campaign twice for the same occurrence
(a replayed order, a rerun job, a retried batch) meets that key and applies nothing twice.
"""

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from core.cache import forget
from core.models import Channel, SettingsRow
from insight.models import Stage, Tag
from loyalty.models import Transaction
from members.models import Member, Tier
from rewards.models import Reward, Voucher

ATTRIBUTE_TYPES = {"string": str, "integer": int, "number": (int, float), "boolean": bool}


class EventType(models.Model):
    """A kind of behaviour event staff define, with a small schema of its attributes:
    `{"course_id": {"type": "string", "required": true}, "seconds": {"type": "integer"}}`."""

    name = models.SlugField(max_length=64, unique=True)
    description = models.CharField(max_length=200, blank=True)
    attributes = models.JSONField(default=dict, blank=True,
                                  help_text='Per attribute: {"type": "string|integer|number|boolean", '
                                            '"required": true|false}. Attributes not listed are refused.')
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if not isinstance(self.attributes, dict):
            raise ValidationError({"attributes": "An object of attribute name to its rule."})
        for key, rule in self.attributes.items():
            if not isinstance(rule, dict) or rule.get("type") not in ATTRIBUTE_TYPES or set(rule) - {"type", "required"}:
                raise ValidationError({"attributes": f"{key}: needs a type among {', '.join(ATTRIBUTE_TYPES)}."})


class CampaignSettings(SettingsRow):
    """What staff set for campaigns as a whole."""

    event_retention_months = models.PositiveSmallIntegerField(
        default=13, validators=[MinValueValidator(1), MaxValueValidator(120)],
        help_text="Behaviour events are kept this many whole months before the current one; older monthly "
                  "partitions are dropped by the nightly job, and older events are refused. Counters and "
                  "challenge progress are kept apart and stay.")

    class Meta:
        verbose_name = "campaign settings"
        verbose_name_plural = "campaign settings"


class Event(models.Model):
    """One behaviour event. The table is partitioned by month of `occurred_at` (migration 0003): its primary key
    in the database is (id, occurred_at), and "once per (channel, event id)" is kept by EventKey, which a
    partitioned table cannot hold as a unique constraint of its own."""

    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, db_index=False)
    event_id = models.CharField(max_length=100)
    member = models.ForeignKey(Member, on_delete=models.PROTECT, db_index=False)
    type = models.ForeignKey(EventType, on_delete=models.PROTECT, db_index=False)
    occurred_at = models.DateTimeField()
    attributes = models.JSONField(default=dict, blank=True)
    recorded_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["member", "type", "occurred_at"], name="event_by_member_type_time"),
                   models.Index(fields=["recorded_at"], name="event_by_recorded_at")]

    def __str__(self) -> str:
        return f"{self.type_id} of {self.member_id} at {self.occurred_at:%Y-%m-%d %H:%M}"


class EventKey(models.Model):
    """An event id a channel sent, kept once: the dedupe key of the partitioned events table. Kept as long as
    the event's partition (the retention job deletes both); an event older than that is refused anyway."""

    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, db_index=False)
    event_id = models.CharField(max_length=100)
    occurred_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["channel", "event_id"], name="event_key_unique_per_channel")]


class EventCounter(models.Model):
    """How many events of a type a member had on a day (UTC), kept by an upsert as events arrive."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, db_index=False)
    type = models.ForeignKey(EventType, on_delete=models.CASCADE, db_index=False)
    day = models.DateField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["member", "type", "day"], name="event_counter_unique")]


class Campaign(models.Model):
    class Trigger(models.TextChoices):
        EVENT = "event", "Each event of a type"
        EVENT_COUNT = "event_count", "N events of a type within a window"
        ORDER = "order", "An order"
        STAGE_CHANGE = "stage_change", "A lifecycle stage change"
        TIER_CHANGE = "tier_change", "A tier change"

    class Window(models.TextChoices):
        AFTER_SIGN_UP = "after_sign_up", "Within the window after the member signed up"
        SLIDING = "sliding", "Within any sliding window of days"

    code = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    active = models.BooleanField(default=False, help_text="Live: evaluated as events, orders and changes arrive.")
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    # Trigger
    trigger = models.CharField(max_length=16, choices=Trigger.choices)
    event_type = models.ForeignKey(EventType, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    event_count = models.PositiveIntegerField(default=1, help_text="N: at least this many events (more than 10 = 11).")
    window = models.CharField(max_length=16, choices=Window.choices, default=Window.AFTER_SIGN_UP)
    window_hours = models.PositiveIntegerField(default=24, help_text="After sign-up: the window, in hours.")
    window_days = models.PositiveIntegerField(default=1, help_text="Sliding: the window, in days (UTC).")
    collect_attribute = models.CharField(max_length=64, blank=True,
                                         help_text="Event count: the attribute whose values (e.g. the courses "
                                                   "viewed) go with the firing and its message.")
    order_min_amount = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    to_stage = models.CharField(max_length=10, choices=Stage.choices, blank=True,
                                help_text="Stage change: the stage entered (any when blank).")
    to_tier = models.ForeignKey(Tier, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                help_text="Tier change: the tier entered (any when blank).")
    # Conditions (blank: any)
    tiers = models.JSONField(default=list, blank=True, help_text='Tier codes the member must hold, e.g. ["gold"].')
    stages = models.JSONField(default=list, blank=True, help_text='Lifecycle stages, e.g. ["new", "active"].')
    stores = models.JSONField(default=list, blank=True, help_text="The order's store (or the event's `store`).")
    channels = models.JSONField(default=list, blank=True, help_text="Names of the channels the trigger came from.")
    # Effects
    bonus_points = models.PositiveIntegerField(default=0)
    reward = models.ForeignKey(Reward, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                               help_text="A voucher of this reward, given without points.")
    message_subject = models.JSONField(default=dict, blank=True, help_text='Per language: {"en": "...", "zh-hans": "..."}.')
    message_text = models.JSONField(default=dict, blank=True, help_text="Per language, as the subject.")
    tag = models.ForeignKey(Tag, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    # Limits
    once_per_member = models.BooleanField(default=True)
    budget_points = models.PositiveBigIntegerField(null=True, blank=True, help_text="Stops paying points beyond this.")
    spent_points = models.PositiveBigIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.CheckConstraint(
            condition=Q(budget_points__isnull=True) | Q(spent_points__lte=models.F("budget_points")),
            name="campaign_within_budget")]
        indexes = [models.Index(fields=["trigger", "event_type"], condition=Q(active=True), name="campaign_live")]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        super().save(*args, **kwargs)
        forget("campaigns.order")  # the order flow's cached list of order campaigns

    def clean(self) -> None:
        if self.trigger in (self.Trigger.EVENT, self.Trigger.EVENT_COUNT) and not self.event_type_id:
            raise ValidationError({"event_type": "An event trigger needs its event type."})
        if not (self.bonus_points or self.reward_id or self.message_text or self.tag_id):
            raise ValidationError("A campaign needs at least one effect.")
        if self.reward_id and not self.reward.issues_voucher:
            raise ValidationError({"reward": "This reward issues no voucher."})


class Firing(models.Model):
    """A campaign applied to a member for one occurrence, with what it gave."""

    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="firings", db_index=False)
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+")
    occurrence_key = models.CharField(max_length=200)
    fired_at = models.DateTimeField()
    points = models.BigIntegerField(default=0)
    transaction = models.OneToOneField(Transaction, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    voucher = models.OneToOneField(Voucher, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["campaign", "member", "occurrence_key"],
                                               name="firing_once_per_occurrence")]

    def __str__(self) -> str:
        return f"{self.campaign_id} for {self.member_id} ({self.occurrence_key})"


class ChangeCursor(models.Model):
    """How far the change job has read a source of changes (stage changes, tier changes), by id."""

    source = models.CharField(max_length=32, unique=True)
    last_id = models.BigIntegerField(default=0)


class Challenge(models.Model):
    """A small game staff define: "do E N times within T days" (an event type, or orders when blank), or a streak
    ("an order every week for K consecutive weeks", weeks from Monday in the member's time zone). Progress is
    kept per member as events and orders arrive; completing pays once per member."""

    class Kind(models.TextChoices):
        COUNT = "count", "N times within T days"
        STREAK = "streak", "An order every week for K weeks"

    code = models.SlugField(max_length=64, unique=True)
    title = models.JSONField(default=dict, help_text='Per language: {"en": "...", "zh-hans": "..."}.')
    description = models.JSONField(default=dict, blank=True, help_text="Per language, as the title.")
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.COUNT)
    event_type = models.ForeignKey(EventType, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                   help_text="Count: the event to do; blank: orders. Streaks count orders.")
    times = models.PositiveIntegerField(default=1, validators=[MinValueValidator(1)], help_text="Count: N.")
    within_days = models.PositiveIntegerField(default=7, validators=[MinValueValidator(1)],
                                              help_text="Count: T, days from the first of the N.")
    weeks = models.PositiveIntegerField(default=4, validators=[MinValueValidator(1)], help_text="Streak: K.")
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    active = models.BooleanField(default=False)
    bonus_points = models.PositiveIntegerField(default=0, help_text="Paid through the ledger when done.")
    reward = models.ForeignKey(Reward, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                               help_text="A voucher of this reward, given when done.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
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

    challenge = models.ForeignKey(Challenge, on_delete=models.PROTECT, related_name="progress", db_index=False)
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+", db_index=False)
    period_start = models.DateTimeField(help_text="Count: the first event; streak: the first week's Monday.")
    last_at = models.DateTimeField(help_text="Count: the last event counted; streak: the last week's Monday.")
    open_until = models.DateTimeField(help_text="Count: the end of the window; streak: the end of the next week.")
    count = models.PositiveIntegerField(default=0)
    completed_at = models.DateTimeField(null=True, blank=True)
    points = models.BigIntegerField(default=0)
    transaction = models.OneToOneField(Transaction, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    voucher = models.OneToOneField(Voucher, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name_plural = "challenge progress"
        constraints = [
            models.UniqueConstraint(fields=["challenge", "member", "period_start"], name="challenge_progress_period"),
            models.UniqueConstraint(fields=["challenge", "member"], condition=Q(completed_at__isnull=False),
                                    name="challenge_completed_once"),
        ]
        indexes = [models.Index(fields=["member", "challenge", "open_until"], name="challenge_progress_member")]

    def __str__(self) -> str:
        return f"{self.challenge_id} of {self.member_id}: {self.count}"
