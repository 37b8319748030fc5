"""Shared fixtures: a shop's API client with a real key, members, a program with known rules."""

import uuid
from decimal import Decimal

import pytest
from django.db.backends.postgresql.operations import DatabaseOperations as PgOperations
from rest_framework.test import APIClient

from core.models import Channel, Scope
from core.services import api_key_create
from loyalty.models import ProgramSettings
from tests.factories import MemberFactory


def _delete_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
    """A transactional test empties every table afterwards. TRUNCATE gives each of the ~120 tables (and their
    indexes) new files and costs seconds per test; the tables a test wrote are few and small, so DELETE them in
    one block with foreign keys and history triggers off for the session (a superuser may; others keep TRUNCATE).
    Sequences restart only when asked, as with TRUNCATE."""
    if not tables or reset_sequences:
        return _truncate_flush(self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade)
    names = ", ".join("'" + self.quote_name(t).replace("'", "''") + "'" for t in tables)
    return [f"""DO $$
DECLARE t text;
BEGIN
  IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
    EXECUTE 'TRUNCATE ' || array_to_string(ARRAY[{names}], ', ') || ' CASCADE';
    RETURN;
  END IF;
  SET LOCAL session_replication_role = replica;
  FOREACH t IN ARRAY ARRAY[{names}] LOOP
    EXECUTE 'DELETE FROM ' || t;
  END LOOP;
  SET LOCAL session_replication_role = origin;
END $$;"""]


_truncate_flush = PgOperations.sql_flush
PgOperations.sql_flush = _delete_flush


@pytest.fixture
def program(db):
    """1 point per 10.00, rounded down, no pending period, expiry 12 months after earning."""
    p = ProgramSettings.current()
    p.currency, p.earn_points, p.earn_amount = "EUR", 1, Decimal("10.00")
    p.rounding, p.pending_days = ProgramSettings.Rounding.DOWN, 0
    p.expiry_policy, p.expiry_months = ProgramSettings.ExpiryPolicy.MONTHS_AFTER_EARNING, 12
    p.save()
    return p


@pytest.fixture
def channel(db):
    return Channel.named("webshop")


class ShopClient(APIClient):
    """An API client holding a shop key; `post` adds a fresh Idempotency-Key unless one is given."""

    def post(self, path, data=None, idempotency_key=None, **kwargs):
        headers = kwargs.pop("headers", {}) or {}
        if idempotency_key is not False:
            headers.setdefault("Idempotency-Key", idempotency_key or uuid.uuid4().hex)
        return super().post(path, data, format="json", headers=headers, **kwargs)

    def patch(self, path, data=None, idempotency_key=None, **kwargs):
        headers = kwargs.pop("headers", {}) or {}
        if idempotency_key is not False:
            headers.setdefault("Idempotency-Key", idempotency_key or uuid.uuid4().hex)
        return super().patch(path, data, format="json", headers=headers, **kwargs)


def make_client(channel, scopes=None) -> ShopClient:
    _, raw = api_key_create(channel=channel, name="test", scopes=scopes)
    client = ShopClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    client.raw_key = raw
    return client


@pytest.fixture
def api(channel, program) -> ShopClient:
    return make_client(channel, scopes=list(Scope.values))


@pytest.fixture
def member(db):
    return MemberFactory()


@pytest.fixture
def member_factory(db):
    return MemberFactory


@pytest.fixture(autouse=True)
def _forget_cached_channel_ids():
    """The ledger caches the ids of its own channels (admin, system) per process. A transactional test
    empties the tables afterwards and the channels come back with new ids, so forget the cached ones."""
    from loyalty.services import ledger

    ledger._channel_ids.clear()
    yield
    ledger._channel_ids.clear()
