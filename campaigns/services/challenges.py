"""Challenges: progress kept per member as events and orders are recorded, never by rescanning them.

An attempt is a ChallengeProgress row. "N times within T days": the first event opens a window of T days; each
event inside it adds one; N completes it; an event after the window opens a new attempt. An event older than the
current attempt's start (sent late) is not counted. Streak: the week (Monday to Sunday in the member's time zone)
of each order; an order in the week after the last one counted adds one, an order in the same week nothing, a
later one starts a new run (the streak was broken); K weeks complete it.

Completion pays once per member and challenge: the database keeps one completed attempt per (challenge, member),
the points carry a derived idempotency key and the voucher a derived grant key. Callers hold the members' ledger
locks (events_record and the order flow do), so the read-modify-write of an attempt is not raced.
"""

from collections import defaultdict
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import connection, transaction

from core.cache import cached
from core.errors import ApplicationError
from core.idempotency import derived_key
from core.models import Channel
from loyalty import locks as loyalty_locks
from loyalty import services as loyalty
from loyalty.services.ledger import channel_id
from members.models import Member
from rewards import services as rewards

from ..models import Challenge, ChallengeProgress

LIVE = "campaigns.challenges"  # the settings cache's key (see Challenge.save)


def _active() -> list[Challenge]:
    return cached(LIVE, lambda: list(Challenge.objects.filter(active=True).select_related("reward")))


def _within(challenge: Challenge, moment: datetime) -> bool:
    return (challenge.starts_at is None or challenge.starts_at <= moment) and (
        challenge.ends_at is None or challenge.ends_at > moment)


def challenges_live(*, now: datetime, event_type_ids: set[int] | None = None) -> list[Challenge]:
    """The live challenges of these event types, or of orders (event_type_ids None); through the per-process
    settings cache, so a batch or an order without a challenge of its kind costs no query."""
    return [c for c in _active() if _within(c, now) and (
        c.event_type_id is None if event_type_ids is None else c.event_type_id in event_type_ids)]


def _week_start(moment: datetime, zone: ZoneInfo) -> datetime:
    local = moment.astimezone(zone).date()
    return datetime.combine(local - timedelta(days=local.weekday()), time(), tzinfo=zone)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (KeyError, ValueError):
        return ZoneInfo("UTC")


def _step(challenge: Challenge, current: ChallengeProgress | None, at: datetime, member: Member,
          now: datetime) -> ChallengeProgress | None:
    """The attempt after one hit at `at`: the current one moved on, a new one, or None (not counted)."""
    if challenge.kind == Challenge.Kind.COUNT:
        if current is not None and current.period_start <= at < current.open_until:
            current.count += 1
            current.last_at = max(current.last_at, at)
            return current
        if current is not None and at < current.open_until:
            return None  # before the current attempt began: sent late, not counted
        return ChallengeProgress(challenge=challenge, member=member, period_start=at, last_at=at, count=1,
                                 open_until=at + timedelta(days=challenge.within_days))
    zone = _zone(member.timezone)
    week = _week_start(at, zone)
    if current is not None:
        last = current.last_at.astimezone(zone).date()
        gap = (week.date() - last).days
        if gap <= 0:
            return None  # this week is already counted, or a late order of a week before
        if gap == 7:
            current.count += 1
            current.last_at = week
            current.open_until = datetime.combine(week.date() + timedelta(days=14), time(), tzinfo=zone)
            return current
    return ChallengeProgress(challenge=challenge, member=member, period_start=week, last_at=week, count=1,
                             open_until=datetime.combine(week.date() + timedelta(days=14), time(), tzinfo=zone))


# The attempts a batch moved on, written back in one statement (the ORM's bulk_update builds a CASE per field and
# row, which cost more than the rest of an event batch).
_UPDATE = """
UPDATE {table} AS p SET count = u.count, last_at = u.last_at, open_until = u.open_until, completed_at = u.completed_at,
    points = u.points, transaction_id = u.transaction_id, voucher_id = u.voucher_id
FROM unnest(%s::bigint[], %s::integer[], %s::timestamptz[], %s::timestamptz[], %s::timestamptz[], %s::bigint[],
    %s::bigint[], %s::bigint[]) AS u(id, count, last_at, open_until, completed_at, points, transaction_id, voucher_id)
WHERE p.id = u.id
"""


