"""The import of a shop's order history from before the program: recorded in the members' facts (and so in their
segments and lifetime value), never awarding points. Idempotent: an order already imported, or already recorded by
the ledger, is skipped, so the same file or request can be sent again."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from core.errors import BadRequest
from loyalty.locks import members_locked
from loyalty.models import Order
from members.models import Member

from ..models import HistoricalOrder
from .facts import member_facts_record_order

MAX_ROWS = 1000


@dataclass(frozen=True)
class HistoryRow:
    member: str  # external_id
    order_id: str
    amount: Decimal
    occurred_at: datetime
    categories: tuple[str, ...] = ()


@transaction.atomic(savepoint=False)
def order_history_import(*, channel_id: int, rows: list[HistoryRow], now: datetime | None = None) -> dict[str, int]:
    """Import up to MAX_ROWS past orders; returns how many were imported and skipped. Unknown members, future dates
    or repeated order ids in one request are a 422 naming the rows, and nothing is imported."""
    now = now or timezone.now()
    if len(rows) > MAX_ROWS:
        raise BadRequest(f"At most {MAX_ROWS} orders at once.", fields={"orders": [f"At most {MAX_ROWS}."]})
    members = dict(Member.objects.filter(external_id__in={r.member for r in rows}).values_list("external_id", "pk"))
    errors, seen = {}, set()
    for i, row in enumerate(rows):
        if row.member not in members:
            errors[str(i)] = {"member": [f"No member with external_id {row.member!r}."]}
        elif row.occurred_at > now:
            errors[str(i)] = {"occurred_at": ["Is in the future."]}
        elif row.order_id in seen:
            errors[str(i)] = {"order_id": ["Appears twice in this import."]}
        seen.add(row.order_id)
    if errors:
        raise BadRequest("Some orders cannot be imported; nothing was.", fields={"orders": errors}, status_code=422)
    live = set(Order.objects.filter(channel_id=channel_id, order_id__in=seen).values_list("order_id", flat=True))
    imported = 0
    with members_locked(members.values()):  # the facts of these members change; member-id order
        known = set(HistoricalOrder.objects.filter(channel_id=channel_id, order_id__in=seen)
                    .values_list("order_id", flat=True))
        for row in rows:
            if row.order_id in known or row.order_id in live:
                continue
            order = HistoricalOrder.objects.create(
                channel_id=channel_id, order_id=row.order_id, member_id=members[row.member], amount=row.amount,
                occurred_at=row.occurred_at, categories=sorted(set(row.categories)), imported_at=now)
            member_facts_record_order(order=order, categories=list(row.categories))
            imported += 1
    return {"imported": imported, "skipped": len(rows) - imported}
