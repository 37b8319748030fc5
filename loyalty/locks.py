"""The one place that locks members' ledger accounts.

Rows that several requests may touch are locked in one fixed order, member id ascending, and only here. A
use case decides once which members it will touch and locks them all at once (`members_locked`): a flow in
`config.flows` for the use cases that span apps, the entry service itself for those that stay in one app.
The ledger's services then ask for the account of a member they write (`account_locked`), which asserts
that the lock was taken by the use case they run in instead of taking it: a service can never take a lock
out of order behind its caller's back.

`members_locked` is a context manager: the rows stay locked until the database transaction ends, as always
in PostgreSQL; the block marks the code that decided to lock them and holds the accounts it read under the
lock, fresh for that block. Blocks nest (an entry service called inside a flow that already holds its
member), and a nested block may only add members above every one already held, so the order stays fixed.
"""

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from django.db import DEFAULT_DB_ALIAS, connection, connections

from core.db import ModelColumns

from .models import Account


class LockNotHeld(AssertionError):
    """A service was called for a member whose account its caller did not lock: a programming error."""


def _held() -> dict[int, Account]:
    """This thread's connection's registry (`connection` itself is a proxy shared by all threads)."""
    wrapper = connections[DEFAULT_DB_ALIAS]
    held = getattr(wrapper, "_ledger_locks", None)
    if held is None:
        held = wrapper._ledger_locks = {}
    return held


@contextmanager
def members_locked(member_ids: Iterable[int]) -> Iterator[dict[int, Account]]:
    """Lock the accounts of these members (creating the missing ones), in member-id order, inside the current
    transaction; yields them by member id."""
    if not connection.in_atomic_block:
        raise LockNotHeld("Ledger locks are taken inside a transaction.")
    held = _held()
    ids = sorted(set(member_ids))
    new = [i for i in ids if i not in held]
    if new and held and min(new) < max(held):
        raise LockNotHeld(f"Members {new} would be locked after member {max(held)}: out of order. Decide every "
                          "member of the use case first and lock them at once.")
    try:
        held.update(_lock(new) if new else {})
        yield {i: held[i] for i in ids}
    finally:
        for i in new:
            held.pop(i, None)


# What a set-based statement that reads more than the accounts embeds (as a CTE over `{ids}`, a subquery of member
# ids) to lock them, in member-id order; it then registers what it read with `accounts_held`.
# An account's columns under the alias `a`: what ACCOUNTS_LOCK_SQL reads and `account_from_row` loads again.
ACCOUNT_COLUMNS = ModelColumns(Account, "a")
ACCOUNTS_LOCK_SQL = (f"SELECT {ACCOUNT_COLUMNS.sql} FROM {Account._meta.db_table} a WHERE a.member_id IN ({{ids}}) "
                     "ORDER BY a.member_id FOR UPDATE")


def account_from_row(row) -> Account:
    """An account read by ACCOUNTS_LOCK_SQL (its columns first, in that order)."""
    return ACCOUNT_COLUMNS.load(row, 0, connection.alias)


@contextmanager
def accounts_held(accounts: dict[int, Account]) -> Iterator[dict[int, Account]]:
    """Register accounts that the caller's own statement locked with ACCOUNTS_LOCK_SQL, as `members_locked` does
    for those it locks: the services find them held, and a nested `members_locked` of the same members takes no
    lock again. The same order rule applies."""
    if not connection.in_atomic_block:
        raise LockNotHeld("Ledger locks are taken inside a transaction.")
    held = _held()
    new = sorted(i for i in accounts if i not in held)
    if new and held and min(new) < max(held):
        raise LockNotHeld(f"Members {new} were locked after member {max(held)}: out of order.")
    try:
        held.update({i: accounts[i] for i in new})
        yield {i: held[i] for i in accounts}
    finally:
        for i in new:
            held.pop(i, None)


def _lock(ids: list[int]) -> dict[int, Account]:
    locked = Account.objects.select_for_update().order_by("member_id")
    accounts = {a.member_id: a for a in locked.filter(member_id__in=ids)}
    missing = [i for i in ids if i not in accounts]
    if missing:
        # First activity of these members: create their accounts (a concurrent creator wins harmlessly), then
        # lock again in one sorted pass so that the fixed order holds across all the ids.
        Account.objects.bulk_create([Account(member_id=i) for i in missing], ignore_conflicts=True)
        accounts = {a.member_id: a for a in locked.filter(member_id__in=ids)}
    return accounts


def accounts_create(member_ids: Iterable[int]) -> None:
    """Create the accounts these members lack, in member-id order, before any of them is locked. A use case that
    locks many members at once, some of whom may have no account yet (an event batch), calls it first, so that
    `members_locked` then finds every account and locks them all in one sorted pass. Without it the accounts found
    are locked first and the missing ones created after them, out of order: two such batches, and a third creating
    one of their accounts in between, deadlock (measured: about one batch in fifty on a fresh program). Locks
    nothing: a conflict with an account that exists is skipped without waiting for whoever holds it."""
    ids = sorted(set(member_ids))
    if not ids:
        return
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {Account._meta.db_table} (member_id, available, pending, lifetime_earned, "
                       "lifetime_redeemed, lifetime_expired, updated_at) SELECT id, 0, 0, 0, 0, 0, now() "
                       "FROM unnest(%s::bigint[]) AS t(id) ORDER BY id ON CONFLICT (member_id) DO NOTHING", [ids])


def members_lock_rows(member_ids: list[int]) -> None:
    """For set-based jobs that change accounts in SQL and run no service: lock the rows in member-id order
    without loading them (the registry stays empty, so no service can be called on them by mistake)."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT member_id FROM {Account._meta.db_table} WHERE member_id = ANY(%s) "
                       "ORDER BY member_id FOR UPDATE", [list(member_ids)])


def accounts_reload(member_ids: Iterable[int]) -> None:
    """Read again the held accounts of these members (their rows stay locked): after a savepoint rolled back a
    write of theirs, the balances held in memory are no longer the database's."""
    held = _held()
    ids = [i for i in member_ids if i in held]
    for account in Account.objects.filter(member_id__in=ids):
        held[account.member_id].__dict__.update(
            {f.attname: getattr(account, f.attname) for f in Account._meta.concrete_fields})


def account_locked(member_id: int) -> Account:
    """The account of a member whose lock the caller holds; refuses (a programming error) otherwise."""
    held = _held()
    if member_id not in held or not connection.in_atomic_block:
        raise LockNotHeld(f"The ledger lock of member {member_id} is not held: lock it first (loyalty.locks).")
    return held[member_id]


def locked_ids() -> set[int]:
    return set(_held()) if connection.in_atomic_block else set()
