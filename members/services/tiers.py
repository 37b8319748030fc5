"""Tiers: qualification on monthly activity buckets, upgrades at once, downgrades only at evaluation.

The loyalty app reports activity (`tier_activity_record`) inside its earning and refund transactions and
reads benefits (`member_benefits`); nothing here reads the ledger.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from core.cache import cached
from core.db import one_or_none
from core.errors import BadRequest
from core.services import audit_record

from ..models import Member, MembershipSettings, Plan, QualifyingActivity, Subscription, Tier, TierChange, TierStatus
from ..models.plans import LIVE
from .notifications import notification_record


def month_start(moment: datetime | date) -> date:
    return date(moment.year, moment.month, 1)


def _add_months(day: date, months: int) -> date:
    index = day.month - 1 + months
    return date(day.year + index // 12, index % 12 + 1, 1)


def _windowed(settings: MembershipSettings) -> bool:
    """Whether qualification counts from a start (the window's); a lifetime counts everything."""
    return settings.window != MembershipSettings.Window.LIFETIME


def window_start(settings: MembershipSettings, now: datetime) -> date | None:
    if not _windowed(settings):
        return None
    if settings.window == MembershipSettings.Window.CALENDAR_YEAR:
        return date(now.year, 1, 1)
    return _add_months(month_start(now), -11)  # this month and the 11 before it


def window_end(settings: MembershipSettings, now: datetime) -> date | None:
    """The last day that counts for the current window, where the window has one."""
    if settings.window == MembershipSettings.Window.CALENDAR_YEAR:
        return date(now.year, 12, 31)
    return None


def _basis_field(settings: MembershipSettings) -> str:
    return "points" if settings.basis == MembershipSettings.Basis.POINTS else "spend"


def _window_rows(rows, settings: MembershipSettings, now: datetime):
    start = window_start(settings, now)
    return rows.filter(month__gte=start) if start else rows


def qualifying_value(member_id: int, settings: MembershipSettings, now: datetime) -> Decimal:
    """What counts in the current window: the progress a member sees."""
    rows = _window_rows(QualifyingActivity.objects.filter(member_id=member_id), settings, now)
    return Decimal(rows.aggregate(total=Sum(_basis_field(settings)))["total"] or 0)


def qualifying_value_sql(settings: MembershipSettings, member_column: str) -> str:
    """`qualifying_value` as SQL text over the member id `member_column` (NULL without activity), for a hand-written
    read that wants it beside other rows in one statement: the window's start is the parameter
    `%(qualifying_since)s` (see `qualifying_value_params`), so the text is the same from one day to the next."""
    table, field = QualifyingActivity._meta.db_table, QualifyingActivity._meta.get_field(_basis_field(settings))
    since = ' AND "month" >= %(qualifying_since)s' if _windowed(settings) else ""
    return f'SELECT SUM("{field.column}") FROM "{table}" WHERE "member_id" = {member_column}{since}'


def qualifying_value_params(settings: MembershipSettings, now: datetime) -> dict:
    return {"qualifying_since": window_start(settings, now)}


def held_windows(settings: MembershipSettings, now: datetime) -> dict[str, tuple[date | None, date | None]]:
    """The months a tier is held on, as [start, end) pairs (None: open). On a calendar year, a year's qualification
    holds through the whole next year (the airline and retail rule): this year's and last year's."""
    if settings.window != MembershipSettings.Window.CALENDAR_YEAR:
        return {"current": (window_start(settings, now), None)}
    this_year, last_year = date(now.year, 1, 1), date(now.year - 1, 1, 1)
    return {"current": (this_year, None), "last_year": (last_year, this_year)}


def _held_sums(settings: MembershipSettings, now: datetime) -> dict:
    """`held_windows` as aggregates over QualifyingActivity rows."""
    field = _basis_field(settings)
    sums = {}
    for name, (start, end) in held_windows(settings, now).items():
        condition = Q(**({"month__gte": start} if start else {}), **({"month__lt": end} if end else {}))
        sums[name] = Sum(field, filter=condition if condition else None)
    return sums


def held_sums_after(*, settings: MembershipSettings, now: datetime, sums: dict[str, tuple[int, Decimal]],
                    month: date, points: int, spend: Decimal) -> dict[str, tuple[int, Decimal]]:
    """The (points, spend) sums of each of `held_windows` after an activity of `month`, from those before it: for a
    set-based reader that read the sums once and counts each activity itself."""
    after = {}
    for name, (start, end) in held_windows(settings, now).items():
        total_points, total_spend = sums.get(name) or (0, Decimal(0))
        if (start is None or month >= start) and (end is None or month < end):
            total_points, total_spend = total_points + points, total_spend + spend
        after[name] = (total_points, total_spend)
    return after


def held_value_of(settings: MembershipSettings, sums: dict[str, tuple[int, Decimal]]) -> Decimal:
    """`held_value` from the sums of `held_windows`."""
    points = settings.basis == MembershipSettings.Basis.POINTS
    return max(Decimal(p if points else s) for p, s in sums.values())


def held_value(member_id: int, settings: MembershipSettings, now: datetime) -> Decimal:
    """What keeps (and earns) a member their tier: the window's value; on a calendar year, the better of this
    year and last year. One query, like `qualifying_value`."""
    sums = QualifyingActivity.objects.filter(member_id=member_id).aggregate(**_held_sums(settings, now))
    return max(Decimal(v or 0) for v in sums.values())


def held_value_expression(settings: MembershipSettings, now: datetime, member_ref: str = "member_id"):
    """`held_value` as a correlated subquery over `member_ref`, for set-based statements."""
    def one(name, aggregate):
        rows = (QualifyingActivity.objects.filter(member_id=OuterRef(member_ref)).order_by()
                .values("member_id").annotate(total=aggregate).values("total"))
        return Coalesce(Subquery(rows), Decimal(0), output_field=QualifyingActivity._meta.get_field("spend"))
    parts = [one(name, aggregate) for name, aggregate in _held_sums(settings, now).items()]
    return Greatest(*parts) if len(parts) > 1 else parts[0]


def active_tiers() -> list[Tier]:
    return cached("tiers", lambda: list(Tier.objects.filter(active=True).order_by("rank")))


def tier_for_value(value: Decimal, tiers: list[Tier]) -> Tier | None:
    reached = [t for t in tiers if t.threshold <= value]
    return reached[-1] if reached else None


def _rank(tier: Tier | None) -> int:
    return tier.rank if tier else -1


def plans_by_id() -> dict[int, Plan]:
    """Every plan with its tier floor, by id, through the per-process settings cache (a saved plan is forgotten)."""
    return cached("plans", lambda: {p.pk: p for p in Plan.objects.select_related("tier_floor")})


def _live_subscription(member_id: int) -> Subscription | None:
    if not cached("plans_exist", Plan.objects.exists):
        return None
    return one_or_none(Subscription.objects.select_related("plan", "plan__tier_floor").filter(
        member_id=member_id, status__in=LIVE, current_period_end__gt=timezone.now()))


def _floor(status: TierStatus, now: datetime) -> Tier | None:
    """The tier a member keeps whatever they qualify for: a staff pin, or a paid plan's floor."""
    return floor_of(status, _live_subscription(status.member_id), now)


def floor_of(status: TierStatus, subscription: Subscription | None, now: datetime) -> Tier | None:
    """`_floor` given the member's live subscription (read by the caller)."""
    floors = []
    if status.pinned_tier_id and status.pinned_until and status.pinned_until > now:
        floors.append(status.pinned_tier)
    if subscription and subscription.plan.tier_floor_id:
        floors.append(subscription.plan.tier_floor)
    return max(floors, key=_rank, default=None)


def tier_upgrade_target(status: TierStatus, earned: Tier | None, floor: Tier | None) -> tuple[Tier | None, bool]:
    """What `tier_upgrade_if_qualified` decides: the tier to move up to (None: stay) and whether the grace period
    ends (qualified again, or a floor holds the tier)."""
    target = max([earned, floor], key=_rank)
    if _rank(target) > _rank(status.tier):
        return target, True
    return None, _rank(target) >= _rank(status.tier)


def tier_upgrade_apply(*, status: TierStatus, tiers: list[Tier], held: Decimal, floor: Tier | None,
                       now: datetime) -> TierChange | None:
    """What `tier_upgrade_if_qualified` decides for a member whose held value is `held` and whose floor is `floor`:
    the status moved in memory (up a tier, or its grace period ended) and the change, not yet saved. The general
    service saves both; the set-based earn (config.earn_set) writes them with its other rows."""
    earned = tier_for_value(held, tiers)
    target, grace_ends = tier_upgrade_target(status, earned, floor)
    if target is not None:
        reason = TierChange.Reason.UPGRADE if target == earned else (
            TierChange.Reason.PIN if status.pinned_tier_id == getattr(target, "pk", None) else TierChange.Reason.PLAN)
        return _change_build(status, target, reason, now)
    if grace_ends:
        # Qualified again, or a pin or a plan holds the tier: no grace is running. Should the floor end with the
        # member below the threshold, the evaluation at its end starts a grace period of its own, with its warning.
        status.below_since = status.warned_at = None
    return None


def status_lock(member_id: int) -> TierStatus:
    locked = TierStatus.objects.select_for_update(of=("self",)).select_related("tier", "pinned_tier")
    status = one_or_none(locked.filter(member_id=member_id))
    if status is None:  # the member's first activity: create the row (a concurrent creator wins harmlessly)
        TierStatus.objects.bulk_create([TierStatus(member_id=member_id)], ignore_conflicts=True)
        status = locked.get(member_id=member_id)
    return status


@dataclass(frozen=True)
class TierActivity:
    """A member's tiers as read once by a use case that reads their benefits and then records their activity in one
    transaction (an earn): the settings, the active tiers, and the member's status (None before their first
    activity), locked when tiers are active."""
    settings: MembershipSettings
    tiers: list[Tier]
    status: TierStatus | None


def tier_activity_prepare(*, member_id: int) -> TierActivity:
    """Read what `member_benefits(status=...)` and then `tier_activity_record(prepared=...)` need, once instead of
    twice. With tiers active, the status is locked (and created at the member's first activity) now, as recording
    the activity would lock it then anyway; without, it is only read, as `member_benefits` reads it."""
    settings, tiers = MembershipSettings.current(), active_tiers()
    if tiers:
        return TierActivity(settings=settings, tiers=tiers, status=status_lock(member_id))
    return TierActivity(settings=settings, tiers=tiers,
                        status=one_or_none(TierStatus.objects.select_related("tier").filter(member_id=member_id)))


def _change_build(status: TierStatus, to: Tier | None, reason: str, now: datetime, *, note: str = "",
                  actor=None, details: dict | None = None) -> TierChange:
    """The change of `status` to `to`, made in memory: the status moved, the change row not yet saved."""
    change = TierChange(member_id=status.member_id, from_tier=status.tier, to_tier=to, reason=reason, note=note,
                        actor=actor if getattr(actor, "pk", None) else None, details=details or {}, created_at=now)
    status.tier, status.since = to, now
    status.below_since = status.warned_at = None
    return change


def _change(status: TierStatus, to: Tier | None, reason: str, now: datetime, *, note: str = "", actor=None,
            details: dict | None = None) -> TierChange:
    change = _change_build(status, to, reason, now, note=note, actor=actor, details=details)
    change.save(force_insert=True)
    return change


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, datetime.min.time()))


