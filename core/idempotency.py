"""Exactly-once writes over HTTP.

Every write runs inside one database transaction that first claims (channel, Idempotency-Key). On
PostgreSQL the claim is an INSERT ... ON CONFLICT DO NOTHING, which waits while another transaction holds
the same key; so of N concurrent identical requests one does the work, and the others, once it commits,
find its stored answer and replay it. A different body under the same key is a 409. A refused write (4xx)
rolls the claim back with everything else, so a corrected retry with the same key is possible.

A client that timed out and retries while its first request still runs is such a concurrent request: it waits
for the first one, at most IDEMPOTENCY_WAIT_SECONDS, and gets its answer replayed; if the first one is still
running by then, it gets 409 `idempotency_in_progress` with Retry-After, and nothing is written twice. The bound
is PostgreSQL's lock_timeout, set for the claim only, inside the claim's one statement (no extra round trip).

This request boundary is the outermost, durable, transaction; services join it.
"""

import hashlib
import json
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import DataError, IntegrityError, OperationalError, connection, transaction
from django.utils import timezone
from rest_framework.response import Response

from .errors import ApplicationError, BadRequest, Conflict, ErrorCode, error_body
from .models import IdempotencyRecord

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
IN_PROGRESS_RETRY_AFTER_SECONDS = 1


def request_key(request) -> str:
    key = (request.headers.get(HEADER) or "").strip()
    if not key:
        raise BadRequest(f"The {HEADER} header is required on every write.", code=ErrorCode.IDEMPOTENCY_KEY_MISSING)
    if len(key) > MAX_KEY_LENGTH:
        raise BadRequest(f"The {HEADER} header is longer than {MAX_KEY_LENGTH} characters.",
                         code=ErrorCode.IDEMPOTENCY_KEY_TOO_LONG, extra={"max_length": MAX_KEY_LENGTH})
    return key


def derived_key(prefix: str, *parts) -> str:
    """The idempotency key of a write derived from others (the client's key, a channel, a row id): `prefix` and
    the sha256 of the parts. It fits the 255-character key columns whatever the parts (a client's key alone may
    take all 255), and different parts never give the same key (they are hashed as a list, not joined)."""
    digest = hashlib.sha256(json.dumps([str(part) for part in parts]).encode()).hexdigest()
    key = f"{prefix}:{digest}"
    if len(key) > MAX_KEY_LENGTH:
        raise ValueError(f"The prefix {prefix[:20]!r}... leaves no room for the digest.")
    return key


def fingerprint(request) -> str:
    return body_fingerprint(request.method, request.path, request.data)


