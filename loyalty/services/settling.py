"""Expiry of due lots and release of pending points, for one member or in batches for all.

Both run wherever a spend is decided (under the member's lock), so a lot past its expiry is never spent
even before the nightly job has posted its expiry, and points past their return window can be spent.
"""

from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from ..locks import members_lock_rows
from ..models import Account, Lot, LotMovement, Transaction
from .ledger import channel_id, system_key

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
        account.updated_at = now  # bulk_update below does not apply auto_now
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
        account.updated_at = now
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


_EXPIRE_SQL = """
WITH due AS MATERIALIZED (
    SELECT id, member_id, remaining, released FROM {lot}
    WHERE member_id = ANY(%(ids)s) AND remaining > 0 AND expires_at <= %(now)s
), per_member AS (
    SELECT member_id, COALESCE(SUM(remaining) FILTER (WHERE released), 0) AS from_available,
           COALESCE(SUM(remaining) FILTER (WHERE NOT released), 0) AS from_pending, array_agg(id ORDER BY id) AS lots
    FROM due GROUP BY member_id
), accounts AS (
    UPDATE {account} a SET available = a.available - p.from_available, pending = a.pending - p.from_pending,
        lifetime_expired = a.lifetime_expired + p.from_available + p.from_pending, updated_at = %(now)s
    FROM per_member p WHERE a.member_id = p.member_id
    RETURNING a.member_id, a.available, a.pending, p.from_available, p.from_pending, p.lots
), txns AS (
    INSERT INTO {transaction} (member_id, kind, points, available_delta, pending_delta, balance_after, pending_after,
        reference, channel_id, actor_id, reason, idempotency_key, reverses_id, multiplier, details, created_at)
    SELECT member_id, 'expire', -(from_available + from_pending), -from_available, -from_pending, available, pending,
        '', %(channel)s, NULL, 'Points reached their expiry date.',
        -- keys in member order (one transaction of ours expires a member once), so the unique index takes
        -- them in sequence rather than at random places
        'expire:' || lpad(member_id::text, 12, '0') || ':' || txid_current(),
        NULL, 1, jsonb_build_object('lots', to_jsonb(lots)), %(now)s
    FROM accounts
    RETURNING id, member_id
), moves AS (
    INSERT INTO {movement} (transaction_id, lot_id, points)
    SELECT t.id, d.id, -d.remaining FROM due d JOIN txns t ON t.member_id = d.member_id
)
UPDATE {lot} l SET remaining = 0 FROM due d WHERE l.id = d.id
"""

_RELEASE_SQL = """
WITH due AS MATERIALIZED (
    SELECT id, member_id, remaining FROM {lot}
    WHERE member_id = ANY(%(ids)s) AND remaining > 0 AND NOT released AND available_at <= %(now)s
      AND (expires_at IS NULL OR expires_at > %(now)s)
), per_member AS (
    SELECT member_id, SUM(remaining) AS points, array_agg(id ORDER BY id) AS lots FROM due GROUP BY member_id
), accounts AS (
    UPDATE {account} a SET available = a.available + p.points, pending = a.pending - p.points, updated_at = %(now)s
    FROM per_member p WHERE a.member_id = p.member_id
    RETURNING a.member_id, a.available, a.pending, p.points, p.lots
), txns AS (
    INSERT INTO {transaction} (member_id, kind, points, available_delta, pending_delta, balance_after, pending_after,
        reference, channel_id, actor_id, reason, idempotency_key, reverses_id, multiplier, details, created_at)
    SELECT member_id, 'release', 0, points, -points, available, pending, '', %(channel)s, NULL,
        'Return window over: points are now available.',
        'release:' || lpad(member_id::text, 12, '0') || ':' || txid_current(),
        NULL, 1, jsonb_build_object('lots', to_jsonb(lots)), %(now)s
    FROM accounts
)
UPDATE {lot} l SET released = true FROM due d WHERE l.id = d.id
"""

_DUE_MEMBERS_SQL = """
SELECT member_id FROM {lot} WHERE remaining > 0 AND expires_at <= %(now)s
UNION
SELECT member_id FROM {lot} WHERE remaining > 0 AND NOT released AND available_at <= %(now)s
ORDER BY 1
"""


def _tables() -> dict[str, str]:
    return {"lot": Lot._meta.db_table, "account": Account._meta.db_table, "transaction": Transaction._meta.db_table,
            "movement": LotMovement._meta.db_table}


def settle_batch_sql(member_ids: list[int], now: datetime) -> int:
    """`settle_locked` for a batch of members as four set-based statements (PostgreSQL): lock the accounts in
    member-id order, then expire (accounts, expire transactions, lot movements, lots) and release, each in one
    INSERT ... SELECT / UPDATE ... FROM. The same entries as `settle_locked`, without a row in Python."""
    tables = _tables()
    params = {"ids": member_ids, "now": now, "channel": channel_id(SYSTEM)}
    members_lock_rows(member_ids)
    with connection.cursor() as cursor:
        cursor.execute(_EXPIRE_SQL.format(**tables), params)
        expired = cursor.rowcount
        cursor.execute(_RELEASE_SQL.format(**tables), params)
        return expired + cursor.rowcount


def _due_member_ids(now: datetime) -> list[int]:
    """Every member with a lot due now, ascending: read once through the two partial indexes (due for expiry,
    due for release), so the batches that follow cost what the due lots cost, not what all lots cost."""
    with connection.cursor() as cursor:
        cursor.execute(_DUE_MEMBERS_SQL.format(**_tables()), {"now": now})
        return [row[0] for row in cursor.fetchall()]


def _settle_batch(member_ids: list[int], now: datetime) -> int:
    with transaction.atomic(durable=True):
        # A crash may lose the last few committed batches, never half of one: a rerun does them again.
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit = off")
        return settle_batch_sql(member_ids, now)


def _settle_in_parallel(batches: list[list[int]], now: datetime, workers: int) -> int:
    """Disjoint batches on `workers` database connections at once (each batch locks only its own members, in
    order, so they never wait for one another): the database's work spreads over the machine's cores."""
    def run(batch: list[int]) -> int:
        try:
            return _settle_batch(batch, now)
        finally:
            connection.close()  # this thread's own connection

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return sum(pool.map(run, batches))


def points_settle_due(*, now: datetime | None = None, batch_size: int = 2000,
                      workers: int | None = None) -> dict[str, int]:
    """Expire every due lot and release every pending lot past its window, in member batches.

    Each batch commits on its own and the job can be re-run at any time: what is done is no longer due. A batch is
    a few set-based statements (`settle_batch_sql`) over the members due, taken in ascending id order, and large
    runs use SETTLE_WORKERS connections at once.
    """
    now = now or timezone.now()
    due = _due_member_ids(now)
    batches = [due[start:start + batch_size] for start in range(0, len(due), batch_size)]
    workers = settings.SETTLE_WORKERS if workers is None else workers
    if workers > 1 and len(batches) > 1 and not connection.in_atomic_block:
        lots = _settle_in_parallel(batches, now, workers)
    else:
        lots = sum(_settle_batch(batch, now) for batch in batches)
    return {"batches": len(batches), "lots": lots}
