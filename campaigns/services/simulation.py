"""Trying a campaign before it is live: its trigger and conditions run over the last 30 days of recorded events,
orders and changes, and the limits, control group and budgets are applied in memory. Nothing is written (no
firing, no effect); the answer is how many members it would have reached, how many firings and what they would
have cost. The reads are set-based: one query per day for date triggers, one per source otherwise, then one per
kind of condition.

Approximations, said on the admin page: the conditions look at the members' facts of today (segments, tier,
plan), not of the day of each occurrence; earlier firings of the campaign and the frequency cap are not counted.
"""

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection
from django.db.models import F
from django.utils import timezone

from insight.models import MemberTag, StageChange
from loyalty.models import Order
from loyalty.services.rules import program_zone
from members.models import Member, TierChange

from ..models import Campaign, Event, EventCounter
from ..rules import conditions_met, held_out, period_start
from .changes import SOURCES as SOURCES_OF_CHANGES
from .changes import _matches, _occurrence
from .dates import due_members
from .evaluation import Candidate, member_facts

DAYS = 30


@dataclass(frozen=True)
class Simulation:
    members: int
    firings: int
    held_out: int
    points: int
    vouchers: int
    multipliers: int
    since: datetime
    until: datetime


def _events(campaign: Campaign, since: datetime, until: datetime) -> list[Candidate]:
    events = Event.objects.filter(type_id=campaign.event_type_id, occurred_at__gte=since, occurred_at__lt=until)
    if campaign.trigger == Campaign.Trigger.EVENT:
        return [Candidate(campaign=campaign, member_id=m, occurrence=f"event:{pk}", channel_id=ch,
                          store=str((attributes or {}).get("store", "")), at=at)
                for pk, m, ch, attributes, at in events.values_list("pk", "member_id", "channel_id", "attributes",
                                                                     "occurred_at")]
    if campaign.window == Campaign.Window.AFTER_SIGN_UP:
        window = timedelta(hours=campaign.window_hours)
        rows = (events.filter(occurred_at__gte=F("member__joined_at"), occurred_at__lte=F("member__joined_at") + window)
                .values_list("member_id", "occurred_at").order_by("member_id", "occurred_at"))
        seen, reached = Counter(), []
        for member_id, at in rows:
            seen[member_id] += 1
            if seen[member_id] == campaign.event_count:
                reached.append(Candidate(campaign=campaign, member_id=member_id, occurrence="sign-up", at=at))
        return reached
    return _sliding(campaign, since, until)


def _sliding(campaign: Campaign, since: datetime, until: datetime) -> list[Candidate]:
    """Days ending a window of `window_days` with N events, from the per-day counters, one window per firing."""
    sql = (f"SELECT member_id, day FROM (SELECT member_id, day, SUM(count) OVER (PARTITION BY member_id ORDER BY day "
           f"RANGE BETWEEN %s PRECEDING AND CURRENT ROW) AS n FROM {EventCounter._meta.db_table} "
           "WHERE type_id = %s AND day >= %s AND day < %s) w WHERE n >= %s ORDER BY member_id, day")
    days = campaign.window_days
    with connection.cursor() as cursor:
        cursor.execute(sql, [timedelta(days=days - 1), campaign.event_type_id, since.date() - timedelta(days=days),
                             until.date() + timedelta(days=1), campaign.event_count])
        rows = cursor.fetchall()
    candidates, last = [], {}
    for member_id, day in rows:
        if day < since.date() or (member_id in last and day < last[member_id] + timedelta(days=days)):
            continue
        last[member_id] = day
        at = datetime.combine(day, datetime.min.time(), program_zone())
        candidates.append(Candidate(campaign=campaign, member_id=member_id, occurrence=f"window:{day}", at=at))
    return candidates


def _changes(campaign: Campaign, since: datetime, until: datetime) -> list[Candidate]:
    if campaign.trigger == Campaign.Trigger.STAGE_CHANGE:
        source, rows = "stage", StageChange.objects.filter(changed_at__gte=since, changed_at__lt=until)
        at = "changed_at"
    elif campaign.trigger == Campaign.Trigger.TIER_CHANGE:
        source, rows, at = "tier", TierChange.objects.filter(created_at__gte=since, created_at__lt=until), "created_at"
    elif campaign.trigger == Campaign.Trigger.TIER_WARNING:
        rows, at = SOURCES_OF_CHANGES["warning"][0].filter(created_at__gte=since, created_at__lt=until), "created_at"
        source = "warning"
    else:
        source, rows = "tag", MemberTag.objects.filter(tag_id=campaign.to_tag_id, added_at__gte=since, added_at__lt=until)
        at = "added_at"
    return [Candidate(campaign=campaign, member_id=change.member_id, occurrence=_occurrence(source, change),
                      at=getattr(change, at)) for change in rows.order_by("pk") if _matches(campaign, change)]


