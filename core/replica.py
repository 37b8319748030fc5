"""Reads that may come from a streaming replica of PostgreSQL, and the router that sends them there.

A read goes to the replica only where the code said it may (`replica_reads()`): a statement, a report, the
dashboard, where a moment of replication lag is harmless. Everything else reads the primary, and so does every
read inside a database transaction (a write's own reads) and a member's balance, which must show a write the
moment it answered. Without DATABASE_REPLICA_URL there is no `replica` database and no router: all reads go to
the primary.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.db import DEFAULT_DB_ALIAS, connections

REPLICA = "replica"
_replica_ok: ContextVar[bool] = ContextVar("replica_ok", default=False)


@contextmanager
def replica_reads() -> Iterator[None]:
    """Reads in this block may come from the replica (outside a transaction)."""
    token = _replica_ok.set(True)
    try:
        yield
    finally:
        _replica_ok.reset(token)


class ReplicaRouter:
    def db_for_read(self, model, **hints):
        if _replica_ok.get() and REPLICA in connections.databases and \
                not connections[DEFAULT_DB_ALIAS].in_atomic_block:
            return REPLICA
        return None

    def db_for_write(self, model, **hints):
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        return True  # one database, two copies of it

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == DEFAULT_DB_ALIAS