def _update(rows: list[ChallengeProgress]) -> None:
    if not rows:
        return
    columns = [[getattr(p, name) for p in sorted(rows, key=lambda p: p.pk)] for name in (
        "pk", "count", "last_at", "open_until", "completed_at", "points", "transaction_id", "voucher_id")]
    with connection.cursor() as cursor:
        cursor.execute(_UPDATE.format(table=ChallengeProgress._meta.db_table), columns)


def challenges_advance(*, challenges: list[Challenge], hits: list[tuple[int | None, int, datetime]],
                       now: datetime, members: dict[int, Member] | None = None) -> list[ChallengeProgress]:
    """Move the members' attempts on by these hits (event type id or None for an order, member id, when), in
    two queries (three without `members`, the members read in this transaction already) and two writes; pay the
    attempts this completes. Returns the attempts completed now."""
    by_type = defaultdict(list)
    for challenge in challenges:
        by_type[challenge.event_type_id].append(challenge)
    per_key = defaultdict(list)
    for type_id, member_id, at in hits:
        for challenge in by_type.get(type_id, ()):
            if _within(challenge, at):
                per_key[(challenge.pk, member_id)].append(at)
    if not per_key:
        return []
    member_ids = {m for _, m in per_key}
    if members is None or not member_ids <= members.keys():
        members = Member.objects.in_bulk(member_ids)
    latest, done = {}, set()
    for row in ChallengeProgress.objects.filter(challenge_id__in={c for c, _ in per_key}, member_id__in=member_ids
                                                ).order_by("period_start"):
        if row.completed_at is not None:
            done.add((row.challenge_id, row.member_id))
        latest[(row.challenge_id, row.member_id)] = row  # the last attempt, by start
    challenge_of = {c.pk: c for c in challenges}
    new, changed, completed = [], {}, []
    for (challenge_id, member_id), moments in sorted(per_key.items()):
        member = members[member_id]
        if (challenge_id, member_id) in done or member.status != Member.Status.ACTIVE:
            continue
        challenge, current = challenge_of[challenge_id], latest.get((challenge_id, member_id))
        for at in sorted(moments):
            moved = _step(challenge, current, at, member, now)
            if moved is None:
                continue
            if moved is not current:
                new.append(moved)
            elif moved.pk:
                changed[moved.pk] = moved
            current = moved
            if current.count >= challenge.target:
                current.completed_at = now
                completed.append(current)
                break
    for progress in completed:  # paid first: the attempt is written with what it gave
        _pay(progress, challenge_of[progress.challenge_id], members[progress.member_id], now)
    ChallengeProgress.objects.bulk_create(new)
    _update(list(changed.values()))
    return completed


def _pay(progress: ChallengeProgress, challenge: Challenge, member: Member, now: datetime) -> None:
    key = derived_key("challenge", challenge.pk, member.pk)
    if challenge.bonus_points:
        try:
            with transaction.atomic():
                progress.transaction = loyalty.points_bonus(
                    member=member, points=challenge.bonus_points, channel_id=channel_id(Channel.SYSTEM),
                    idempotency_key=key, reason=f"Challenge: {challenge.title.get('en', challenge.code)}",
                    reference=f"challenge:{challenge.code}", details={"challenge": challenge.code})
            progress.points = challenge.bonus_points
        except ApplicationError:  # refused by the ledger (past the balance limit): completed, paid nothing
            loyalty_locks.accounts_reload([member.pk])
    if challenge.reward_id:
        try:
            with transaction.atomic():
                progress.voucher = rewards.voucher_grant(member_id=member.pk, reward_code=challenge.reward.code,
                                                         grant_key=key, now=now)
        except ApplicationError:  # the reward was withdrawn since: the points still pay
            pass


def challenges_record_order(*, member_id: int, occurred_at: datetime, now: datetime) -> list[ChallengeProgress]:
    """An order counts towards the live order challenges and streaks (the order flow calls this under the
    member's lock, in the order's transaction)."""
    live = challenges_live(now=now)
    if not live:
        return []
    return challenges_advance(challenges=live, hits=[(None, member_id, occurred_at)], now=now)
