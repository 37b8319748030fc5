"""Reminders before points expire: one message per member, lead time and expiry date, for what still remains.

Dates are the member's own (`Member.timezone`, the program's time zone when theirs is empty or unknown): points
expire at the end of a day in the member's time zone, and a reminder covers everything that expires on that
day, whatever the hour the job runs at.

The program's `expiry_reminder_days` (e.g. [30, 7]) are the lead times. For each, the job reminds of the expiry
dates that are lead days away in the member's calendar, or up to three days fewer (so a run missed for up to three
days is caught up), never as close as the next shorter lead time (so a member never gets the 30-day and the 7-day
reminder on the same day) and never a date already past. Points already spent or expired (remaining 0) are not
reminded of. The messages are service messages.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from members.services import Message, notifications_record_many

from ..models import Lot, ProgramSettings
from .rules import member_zone

CATCH_UP_DAYS = 3
CLOCK_CHANGE = timedelta(hours=3)  # more than any zone's offset moves at once


def lead_times(program: ProgramSettings) -> list[int]:
    days = []
    for value in program.expiry_reminder_days or []:
        try:
            days.append(int(value))
        except (TypeError, ValueError):
            continue
    return sorted({d for d in days if d > 0})


@dataclass
class _Due:
    zone_name: str
    points: int
    first: datetime


def _due_by_local_date(rows, *, now: datetime, nearest: int, lead: int) -> dict[tuple[int, date], _Due]:
    """Fold the rows (member, time zone, expiry instant, points), grouped by the database, into the member's local
    expiry dates more than `nearest` and at most `lead` days after the member's today. Lots that expire at the end
    of one local day share their instant, so this is one row per member and date, unless the member's time zone
    changed since they earned or the lots are older than the end-of-day rule (then their rows are added up here)."""
    due: dict[tuple[int, date], _Due] = {}
    for row in rows:
        zone = member_zone(row["member__timezone"])
        day = row["expires_at"].astimezone(zone).date()
        if not nearest < (day - now.astimezone(zone).date()).days <= lead:
            continue
        entry = due.get((row["member_id"], day))
        if entry is None:
            due[(row["member_id"], day)] = _Due(zone_name=row["member__timezone"], points=row["points"],
                                                 first=row["expires_at"])
        else:
            entry.points += row["points"]
            entry.first = min(entry.first, row["expires_at"])
    return due


def _message(member_id: int, day: date, due: _Due, *, lead: int, now: datetime) -> Message:
    zone = member_zone(due.zone_name)
    return Message(member_id=member_id, kind="points_expiring",
                   dedupe_key=f"points-expiring:{member_id}:{day:%Y%m%d}:{lead}",
                   payload={"points": due.points, "date": day.isoformat(),
                            "expires_at": due.first.astimezone(zone).isoformat(), "timezone": zone.key,
                            "lead_days": lead, "days": max((day - now.astimezone(zone).date()).days, 0)})


def expiry_reminders_send(*, now: datetime | None = None, batch_size: int = 1000) -> dict[str, int]:
    """Record the reminders that are due, in keyset batches of members that commit one by one; re-runnable
    (each message has its dedupe key)."""
    now = now or timezone.now()
    stats = {"messages": 0, "members": 0}
    nearest = -1  # the shortest lead time may reach down to today's date (a late run)
    for lead in lead_times(ProgramSettings.current()):
        low = max(nearest, lead - CATCH_UP_DAYS)
        # Whatever the member's time zone, a local date from low + 1 to lead days after their today begins after
        # now + low days and ends by now + lead + 1 days (give or take a change of clocks): the lots to look at.
        # The exact dates are chosen per member below.
        lots = Lot.objects.filter(remaining__gt=0, expires_at__gt=now + timedelta(days=low) - CLOCK_CHANGE,
                                  expires_at__lte=now + timedelta(days=lead + 1) + CLOCK_CHANGE)
        last = 0
        while True:
            ids = list(lots.filter(member_id__gt=last).order_by("member_id").values_list("member_id", flat=True)
                       .distinct()[:batch_size])
            if not ids:
                break
            last = ids[-1]
            rows = (lots.filter(member_id__in=ids).values("member_id", "member__timezone", "expires_at")
                    .annotate(points=Sum("remaining")).order_by())
            due = _due_by_local_date(rows, now=now, nearest=low, lead=lead)
            messages = [_message(member_id, day, entry, lead=lead, now=now)
                        for (member_id, day), entry in sorted(due.items())]
            with transaction.atomic(durable=True):
                stats["messages"] += notifications_record_many(messages=messages)
            stats["members"] += len(ids)
        nearest = lead
    return stats