def body_fingerprint(method: str, path: str, data) -> str:
    """What a replay must match: the method, the path and the body. A write of a batch is fingerprinted as the
    single request it stands for, so a key is the same write whichever way it came."""
    body = json.dumps(data, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(f"{method} {path}\n{body}".encode()).hexdigest()


# The claim, with the wait for a concurrent claim of the same key bounded: the row source sets lock_timeout for
# this transaction (keeping the value it had), and RETURNING, evaluated only when the row was inserted, puts the
# value back, so the write's own locks afterwards wait as they always did. On a conflict nothing is returned and
# `_claim` puts it back itself.
_CLAIM_SQL = """
INSERT INTO {table} (channel_id, key, fingerprint, created_at)
SELECT %s, %s, %s, CURRENT_TIMESTAMP
FROM (SELECT set_config('loyalty.lock_timeout_before', current_setting('lock_timeout'), true),
             set_config('lock_timeout', %s, true)) AS bounded_wait
ON CONFLICT (channel_id, key) DO NOTHING
RETURNING id, set_config('lock_timeout', current_setting('loyalty.lock_timeout_before'), true){generic}
"""
# Generic plans for the rest of the transaction (SET LOCAL, inside a statement): a write whose statements are planned
# once for any values (idempotent_write's `generic_plans`, switched on by the claim's RETURNING when there is a write
# to do; config.earn_set's lock statement too).
GENERIC_PLANS = "set_config('plan_cache_mode', 'force_generic_plan', true)"


# The claim of many keys at once (a batch): the same bounded wait, put back when the aggregate is computed, that
# is once every row was inserted or found claimed. Keys in sorted order, so two batches cannot claim crosswise.
_CLAIM_MANY_SQL = """
WITH bounded_wait AS (SELECT set_config('loyalty.lock_timeout_before', current_setting('lock_timeout'), true),
                             set_config('lock_timeout', %(wait)s, true)),
claimed AS (INSERT INTO {table} (channel_id, key, fingerprint, created_at)
            SELECT %(channel)s, k.key, k.digest, CURRENT_TIMESTAMP
            FROM unnest(%(keys)s::text[], %(digests)s::text[]) AS k(key, digest), bounded_wait ORDER BY k.key
            ON CONFLICT (channel_id, key) DO NOTHING RETURNING key)
SELECT array_agg(key), set_config('lock_timeout', current_setting('loyalty.lock_timeout_before'), true) FROM claimed
"""


def claims_take(*, channel_id: int, keys: list[tuple[str, str]]) -> set[str] | None:
    """Claim many (key, fingerprint) pairs in one statement, in a savepoint; returns the keys claimed now (the others
    were claimed before: their writes replay or refuse one by one), or None when a key's first write still runs (the
    caller then goes one by one, each its own claim and answer)."""
    if not keys:
        return set()
    wait_ms = max(1, int(settings.IDEMPOTENCY_WAIT_SECONDS * 1000))
    ordered = sorted(dict(keys).items())
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(_CLAIM_MANY_SQL.format(table=IdempotencyRecord._meta.db_table),
                           {"wait": f"{wait_ms}ms", "channel": channel_id, "keys": [k for k, _ in ordered],
                            "digests": [d for _, d in ordered]})
            return set(cursor.fetchone()[0] or ())
    except OperationalError as error:
        if getattr(error.__cause__, "sqlstate", None) in ("55P03", "40P01"):
            return None
        raise


class _InProgress(Exception):
    pass


def _stored(channel_id: int, key: str) -> IdempotencyRecord:
    """The answer stored under a key the claim found taken. The retention job may have forgotten it since the claim
    (a key retried at the very day it expires): the key is free again, and the client is told to retry at once."""
    record = IdempotencyRecord.objects.filter(channel_id=channel_id, key=key).first()
    if record is None:
        raise _InProgress
    return record


# The ledger's own exactly-once guard: a transaction is unique per (channel, idempotency key) (loyalty's Transaction).
# A key whose stored answer was forgotten (IDEMPOTENCY_RETENTION_DAYS) and is sent again is a new request to this
# module, and that constraint refuses its posting: answered as the key's reuse, never a 500 nor a second posting.
POSTED_KEY_CONSTRAINTS = frozenset({"transaction_idempotent"})


def _posted_before(error: IntegrityError) -> bool:
    return getattr(getattr(error.__cause__, "diag", None), "constraint_name", None) in POSTED_KEY_CONSTRAINTS


def _perform(perform: Callable[[], tuple]) -> tuple[int, dict, bool]:
    """Run a write: (status, body, stored); `stored` when the write stored its answer with its rows (a perform
    returning a third item, True). A posting refused as a forgotten key's is that key's 409."""
    try:
        status, body, *stored = perform()
    except IntegrityError as error:
        if _posted_before(error):
            raise Conflict(f"This {HEADER} was already used for a write whose answer is no longer kept "
                           f"({settings.IDEMPOTENCY_RETENTION_DAYS} days); send a new key for a new write.",
                           code=ErrorCode.IDEMPOTENCY_KEY_REUSED) from error
        raise
    return status, body, bool(stored)


def _claim(channel_id: int, key: str, digest: str, *, generic_plans: bool = False) -> bool:
    wait_ms = max(1, int(settings.IDEMPOTENCY_WAIT_SECONDS * 1000))
    with connection.cursor() as cursor:
        try:
            cursor.execute(_CLAIM_SQL.format(table=IdempotencyRecord._meta.db_table,
                                             generic=f", {GENERIC_PLANS}" if generic_plans else ""),
                           [channel_id, key, digest, f"{wait_ms}ms"])
        except OperationalError as error:
            # lock_not_available: the first still runs. deadlock_detected: a batch (which claims each order's key
            # after it locked the batch's accounts) and a single write of the same key met; either way the key's
            # first write is not done yet.
            if getattr(error.__cause__, "sqlstate", None) in ("55P03", "40P01"):
                raise _InProgress from error
            raise
        if cursor.fetchone() is not None:
            return True
        # Claimed before: RETURNING did not run, so put the wait back here (a batch goes on to other writes, whose
        # locks must wait as they always do).
        cursor.execute("SELECT set_config('lock_timeout', current_setting('loyalty.lock_timeout_before'), true)")
        return False


def _answer(channel_id: int, key: str, status: int, body: dict) -> None:
    """Store the answer that replays will get (plain SQL: on every write, the ORM's UPDATE cost more to build than
    to run)."""
    response = IdempotencyRecord._meta.get_field("response").get_db_prep_save(body, connection)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {IdempotencyRecord._meta.db_table} SET status_code = %s, response = %s "
                       "WHERE channel_id = %s AND key = %s", [status, response, channel_id, key])


