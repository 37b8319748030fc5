"""Earn boosts: a multiplier on the member's next order that earns points, granted by an app above loyalty (a
campaign's effect) and taken by the earn service under the member's ledger lock, one per order, oldest first."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import connection

from ..locks import account_locked
from ..models import EarnBoost


@dataclass(frozen=True)
class TakenBoost:
    id: int
    multiplier: Decimal


def earn_boost_grant(*, member_id: int, multiplier: Decimal, grant_key: str, reason: str, now: datetime,
                     expires_at: datetime | None = None) -> EarnBoost:
    """Grant a boost once per `grant_key` (a replay returns the first one). The caller holds the member's lock."""
    account_locked(member_id)
    boost, _ = EarnBoost.objects.get_or_create(grant_key=grant_key, defaults={
        "member_id": member_id, "multiplier": multiplier, "reason": reason, "granted_at": now,
        "expires_at": expires_at})
    return boost


def earn_boost_take(*, member_id: int, now: datetime) -> TakenBoost | None:
    """Mark the member's oldest unused, unexpired boost used and return it: one indexed statement, on every
    order that earns (the caller holds the member's lock, so no other order can take the same boost)."""
    table = EarnBoost._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET used_at = %s WHERE id = (SELECT id FROM {table} WHERE member_id = %s "
                       "AND used_at IS NULL AND (expires_at IS NULL OR expires_at > %s) ORDER BY id LIMIT 1) "
                       "RETURNING id, multiplier", [now, member_id, now])
        row = cursor.fetchone()
    return TakenBoost(*row) if row else None


def earn_boost_link(*, boost: TakenBoost, transaction_id: int) -> None:
    EarnBoost.objects.filter(pk=boost.id).update(used_by_id=transaction_id)
