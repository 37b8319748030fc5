"""Exactly-once writes over HTTP.

Every write runs inside one database transaction that first claims (channel, Idempotency-Key). On
PostgreSQL the claim is an INSERT ... ON CONFLICT DO NOTHING, which waits while another transaction holds
the same key; so of N concurrent identical requests one does the work, and the others, once it commits,
find its stored answer and replay it. A different body under the same key is a 409. A refused write (4xx)
rolls the claim back with everything else, so a corrected retry with the same key is possible.

This request boundary is the outermost, durable, transaction; services join it.
"""

import hashlib
import json
from collections.abc import Callable

from django.db import connection, transaction
from rest_framework.response import Response

from .errors import BadRequest, Conflict, ErrorCode
from .models import IdempotencyRecord

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255


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
    body = json.dumps(request.data, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(f"{request.method} {request.path}\n{body}".encode()).hexdigest()


def _claim(channel_id: int, key: str, digest: str) -> bool:
    table = IdempotencyRecord._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (channel_id, key, fingerprint, created_at) VALUES (%s, %s, %s, CURRENT_TIMESTAMP) "
            "ON CONFLICT (channel_id, key) DO NOTHING RETURNING id",
            [channel_id, key, digest],
        )
        return cursor.fetchone() is not None


def _answer(channel_id: int, key: str, status: int, body: dict) -> None:
    """Store the answer that replays will get (plain SQL: on every write, the ORM's UPDATE cost more to build than
    to run)."""
    response = IdempotencyRecord._meta.get_field("response").get_db_prep_save(body, connection)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {IdempotencyRecord._meta.db_table} SET status_code = %s, response = %s "
                       "WHERE channel_id = %s AND key = %s", [status, response, channel_id, key])


def idempotent_write(request, *, channel_id: int, perform: Callable[[], tuple[int, dict]],
                     key: str | None = None) -> Response:
    """Run `perform` (returning status and body) exactly once for this channel and Idempotency-Key."""
    key = key or request_key(request)
    digest = fingerprint(request)
    with transaction.atomic(durable=True):
        if not _claim(channel_id, key, digest):
            record = IdempotencyRecord.objects.get(channel_id=channel_id, key=key)
            if record.fingerprint != digest:
                raise Conflict(
                    f"This {HEADER} was already used for a different request.",
                    code=ErrorCode.IDEMPOTENCY_KEY_REUSED,
                )
            return Response(record.response, status=record.status_code, headers={"Idempotent-Replayed": "true"})
        status, body = perform()
        _answer(channel_id, key, status, body)
    return Response(body, status=status)