def downgrade_day(status: TierStatus, settings: MembershipSettings) -> date:
    """The day a grace period ends. Grace and warning are counted in days, not in instants of the nightly job's
    start: a run a few seconds earlier than the one that started the grace must not make them a day late."""
    return timezone.localdate(status.below_since) + timedelta(days=settings.downgrade_grace_days)


def _warning_day(status: TierStatus, settings: MembershipSettings) -> date:
    return downgrade_day(status, settings) - timedelta(days=settings.downgrade_warning_days)


def first_active_month(member_id: int, settings: MembershipSettings, now: datetime) -> date | None:
    """The first month of the rolling window in which the member had qualifying activity: when it leaves the window,
    their qualification can fall (`next_review`)."""
    return (QualifyingActivity.objects.filter(member_id=member_id, month__gte=window_start(settings, now))
            .exclude(points=0, spend=0).order_by("month").values_list("month", flat=True).first())


def next_review(status: TierStatus, settings: MembershipSettings, tiers: list[Tier], now: datetime, *,
                first_month=None) -> datetime | None:
    """When this member's qualification can next fall: only members with something to lose are reviewed.
    `first_month`: `first_active_month` (a callable, called only on a rolling window when it is needed)."""
    candidates = []
    if status.below_since:  # the first moment of the day the warning or the downgrade is due
        candidates.append(_day_start(_warning_day(status, settings) if settings.downgrade_warning_days
                                     and not status.warned_at else downgrade_day(status, settings)))
    if status.pinned_until and status.pinned_until > now:
        candidates.append(status.pinned_until)
    lowest = tiers[0] if tiers else None
    has_something_to_lose = status.tier is not None and (lowest is None or status.tier.rank > lowest.rank
                                                         or status.tier.threshold > 0)
    if has_something_to_lose:
        if settings.window == MembershipSettings.Window.CALENDAR_YEAR:
            candidates.append(datetime(now.year + 1, 1, 1, tzinfo=UTC))
        elif settings.window == MembershipSettings.Window.ROLLING_12_MONTHS:
            first = first_month()
            if first:
                leaves = _add_months(first, 12)
                candidates.append(datetime(leaves.year, leaves.month, 1, tzinfo=UTC))
    return min(candidates, default=None)