def idempotent_write(request, *, channel_id: int, perform: Callable[[], tuple[int, dict]],
                     key: str | None = None, generic_plans: bool = False) -> Response:
    """Run `perform` (returning status and body) exactly once for this channel and Idempotency-Key. A `perform`
    that stored the answer itself, in its own write, returns (status, body, True). With `generic_plans`, `perform`
    begins on generic plans (PostgreSQL's plan_cache_mode, for this transaction): its prepared statements are not
    planned again for every execution; it switches them off itself before statements that want plans made for
    their values (config.earn_set does)."""
    key = key or request_key(request)
    digest = fingerprint(request)
    try:
        return _write_once(request, channel_id=channel_id, key=key, digest=digest, perform=perform,
                           generic_plans=generic_plans)
    except _InProgress:
        raise Conflict(f"A request with this {HEADER} is still being processed; retry after a moment.",
                       code=ErrorCode.IDEMPOTENCY_IN_PROGRESS, retry_after=IN_PROGRESS_RETRY_AFTER_SECONDS) from None



def _write_once(request, *, channel_id: int, key: str, digest: str, perform: Callable[[], tuple[int, dict]],
                generic_plans: bool) -> Response:
    with transaction.atomic(durable=True):
        if not _claim(channel_id, key, digest, generic_plans=generic_plans):
            record = _stored(channel_id, key)
            if record.fingerprint != digest:
                raise Conflict(
                    f"This {HEADER} was already used for a different request.",
                    code=ErrorCode.IDEMPOTENCY_KEY_REUSED,
                )
            return Response(record.response, status=record.status_code, headers={"Idempotent-Replayed": "true"})
        status, body, stored = _perform(perform)
        if not stored:
            _answer(channel_id, key, status, body)
    return Response(body, status=status)


def idempotent_item(*, channel_id: int, key: str, digest: str,
                    perform: Callable[[], tuple[int, dict]]) -> tuple[int, dict, bool]:
    """One write of a batch, exactly once by its own key, in its own savepoint inside the batch's transaction:
    returns (status, body, replayed). A refusal (an application error, a value the database cannot hold, the key
    reused or still in progress) rolls back this write only, its claim included, and is answered in the one error
    shape; the batch goes on. Anything else (the database gone) fails the whole batch, which then writes nothing."""
    try:
        with transaction.atomic():
            if not _claim(channel_id, key, digest):
                record = _stored(channel_id, key)
                if record.fingerprint != digest:
                    raise Conflict("This idempotency key was already used for a different request.",
                                   code=ErrorCode.IDEMPOTENCY_KEY_REUSED)
                return record.status_code, record.response, True
            status, body, stored = _perform(perform)
            if not stored:
                _answer(channel_id, key, status, body)
            return status, body, False
    except _InProgress:
        return 409, error_body(ErrorCode.IDEMPOTENCY_IN_PROGRESS, "A request with this idempotency key is still "
                               "being processed; retry after a moment."), False
    except ApplicationError as exc:
        return exc.status_code, error_body(exc.code, exc.message, exc.fields, exc.extra), False
    except DataError:
        return 400, error_body(ErrorCode.INVALID, "A value in the request cannot be stored."), False


def idempotency_records_purge(*, now=None, batch_size: int = 10_000) -> dict[str, int]:
    """Forget the stored answers older than IDEMPOTENCY_RETENTION_DAYS (0: keep them for good), so the table holds
    weeks of keys, not the program's whole history. A key retried after that is a new request. A write that posts
    to the ledger under its key cannot post again (transactions are unique per channel and idempotency key): the
    late retry gets a 409 instead of its old answer. Other writes are done again or refused by their own unique
    keys (an order id: 409 duplicate_order; an order that earned nothing posted nothing under its key).

    Records are found by id, which follows time (no index on `created_at`: the API's writes would pay for it on
    every request): a binary search over the primary key finds the first record young enough to keep, then the
    older ones go in batches of `batch_size`, each committed on its own. Re-runnable."""
    days = settings.IDEMPOTENCY_RETENTION_DAYS
    if days <= 0:
        return {"deleted": 0, "batches": 0}
    cutoff = (now or timezone.now()) - timedelta(days=days)
    table = IdempotencyRecord._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT min(id), max(id) FROM {table}")
        low, high = cursor.fetchone()
        if low is None:
            return {"deleted": 0, "batches": 0}
        high += 1  # the boundary: the first id to keep; every id below it is older than the cutoff
        while low < high:
            middle = (low + high) // 2
            cursor.execute(f"SELECT id, created_at FROM {table} WHERE id >= %s ORDER BY id LIMIT 1", [middle])
            row = cursor.fetchone()
            if row is None or row[1] >= cutoff:
                high = middle
            else:
                low = row[0] + 1
    boundary, deleted, batches = low, 0, 0
    while True:
        with transaction.atomic(durable=True), connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {table} WHERE id IN (SELECT id FROM {table} WHERE id < %s ORDER BY id "
                           "LIMIT %s)", [boundary, batch_size])
            count = cursor.rowcount
        deleted, batches = deleted + count, batches + 1
        if count < batch_size:
            return {"deleted": deleted, "batches": batches}
