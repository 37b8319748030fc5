"""The ledger's primitives. Every change of points goes through `post`, under the account's row lock.

Locking: accounts are locked in member-id order by loyalty.locks, the one place that locks them, and every
read that decides a spend happens after that lock is taken. Lots are only changed by a holder of their
member's account lock, so the account lock guards them too.
"""

import uuid
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

from django.db.models import F, Q

from core.errors import BusinessRuleError
from core.fields import MAX_BALANCE
from core.metrics import ledger_write_count
from core.models import Channel

from ..exceptions import LoyaltyErrorCode
from ..models import Account, Lot, LotMovement, Transaction

_channel_ids: dict[str, int] = {}


def channel_id(name: str) -> int:
    """Id of one of our own channels (admin, system), cached per process."""
    if name not in _channel_ids:
        channel = Channel.objects.filter(name=name).first()
        if channel is None:  # created here, inside a transaction that may still roll back: do not cache it
            return Channel.named(name).pk
        _channel_ids[name] = channel.pk
    return _channel_ids[name]


def system_key(prefix: str) -> str:
    return f"{prefix}:{uuid.uuid4().hex}"


def post(*, account: Account, kind: str, available_delta: int, pending_delta: int, channel_id: int,
         idempotency_key: str, now: datetime, movements: Iterable[tuple[Lot, int]] = (), reference: str = "",
         reason: str = "", actor=None, reverses: Transaction | None = None, details: dict | None = None,
         counters: dict[str, int] | None = None, multiplier: Decimal = Decimal(1)) -> Transaction:
    """Write one transaction and its lot movements, and move the cached balances with it. A credit that would take
    the member past MAX_BALANCE is refused (422), before anything is written."""
    txn, changed = transaction_build(
        account=account, kind=kind, available_delta=available_delta, pending_delta=pending_delta,
        channel_id=channel_id, idempotency_key=idempotency_key, now=now, reference=reference, reason=reason,
        actor=actor, reverses=reverses, details=details, counters=counters, multiplier=multiplier)
    account.save(update_fields=changed)
    txn.save(force_insert=True)
    LotMovement.objects.bulk_create([LotMovement(transaction=txn, lot=lot, points=p) for lot, p in movements if p])
    ledger_write_count(kind)
    return txn


def account_update_sql(account: Account, changed: list[str], now: datetime) -> tuple[str, list]:
    """The UPDATE that stores `changed` fields of a locked account (for a statement that writes more rows)."""
    account.updated_at = now
    fields = [Account._meta.get_field(name) for name in changed]
    assignments = ", ".join(f'"{field.column}" = %s' for field in fields)
    return (f'UPDATE "{Account._meta.db_table}" SET {assignments} WHERE "member_id" = %s',
            [getattr(account, field.attname) for field in fields] + [account.member_id])


def transaction_build(*, account: Account, kind: str, available_delta: int, pending_delta: int, channel_id: int,
                      idempotency_key: str, now: datetime, reference: str = "", reason: str = "", actor=None,
                      reverses: Transaction | None = None, details: dict | None = None,
                      counters: dict[str, int] | None = None,
                      multiplier: Decimal = Decimal(1)) -> tuple[Transaction, list[str]]:
    """The rules of a posting, nothing written: refuse a credit past MAX_BALANCE (422), move the account's cached
    balances and counters in memory, and build the transaction that explains it. Returns the unsaved transaction
    and the account fields to store; `post` and `credit` write them, each in its own statements."""
    points = available_delta + pending_delta
    if points > 0 and account.available + account.pending + points > MAX_BALANCE:
        raise BusinessRuleError(
            f"The member would hold more than {MAX_BALANCE:,} points.", code=LoyaltyErrorCode.BALANCE_LIMIT_EXCEEDED,
            extra={"limit": MAX_BALANCE, "balance": account.available + account.pending,
                   "requested": points})
    account.available += available_delta
    account.pending += pending_delta
    for name, delta in (counters or {}).items():
        setattr(account, name, getattr(account, name) + delta)
    txn = Transaction(
        member_id=account.member_id, kind=kind, points=available_delta + pending_delta,
        available_delta=available_delta, pending_delta=pending_delta, balance_after=account.available,
        pending_after=account.pending, reference=reference[:100], channel_id=channel_id,
        actor=actor if getattr(actor, "pk", None) else None, reason=reason[:500], idempotency_key=idempotency_key,
        reverses=reverses, details=details or {}, created_at=now, multiplier=multiplier,
    )
    return txn, ["available", "pending", "updated_at", *(counters or {})]


def spendable_lots(member_id: int, now: datetime):
    """Released lots with points left that have not expired, first-expiring first (never-expiring last)."""
    return (
        Lot.objects.filter(member_id=member_id, remaining__gt=0, released=True)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .order_by(F("expires_at").asc(nulls_last=True), "earned_at", "id")
    )


def take_from_lots(lots: Iterable[Lot], points: int) -> list[tuple[Lot, int]]:
    """Take up to `points` from `lots` in order; returns the movements (negative). Saves the lots."""
    moved: list[tuple[Lot, int]] = []
    left = points
    for lot in lots:
        if left <= 0:
            break
        take = min(lot.remaining, left)
        if take <= 0:
            continue
        lot.remaining -= take
        left -= take
        Lot.objects.filter(pk=lot.pk).update(remaining=F("remaining") - take)
        moved.append((lot, -take))
    return moved


def spend(*, account: Account, points: int, now: datetime) -> list[tuple[Lot, int]]:
    """Take `points` from the member's spendable lots or refuse with insufficient_points. Lock held."""
    if account.available < points:
        raise BusinessRuleError(
            f"The member has {account.available} points available; {points} were asked for.",
            code=LoyaltyErrorCode.INSUFFICIENT_POINTS, extra={"available": account.available, "requested": points},
        )
    moved = take_from_lots(spendable_lots(account.member_id, now), points)
    if -sum(p for _, p in moved) != points:  # the cache and the lots disagree: refuse rather than overspend
        raise BusinessRuleError("The balance could not be covered by the member's lots.",
                                code=LoyaltyErrorCode.INSUFFICIENT_POINTS,
                                extra={"available": account.available, "requested": points})
    return moved