def _next_review(status: TierStatus, settings: MembershipSettings, tiers: list[Tier], now: datetime) -> datetime | None:
    return next_review(status, settings, tiers, now,
                       first_month=lambda: first_active_month(status.member_id, settings, now))


STATUS_STATE = ("tier_id", "since", "pinned_tier_id", "pinned_until", "pin_reason", "below_since", "warned_at", "review_at")


def status_state(status: TierStatus) -> tuple:
    return tuple(getattr(status, name) for name in STATUS_STATE)


def _save(status: TierStatus, settings: MembershipSettings, tiers: list[Tier], now: datetime,
          before: tuple | None = None) -> None:
    """Recompute the review date and write the status, unless nothing changed (the common earn)."""
    if before is not None and status_state(status) == before:
        return
    status.review_at = _next_review(status, settings, tiers, now)
    status.save()


def tier_upgrade_if_qualified(*, member_id: int, now: datetime | None = None,
                              prepared: TierActivity | None = None) -> TierChange | None:
    """Move the member up at once when they qualify (or a floor lifts them). Never moves anyone down.
    `prepared`: what the caller read in this transaction (`tier_activity_prepare`)."""
    now = now or timezone.now()
    if prepared is not None:
        settings, tiers = prepared.settings, prepared.tiers
    else:
        settings, tiers = MembershipSettings.current(), active_tiers()
    if not tiers:
        return None
    status = prepared.status if prepared is not None else status_lock(member_id)  # locked: tiers are active
    before = status_state(status)
    change = tier_upgrade_apply(status=status, tiers=tiers, held=held_value(member_id, settings, now),
                                floor=_floor(status, now), now=now)
    if change is not None:
        change.save(force_insert=True)
    _save(status, settings, tiers, now, before)
    return change