def _dates(campaign: Campaign, since: datetime, until: datetime) -> list[Candidate]:
    zone, candidates = program_zone(), []
    day, last = since.astimezone(zone).date(), until.astimezone(zone).date()
    while day < last:
        due = due_members(campaign, day)
        if due is not None:
            members, occurrence = due
            at = datetime.combine(day, datetime.min.time(), zone)
            candidates += [Candidate(campaign=campaign, member_id=m, occurrence=occurrence, at=at)
                           for m in members.values_list("pk", flat=True)]
        day += timedelta(days=1)
    return candidates


def _orders(campaign: Campaign, since: datetime, until: datetime) -> list[Candidate]:
    orders = Order.objects.filter(occurred_at__gte=since, occurred_at__lt=until)
    if campaign.order_min_amount is not None:
        orders = orders.filter(amount__gte=campaign.order_min_amount)
    return [Candidate(campaign=campaign, member_id=m, occurrence=f"order:{pk}", channel_id=ch, store=store, at=at)
            for pk, m, ch, store, at in orders.values_list("pk", "member_id", "channel_id", "store", "occurred_at")]


SOURCES = {
    Campaign.Trigger.EVENT: _events, Campaign.Trigger.EVENT_COUNT: _events, Campaign.Trigger.ORDER: _orders,
    Campaign.Trigger.STAGE_CHANGE: _changes, Campaign.Trigger.TIER_CHANGE: _changes,
    Campaign.Trigger.TAG_ENTERED: _changes, Campaign.Trigger.TIER_WARNING: _changes, Campaign.Trigger.BIRTHDAY: _dates,
    Campaign.Trigger.ANNIVERSARY: _dates, Campaign.Trigger.FIXED_DATE: _dates,
}


def campaign_simulate(*, campaign: Campaign, now: datetime | None = None, days: int = DAYS) -> Simulation:
    """What the campaign would have done over the last `days` days, as if it had been live (writes nothing)."""
    until = now or timezone.now()
    since = until - timedelta(days=days)
    source = SOURCES.get(campaign.trigger)
    candidates = source(campaign, since, until) if source else []
    ids = {c.member_id for c in candidates}
    active = set(Member.objects.filter(pk__in=ids, status=Member.Status.ACTIVE).values_list("pk", flat=True))
    facts = member_facts([campaign], ids)
    channels = {}
    if campaign.channels:
        from core.models import Channel

        channels = dict(Channel.objects.values_list("pk", "name"))
    zone = program_zone()
    done, in_period = set(), Counter()
    reached, fired, out = set(), 0, 0
    points_left = campaign.budget_points
    vouchers_left = campaign.budget_vouchers
    for c in sorted(candidates, key=lambda c: (c.at or until, c.member_id)):
        at = c.at or until
        if c.member_id not in active or (c.member_id, c.key) in done:
            continue
        if not conditions_met(campaign, facts[c.member_id], now=at, store=c.store, channel=channels.get(c.channel_id)):
            continue
        period = (period_start(campaign.limit_period, at.astimezone(zone)), c.member_id)
        if campaign.limit_per_member and in_period[period] >= campaign.limit_per_member:
            continue
        done.add((c.member_id, c.key))
        in_period[period] += 1
        if held_out(campaign.pk or 0, c.member_id, campaign.holdout_percent):
            out += 1
            continue
        if points_left is not None and campaign.bonus_points > points_left:
            continue
        if campaign.reward_id and vouchers_left is not None and vouchers_left < 1:
            continue
        points_left = None if points_left is None else points_left - campaign.bonus_points
        vouchers_left = None if vouchers_left is None or not campaign.reward_id else vouchers_left - 1
        fired += 1
        reached.add(c.member_id)
    return Simulation(members=len(reached), firings=fired, held_out=out, points=fired * campaign.bonus_points,
                      vouchers=fired if campaign.reward_id else 0,
                      multipliers=fired if campaign.boost_multiplier else 0, since=since, until=until)
