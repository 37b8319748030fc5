"""Reminders before points expire: one message per member, lead time and expiry date, for what still remains.

The program's `expiry_reminder_days` (e.g. [30, 7]) are the lead times. For each, the job looks at the lots
expiring between (lead - 3 days) and lead days from now, never closer than the next shorter lead time, so
a run missed for up to three days is caught up and a member never gets the 30-day and the 7-day reminder on the
same day. Points already spent or expired (remaining 0) are not reminded of. The messages are service messages.
"""

from datetime import UTC, datetime, timedelta

from django.db import transaction
from django.db.models import Min, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from members.services import Message, notifications_record_many

from ..models import Lot, ProgramSettings

CATCH_UP = timedelta(days=3)


def lead_times(program: ProgramSettings) -> list[int]:
    days = []
    for value in program.expiry_reminder_days or []:
        try:
            days.append(int(value))
        except (TypeError, ValueError):
            continue
    return sorted({d for d in days if d > 0})


def expiry_reminders_send(*, now: datetime | None = None, batch_size: int = 1000) -> dict[str, int]:
    """Record the reminders that are due, in keyset batches of members that commit one by one; re-runnable
    (each message has its dedupe key)."""
    now = now or timezone.now()
    stats = {"messages": 0, "members": 0}
    shorter = 0
    for lead in lead_times(ProgramSettings.current()):
        high = now + timedelta(days=lead)
        low = max(now + timedelta(days=shorter), high - CATCH_UP)
        shorter = lead
        lots = Lot.objects.filter(remaining__gt=0, expires_at__gt=low, expires_at__lte=high)
        last = 0
        while True:
            ids = list(lots.filter(member_id__gt=last).order_by("member_id").values_list("member_id", flat=True)
                       .distinct()[:batch_size])
            if not ids:
                break
            last = ids[-1]
            rows = (lots.filter(member_id__in=ids).annotate(day=TruncDate("expires_at", tzinfo=UTC))
                    .values("member_id", "day").annotate(points=Sum("remaining"), first=Min("expires_at"))
                    .order_by("member_id", "day"))
            messages = [Message(member_id=r["member_id"], kind="points_expiring",
                                dedupe_key=f"points-expiring:{r['member_id']}:{r['day']:%Y%m%d}:{lead}",
                                payload={"points": r["points"], "date": r["day"].isoformat(),
                                         "expires_at": r["first"].isoformat(), "lead_days": lead,
                                         "days": max((r["day"] - now.astimezone(UTC).date()).days, 0)})
                        for r in rows]
            with transaction.atomic(durable=True):
                stats["messages"] += notifications_record_many(messages=messages)
            stats["members"] += len(ids)
    return stats
