"""Date triggers: the member's birthday, the anniversary of joining, a fixed date. A daily job reads only the
members due today through an index (birthdays: `member_birthday` on the generated birth month and day;
anniversaries: `member_joined`, one joined_at range per past year), in keyset batches by member id that commit one
by one. "Today" is the program's time zone (settings.TIME_ZONE). The occurrence key names the year (or the fixed
date), so a rerun of the day, or of a batch, pays nothing twice; a member born on 29 February is celebrated on 28
February in other years."""

import calendar
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.db.models import Min, Q, QuerySet
from django.utils import timezone

from loyalty.services.rules import program_zone
from members.models import Member

from ..models import Campaign
from .evaluation import Candidate, firings_apply, live_campaigns

DATE_TRIGGERS = (Campaign.Trigger.BIRTHDAY, Campaign.Trigger.ANNIVERSARY, Campaign.Trigger.FIXED_DATE)


def _month_days(today: date) -> list[tuple[int, int]]:
    pairs = [(today.month, today.day)]
    if (today.month, today.day) == (2, 28) and not calendar.isleap(today.year):
        pairs.append((2, 29))
    return pairs


def _birthdays(today: date) -> Q:
    condition = Q()
    for month, day in _month_days(today):
        condition |= Q(birth_month=month, birth_day=day)
    return condition


def _anniversaries(today: date) -> Q:
    """Joined on today's month and day of an earlier year: one range of joined_at per year (the local day)."""
    zone = program_zone()
    first = Member.objects.filter(status=Member.Status.ACTIVE).aggregate(first=Min("joined_at"))["first"]
    condition = Q(pk__in=[])
    if first is None:
        return condition
    for year in range(first.astimezone(zone).year, today.year):
        for month, day in _month_days(today):
            if day > calendar.monthrange(year, month)[1]:
                continue
            start = datetime.combine(date(year, month, day), time.min, zone)
            condition |= Q(joined_at__gte=start, joined_at__lt=start + timedelta(days=1))
    return condition


def due_members(campaign: Campaign, today: date) -> tuple[QuerySet, str] | None:
    """The members a date campaign reaches today and the occurrence they fire for, or None when not today."""
    active = Member.objects.filter(status=Member.Status.ACTIVE)
    if campaign.trigger == Campaign.Trigger.BIRTHDAY:
        return active.filter(_birthdays(today)), f"birthday:{today.year}"
    if campaign.trigger == Campaign.Trigger.ANNIVERSARY:
        return active.filter(_anniversaries(today)), f"anniversary:{today.year}"
    if campaign.fire_on == today:
        return active, f"date:{today.isoformat()}"
    return None


def _keyset(members: QuerySet, batch_size: int) -> Iterator[list[int]]:
    last = 0
    while True:
        ids = list(members.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:batch_size])
        if not ids:
            return
        yield ids
        last = ids[-1]


def dates_evaluate(*, now: datetime | None = None, batch_size: int = 500) -> dict[str, int]:
    """Fire today's birthday, anniversary and fixed-date campaigns (daily; re-runnable)."""
    now = now or timezone.now()
    today = now.astimezone(program_zone()).date()
    stats = {"members": 0, "fired": 0, "batches": 0}
    for trigger in DATE_TRIGGERS:
        for campaign in live_campaigns(trigger=trigger, now=now):
            due = due_members(campaign, today)
            if due is None:
                continue
            members, occurrence = due
            for ids in _keyset(members, batch_size):
                with transaction.atomic(durable=True):
                    fired = firings_apply(candidates=[Candidate(campaign=campaign, member_id=m, occurrence=occurrence)
                                                      for m in ids], now=now, set_based=True)
                stats["members"] += len(ids)
                stats["fired"] += len(fired)
                stats["batches"] += 1
    return stats