def _take_back(status: TierStatus, settings: MembershipSettings, tiers: list[Tier], now: datetime, *,
               since: datetime, note: str) -> TierChange | None:
    """What a purchase (an order, a paid plan) made at `since` lifted the member to goes at once when the purchase
    is refunded or the plan cancelled: no grace and no warning, since the member did not earn it. Grace protects
    a tier held before the purchase: the member goes back to it, and a grace period starts if they are below it."""
    if status.tier is None or status.since is None or status.since < since:
        return None  # held before the purchase: earned, so the nightly evaluation applies the usual grace
    earned = tier_for_value(held_value(status.member_id, settings, now), tiers)
    floor = _floor(status, now)
    held_id = (TierChange.objects.filter(member_id=status.member_id, created_at__lt=since).order_by("-id")
               .values_list("to_tier_id", flat=True).first())
    held = next((t for t in tiers if t.pk == held_id), None)
    to = max([earned, floor, held], key=_rank)
    if _rank(to) >= _rank(status.tier):
        return None
    change = _change(status, to, TierChange.Reason.TAKEN_BACK, now, note=note,
                     details={"qualifying_value": str(held_value(status.member_id, settings, now))})
    if _rank(to) > max(_rank(earned), _rank(floor)):
        status.below_since = now  # back to a tier held before the purchase, below its threshold: the usual grace
    return change


