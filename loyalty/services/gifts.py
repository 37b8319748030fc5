"""Birthday gifts: on a member's birthday in their own time zone, the gift of their tier and a greeting.

Exactly once per member and year: `BirthdayGift` is unique on (member, year), the job re-reads what was given
after taking the accounts' locks, and a batch commits whole or not at all, so a job that runs twice, runs late
or dies mid-batch never pays twice and never misses anyone. A day the job missed is caught up for
`birthday_catch_up_days`; older birthdays are never paid (no stacking of past years). 29 February birthdays are
honoured on 28 February in other years. Suspended and closed members and members without a birth date get
nothing, nor do members who joined after their birthday.

The greeting is a service message tied to the gift (it tells the member of points they now hold), not
marketing: it follows `service_messages_need_consent`. The tier's birthday reward code is recorded on the gift
and in the message; issuing it as a voucher comes with the rewards catalog.
"""

import calendar
from datetime import date, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from members.models import Member, Tier, TierStatus
from members.services import Message, notifications_record_many

from ..locks import account_locked, members_locked
from ..models import BirthdayGift, ProgramSettings, Transaction
from .earning import credit
from .ledger import channel_id

SYSTEM = "system"


def points_gift(*, member_id: int, points: int, reason: str, idempotency_key: str, now: datetime,
                details: dict | None = None, member_timezone: str | None = None) -> Transaction:
    """Give a member points (a new lot, available at once, expiring by the program's policy at the end of the day
    in the member's time zone), under the member's ledger lock, which the caller holds."""
    account = account_locked(member_id)
    txn = credit(account=account, points=points, kind=Transaction.Kind.GIFT, channel_id=channel_id(SYSTEM),
                    idempotency_key=idempotency_key, now=now, earned_at=now, available_at=now,
                    program=ProgramSettings.current(), reason=reason, details=details,
                    member_timezone=member_timezone)
    return txn


def birthday_in(year: int, month: int, day: int) -> date:
    if month == 2 and day == 29 and not calendar.isleap(year):
        return date(year, 2, 28)
    return date(year, month, day)


def birthday_due(birth_date: date, local_today: date, catch_up_days: int) -> date | None:
    """The birthday to celebrate on `local_today` (today, or at most catch_up_days ago), if any."""
    for year in (local_today.year, local_today.year - 1):
        day = birthday_in(year, birth_date.month, birth_date.day)
        if day <= local_today <= day + timedelta(days=catch_up_days):
            return day
    return None


@cache
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _month_days(now: datetime, catch_up_days: int) -> Q:
    """(month, day) pairs that can be someone's birthday to celebrate now, whatever their time zone: local dates
    run from yesterday to tomorrow in UTC terms, and the catch-up window reaches further back."""
    today = now.astimezone(_zone("UTC")).date()
    days = {today + timedelta(days=k) for k in range(-1 - catch_up_days, 2)}
    pairs = {(d.month, d.day) for d in days}
    if (2, 28) in pairs:
        pairs.add((2, 29))
    condition = Q()
    for month, day in sorted(pairs):
        condition |= Q(birth_month=month, birth_day=day)
    return condition


def _give(*, member: Member, birthday: date, tier: Tier | None, now: datetime) -> Message:
    """One member's gift, under their account lock. Returns the greeting to record."""
    points = tier.birthday_gift_points if tier else 0
    reward_code = tier.birthday_reward_code if tier else ""
    txn = None
    if points > 0:
        txn = points_gift(member_id=member.pk, points=points, now=now, member_timezone=member.timezone,
                          idempotency_key=f"birthday:{member.pk}:{birthday.year}",
                          reason=f"Birthday gift {birthday.year}",
                          details={"birthday": birthday.isoformat(), "tier": tier.code})
    BirthdayGift.objects.create(member=member, year=birthday.year, birthday=birthday, tier_code=tier.code if tier else "",
                                points=points, reward_code=reward_code, transaction=txn, created_at=now)
    return Message(member_id=member.pk, kind="birthday_gift", dedupe_key=f"birthday:{member.pk}:{birthday.year}",
                   payload={"year": birthday.year, "birthday": birthday.isoformat(), "points": points,
                            "reward_code": reward_code, "tier": tier.code if tier else None,
                            "tier_name": tier.name if tier else None})


def _gift_batch(due: list[tuple[int, date]], now: datetime) -> int:
    ids = sorted(member_id for member_id, _ in due)
    with members_locked(ids):  # member-id order; a concurrent run waits here, then sees our gifts
        given = set(BirthdayGift.objects.filter(member_id__in=ids).filter(
            year__in={birthday.year for _, birthday in due}).values_list("member_id", "year"))
        members = Member.objects.in_bulk(ids)
        tier_of = dict(TierStatus.objects.filter(member_id__in=ids, tier__isnull=False).values_list("member_id", "tier_id"))
        tiers = Tier.objects.in_bulk(set(tier_of.values()))
        greetings = []
        for member_id, birthday in sorted(due):
            member = members.get(member_id)
            if (member_id, birthday.year) in given or member is None or not member.is_active:
                continue
            greetings.append(_give(member=member, birthday=birthday, tier=tiers.get(tier_of.get(member_id)),
                                   now=now))
        notifications_record_many(messages=greetings)
        return len(greetings)


def birthdays_gift_due(*, now: datetime | None = None, batch_size: int = 500) -> dict[str, int]:
    """Give today's birthday gifts (hourly, so each member's local midnight is met within the hour).

    Reads only the members whose (birth month, birth day) can be due now, through the `member_birthday` index,
    less those gifted in the last days; keyset batches by member id, each committed on its own.
    """
    now = now or timezone.now()
    catch_up = ProgramSettings.current().birthday_catch_up_days
    recent = BirthdayGift.objects.filter(member_id=OuterRef("pk"), created_at__gte=now - timedelta(days=catch_up + 2))
    candidates = (Member.objects.filter(_month_days(now, catch_up), status=Member.Status.ACTIVE)
                  .exclude(Exists(recent)).order_by("pk"))
    stats = {"members": 0, "gifts": 0, "batches": 0}
    last = 0
    while True:
        batch = list(candidates.filter(pk__gt=last).values_list("pk", "birth_date", "timezone", "joined_at")[:batch_size])
        if not batch:
            return stats
        last = batch[-1][0]
        due = []
        for member_id, birth_date, zone_name, joined_at in batch:
            zone = _zone(zone_name or "UTC")
            birthday = birthday_due(birth_date, now.astimezone(zone).date(), catch_up)
            if birthday and joined_at.astimezone(zone).date() <= birthday:
                due.append((member_id, birthday))
        if due:
            with transaction.atomic(durable=True):
                stats["gifts"] += _gift_batch(due, now)
        stats["members"] += len(batch)
        stats["batches"] += 1
