"""Expiry of due lots and release of pending points, for one member or in batches for all.

Both run wherever a spend is decided (under the member's lock), so a lot past its expiry is never spent
even before the nightly job has posted its expiry, and points past their return window can be spent.
"""

from collections import defaultdict
from datetime import datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from ..models import Account, Lot, LotMovement, Transaction
from .ledger import channel_id, lock_accounts, system_key

SYSTEM = "system"


def _due(now: datetime) -> Q:
    return Q(remaining__gt=0) & (Q(expires_at__lte=now) | Q(released=False, available_at__lte=now))


def settle_locked(accounts: dict[int, Account], now: datetime) -> int:
    """Expire and release what is due for these accounts, whose locks the caller holds. Returns lots touched."""
    lots = list(
        Lot.objects.filter(_due(now), member_id__in=list(accounts))
        .order_by("member_id", "id")
        .values_list("id", "member_id", "remaining", "released", "expires_at")
    )
    if not lots:
        return 0
    expired: dict[int, list[tuple[int, int, bool]]] = defaultdict(list)
    released: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for lot_id, member_id, remaining, is_released, expires_at in lots:
        if expires_at is not None and expires_at <= now:
            expired[member_id].append((lot_id, remaining, is_released))
        else:
            released[member_id].append((lot_id, remaining))

    system = channel_id(SYSTEM)
    txns: list[Transaction] = []
    movements: list[tuple[int, list[tuple[int, int]]]] = []  # (index of txn, [(lot, -points)])
    for member_id, entries in expired.items():
        account = accounts[member_id]
        from_available = sum(r for _, r, rel in entries if rel)
        from_pending = sum(r for _, r, rel in entries if not rel)
        account.available -= from_available
        account.pending -= from_pending
        account.lifetime_expired += from_available + from_pending
        txns.append(Transaction(
            member_id=member_id, kind=Transaction.Kind.EXPIRE, points=-(from_available + from_pending),
            available_delta=-from_available, pending_delta=-from_pending, balance_after=account.available,
            pending_after=account.pending, channel_id=system, idempotency_key=system_key("expire"),
            reason="Points reached their expiry date.", details={"lots": [lot for lot, _, _ in entries]},
            created_at=now,
        ))
        movements.append((len(txns) - 1, [(lot, -r) for lot, r, _ in entries]))
    for member_id, entries in released.items():
        account = accounts[member_id]
        points = sum(r for _, r in entries)
        account.available += points
        account.pending -= points
        txns.append(Transaction(
            member_id=member_id, kind=Transaction.Kind.RELEASE, points=0, available_delta=points,
            pending_delta=-points, balance_after=account.available, pending_after=account.pending,
            channel_id=system, idempotency_key=system_key("release"),
            reason="Return window over: points are now available.", details={"lots": [lot for lot, _ in entries]},
            created_at=now,
        ))

    created = Transaction.objects.bulk_create(txns)
    LotMovement.objects.bulk_create([
        LotMovement(transaction_id=created[i].pk, lot_id=lot, points=p) for i, moves in movements for lot, p in moves
    ])
    expired_ids = [lot for entries in expired.values() for lot, _, _ in entries]
    released_ids = [lot for entries in released.values() for lot, _ in entries]
    if expired_ids:
        Lot.objects.filter(pk__in=expired_ids).update(remaining=0)
    if released_ids:
        Lot.objects.filter(pk__in=released_ids).update(released=True)
    touched = [accounts[m] for m in {*expired, *released}]
    Account.objects.bulk_update(touched, ["available", "pending", "lifetime_expired", "updated_at"])
    return len(lots)


def points_settle_due(*, now: datetime | None = None, batch_size: int = 500) -> dict[str, int]:
    """Expire every due lot and release every pending lot past its window, in member batches.

    Each batch commits on its own and the job can be re-run at any time: what is done is no longer due.
    """
    now = now or timezone.now()
    last_member = 0
    stats = {"batches": 0, "lots": 0}
    while True:
        member_ids = list(
            Lot.objects.filter(_due(now), member_id__gt=last_member)
            .order_by("member_id").values_list("member_id", flat=True).distinct()[:batch_size]
        )
        if not member_ids:
            return stats
        with transaction.atomic(durable=True):
            stats["lots"] += settle_locked(lock_accounts(member_ids), now)
        stats["batches"] += 1
        last_member = member_ids[-1]