@transaction.atomic(savepoint=False)
def tier_take_back(*, member_id: int, since: datetime, note: str, now: datetime | None = None) -> TierChange | None:
    """A paid plan started at `since` was cancelled at once (or refunded): its tier floor goes now."""
    now = now or timezone.now()
    settings, tiers = MembershipSettings.current(), active_tiers()
    status = status_lock(member_id)
    change = _take_back(status, settings, tiers, now, since=since, note=note)
    if change is None:  # nothing the plan gave is left to take: a grace period, if any, starts tonight
        status.review_at = now
        status.save(update_fields=["review_at"])
    else:
        _save(status, settings, tiers, now)
    return change


_QA = QualifyingActivity._meta.db_table
QUALIFYING_UPSERT = f"""
    INSERT INTO {_QA} (member_id, month, points, spend)
    SELECT * FROM unnest(%(q_member)s::bigint[], %(q_month)s::date[], %(q_points)s::bigint[], %(q_spend)s::numeric[])
    ON CONFLICT (member_id, month) DO UPDATE SET points = {_QA}.points + EXCLUDED.points,
                                                 spend = {_QA}.spend + EXCLUDED.spend
"""


def qualifying_params(activity: list[tuple[int, datetime, int, Decimal]]) -> dict:
    """The parameters of QUALIFYING_UPSERT for (member id, moment, points, spend) items, summed per member and
    month first (one statement may not move a row twice)."""
    months: dict[tuple[int, date], list] = {}
    for member_id, at, points, spend in activity:
        total = months.setdefault((member_id, month_start(at)), [0, Decimal(0)])
        total[0] += points
        total[1] += spend
    return {"q_member": [k[0] for k in months], "q_month": [k[1] for k in months],
            "q_points": [v[0] for v in months.values()], "q_spend": [v[1] for v in months.values()]}


@transaction.atomic(savepoint=False)
def tier_activity_record(*, member_id: int, points: int, spend: Decimal, at: datetime,
                         now: datetime | None = None, prepared: TierActivity | None = None) -> TierChange | None:
    """Count qualifying activity (negative on refunds) and upgrade in the same transaction if it qualifies.
    `prepared`: what the caller read of the member's tiers in this transaction (`tier_activity_prepare`)."""
    with connection.cursor() as cursor:  # one upsert: the month's row is created or moved in one statement
        cursor.execute(QUALIFYING_UPSERT, qualifying_params([(member_id, at, points, spend)]))
    if points >= 0 and spend >= 0:
        return tier_upgrade_if_qualified(member_id=member_id, now=now, prepared=prepared)
    # A refund can only make the member fall. What the refunded order lifted them to goes at once; a tier they
    # held before it is reviewed tonight, with the usual grace.
    return tier_take_back(member_id=member_id, since=at, now=now, note="Order refunded")


@transaction.atomic(savepoint=False)
def tier_evaluate(*, member_id: int, now: datetime | None = None) -> TierChange | None:
    """The nightly look at one member: upgrades, the grace period, the warning, and a bounded downgrade."""
    now = now or timezone.now()
    settings, tiers = MembershipSettings.current(), active_tiers()
    change = tier_upgrade_if_qualified(member_id=member_id, now=now)
    status = status_lock(member_id)
    earned = tier_for_value(held_value(member_id, settings, now), tiers)
    target = max([earned, _floor(status, now)], key=_rank)
    if _rank(target) >= _rank(status.tier):
        status.below_since = status.warned_at = None  # qualified, pinned or on a plan: no grace is running
        _save(status, settings, tiers, now)
        return change
    if status.below_since is None:
        status.below_since = now
    today, due_day = timezone.localdate(now), downgrade_day(status, settings)
    if today >= due_day:
        steps = settings.max_steps_down or len(tiers)
        below = [t for t in tiers if _rank(target) <= t.rank < status.tier.rank]
        to = below[-steps] if len(below) >= steps else target
        change = _change(status, to, TierChange.Reason.DOWNGRADE, now,
                         details={"qualifying_value": str(held_value(member_id, settings, now))})
        if _rank(to) > _rank(target):
            status.below_since = now  # a further step needs its own grace period
    elif settings.downgrade_warning_days and not status.warned_at and today >= _warning_day(status, settings):
        status.warned_at = now
        notification_record(
            member=member_id, kind="tier_downgrade_warning",
            dedupe_key=f"tier-warning:{member_id}:{status.below_since:%Y%m%d%H%M%S}",
            payload={"tier": status.tier.code, "downgrade_on": due_day.isoformat(),
                     "needed": str(status.tier.threshold - held_value(member_id, settings, now))},
        )
    _save(status, settings, tiers, now)
    return change


def tiers_evaluate_due(*, now: datetime | None = None, batch_size: int = 500) -> dict[str, int]:
    """Evaluate the members whose review date has come, in batches that commit one by one; re-runnable."""
    now = now or timezone.now()
    stats = {"members": 0, "changes": 0}
    last = 0
    while True:
        ids = list(TierStatus.objects.filter(review_at__lte=now, member_id__gt=last).order_by("member_id")
                   .values_list("member_id", flat=True)[:batch_size])
        if not ids:
            return stats
        with transaction.atomic(durable=True):
            for member_id in ids:
                stats["changes"] += tier_evaluate(member_id=member_id, now=now) is not None
        stats["members"] += len(ids)
        last = ids[-1]


@transaction.atomic(savepoint=False)
def tier_threshold_review_schedule(*, tier: Tier, old_threshold: Decimal | None,
                                   now: datetime | None = None) -> int:
    """Staff moved a tier's threshold (or added the tier): the members it concerns are reviewed at the next
    evaluation, in one statement, whoever they are. A raised threshold concerns the tier's members now below it (the
    review starts their grace period, with its warning); a lowered one, or a new tier, those below the tier who now
    reach it (the review moves them up at once). Returns how many members were scheduled."""
    now = now or timezone.now()
    if not tier.active or old_threshold == tier.threshold:
        return 0
    statuses = TierStatus.objects.annotate(held=held_value_expression(MembershipSettings.current(), now))
    if old_threshold is not None and tier.threshold > old_threshold:
        concerned = statuses.filter(tier=tier, held__lt=tier.threshold)
    else:
        concerned = statuses.filter(Q(tier__isnull=True) | Q(tier__rank__lt=tier.rank), held__gte=tier.threshold)
    return TierStatus.objects.filter(member_id__in=concerned.values("member_id")).update(review_at=now)


@transaction.atomic(savepoint=False)
def tier_pin(*, member: Member, tier: Tier | None, until: datetime | None, reason: str, actor=None) -> TierStatus:
    """Staff keep a member at least in `tier` until a date (None unpins). Audited."""
    reason = (reason or "").strip()
    if not reason:
        raise BadRequest("A reason is required.", fields={"reason": ["Required."]})
    now = timezone.now()
    if tier is not None and (until is None or until <= now):
        raise BadRequest("A pin needs a date in the future.", fields={"until": ["Must be in the future."]})
    status = status_lock(member.pk)
    status.pinned_tier, status.pinned_until, status.pin_reason = tier, until, reason
    if tier is not None and _rank(tier) > _rank(status.tier):
        _change(status, tier, TierChange.Reason.PIN, now, note=reason, actor=actor)
    elif tier is not None:
        TierChange.objects.create(member=member, from_tier=status.tier, to_tier=status.tier, reason=TierChange.Reason.PIN,
                                  note=f"Pinned at least {tier.name} until {until:%Y-%m-%d}: {reason}",
                                  actor=actor if getattr(actor, "pk", None) else None, created_at=now)
        if _rank(tier) >= _rank(status.tier):  # the pin holds the tier: no grace runs under it
            status.below_since = status.warned_at = None
    status.save()
    _save(status, MembershipSettings.current(), active_tiers(), now)
    if tier is None:  # a floor is gone: tonight's evaluation looks at the member (downgrades wait for it)
        TierStatus.objects.filter(member_id=member.pk).update(review_at=now)
    audit_record(action="tier.pin" if tier else "tier.unpin", target_type="member", target_id=member.external_id,
                 actor=actor, details={"tier": tier.code if tier else None,
                                       "until": until.isoformat() if until else None, "reason": reason})
    return status


@dataclass(frozen=True)
class Benefits:
    tier: Tier | None
    subscription: Subscription | None
    multiplier: Decimal
    tier_multiplier: Decimal
    plan_multiplier: Decimal
    perks: list


UNREAD = object()  # an argument its caller has not read: read it here (None means read, and there is none)


def member_benefits(*, member_id: int, now: datetime | None = None, status=UNREAD,
                    subscription=UNREAD) -> Benefits:
    """What a member's tier and paid plan give them now, with the multipliers combined per the settings.
    `status`: the member's TierStatus (or None), and `subscription`: their live subscription with its plan (or
    None), when the caller has read them already."""
    if status is UNREAD:
        status = one_or_none(TierStatus.objects.select_related("tier").filter(member_id=member_id))
    if subscription is UNREAD:
        subscription = _live_subscription(member_id)
    return benefits_of(tier=status.tier if status else None, subscription=subscription,
                       settings=MembershipSettings.current())


def benefits_of(*, tier: Tier | None, subscription: Subscription | None, settings: MembershipSettings) -> Benefits:
    """`member_benefits` given what it reads: the member's tier and live subscription (with its plan)."""
    plan = subscription.plan if subscription else None
    tier_multiplier = tier.earn_multiplier if tier else Decimal(1)
    plan_multiplier = plan.earn_multiplier if plan else Decimal(1)
    if settings.combination == MembershipSettings.Combination.MULTIPLY:
        multiplier = tier_multiplier * plan_multiplier
    else:
        multiplier = max(tier_multiplier, plan_multiplier)
    perks = list(dict.fromkeys([*(tier.perks if tier else []), *(plan.perks if plan else [])]))
    return Benefits(tier=tier, subscription=subscription, multiplier=multiplier, tier_multiplier=tier_multiplier,
                    plan_multiplier=plan_multiplier, perks=perks)
