"""The common earn, set-based: N orders (1 for POST /api/v1/orders, up to 1,000 for the batch) in three statements.

1. The locks: every account the orders may touch (each order's member and their referral parties, in member-id
   order: loyalty.locks.ACCOUNTS_LOCK_SQL) and the members' tier statuses (`_lock_sql`).
2. One read, begun once they are held, of those accounts and what the earning rules need of each member: status and
   time zone, a referral of theirs, a boost waiting, live subscriptions, the tier status and the qualifying sums (and
   first active month) of the tier windows, the order ids already recorded and the keys already posted; it also
   draws the ids of the rows to write.
3. Python runs the earning rules on each order, in request order, with the same functions the general service calls
   (loyalty.services.earning.earn_build, rules.order_points, members' benefits_of, tier_upgrade_apply ...).
4. One statement writes every row the general path writes: the accounts, transactions, orders, lots, movements,
   order lines, tier changes and statuses, qualifying activity, member facts and the stored answers (constant SQL
   text, prepared after a few runs by psycopg).

An order the common earn does not cover (a referral, a boost, an order campaign or challenge, a refusal of any kind,
an unknown or inactive member, a duplicate order id or an already posted key, a member's first tier status ...) is
placed by the general flow (config.flows.order_place) in the same transaction, with the accounts already held
(loyalty.locks.accounts_held), so its answer and rows are exactly today's. Within a batch, every later order of a
member (or of an order id, or a key) that went the general way goes the general way too, so each member's orders keep
their request order.
"""

import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from functools import cache

import psycopg
from django.db import connection
from django.utils import timezone

from campaigns.services.challenges import challenges_live
from campaigns.services.evaluation import order_campaigns_matching
from core.errors import ApplicationError, Conflict
from core.idempotency import GENERIC_PLANS
from core.metrics import ledger_write_count
from core.models import IdempotencyRecord
from insight.services.facts import ORDERS_UPSERT, orders_facts_params
from loyalty import locks
from loyalty.api.serializers import OrderSerializer
from loyalty.models import Account, EarnBoost, Lot, LotMovement, Order, OrderLine, ProgramSettings, Transaction
from loyalty.services import rules
from loyalty.services.earning import Earn, category_multipliers, earn_build, order_check
from members.models import Member, MembershipSettings, QualifyingActivity, Subscription, TierChange, TierStatus
from members.models.plans import LIVE
from members.services import (
    QUALIFYING_UPSERT,
    active_tiers,
    benefits_of,
    held_sums_after,
    held_value_of,
    held_windows,
    month_start,
    next_review,
    plans_by_id,
    qualifying_params,
    status_state,
    tier_upgrade_apply,
)
from members.services.tiers import floor_of
from referrals.exceptions import ReferralsErrorCode
from referrals.models import Referral
from referrals.services import referral_parties_of

_NOT_LIVE = [Referral.Status.REJECTED.value, Referral.Status.REVERSED.value]


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _sequences(*models) -> list[str]:
    """The id sequences of these tables, looked up once: named in the statement, each is resolved when it is
    prepared, where pg_get_serial_sequence() in it would search the catalog again on every execution."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(["pg_get_serial_sequence(%s, 'id')"] * len(models)),
                       [m._meta.db_table for m in models])
        return list(cursor.fetchone())


def _locked_ctes(accounts: str) -> str:
    """The members of the orders (m), their referral parties, and the locks: the accounts of `accounts` (a) and the
    members' tier statuses (ts), in member-id order."""
    return f"""
m AS (SELECT id, external_id, status, timezone FROM {_table(Member)} WHERE external_id = ANY(%(members)s::text[])),
r1 AS (SELECT referred_id, referrer_id, status FROM {_table(Referral)} WHERE referred_id IN (SELECT id FROM m)),
r2 AS (SELECT referrer_id FROM {_table(Referral)} WHERE referred_id IN (
           SELECT referrer_id FROM r1 WHERE status <> ALL(%(not_live)s::text[]))),
parties AS (SELECT id FROM m UNION SELECT referrer_id FROM r1 WHERE status <> ALL(%(not_live)s::text[])
            UNION SELECT referrer_id FROM r2),
a AS ({locks.ACCOUNTS_LOCK_SQL.format(ids=accounts)}),
ts AS (SELECT member_id, tier_id, since, pinned_tier_id, pinned_until, below_since, warned_at
       FROM {_table(TierStatus)} WHERE member_id IN (SELECT id FROM m) AND member_id IN (SELECT member_id FROM a)
       ORDER BY member_id FOR UPDATE)"""


# Generic plans for the set-based statements, in this transaction only. PostgreSQL plans a prepared statement again
# for every execution ("custom" plans) while it guesses that the plan made once for any parameters costs more; for
# these statements it always guesses so (it reckons an array parameter of unknown length as ten elements, where a
# single earn sends one), and the planning was half the database's time of an earn. The generic plans are the same
# index lookups: 2.87 -> 1.38 ms of PostgreSQL CPU per earn in sequence. The lock statement turns them on for the read
# and the write (set_config(..., true) is SET LOCAL inside a statement already sent, no round trip more); for
# POST /api/v1/orders the claim of its key already did, so the lock statement is not planned every time either. The
# write turns them off again (`_PLANS_BACK`), and so does `plans_back` when the general flow takes over without a
# write: its ORM statements keep plans made for their values (a partial index, say `lot_open_by_member`, serves
# `remaining > $1` only in a plan made for the value 0).
_PLANS_BACK = "set_config('plan_cache_mode', NULL, true)"  # NULL: the default (server, role, connection options)


def plans_back() -> None:
    """After the lock statement, before anything else runs in its transaction without the write: the session's own
    plan choice again (`GENERIC_PLANS`)."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {_PLANS_BACK}")


@cache
def _lock_sql() -> str:
    """The locks first, in a statement of their own. Under READ COMMITTED a statement reads the database as it was
    when the statement began: a read that waited for a lock would see the rows it locked as the holder left them,
    but everything else (the qualifying sums, the orders recorded, a boost) as it was before the holder committed,
    e.g. the sums of an order the holder refunded. The read that follows begins once the locks are held, and sees
    all the holder did. Returns the accounts locked (the parties' that exist), how many tier statuses (PostgreSQL
    runs a CTE only when the statement reads it: the count is what takes their locks) and the parties that have no
    account yet; and it turns on generic plans for the statements that follow (`GENERIC_PLANS`)."""
    return f"""WITH {_locked_ctes("SELECT id FROM parties")}
SELECT (SELECT array_agg(member_id) FROM a), (SELECT count(*) FROM ts),
       (SELECT array_agg(id) FROM parties WHERE id NOT IN (SELECT member_id FROM a)), {GENERIC_PLANS}"""


# What the read answers once for the whole request (the referrers, the orders recorded, the keys posted, the ids
# drawn) comes in its first row only: computed once either way, but repeated on every row, a batch's 3,000 ids were
# sent and decoded once per member (a third of the batch's CPU).
_once = "CASE WHEN row_number() OVER (ORDER BY a.member_id) = 1 THEN "


@cache
def _read_sql() -> str:
    """Built once per process: the same text every time, so psycopg prepares it. It runs with the locks held
    (`_lock_sql`) and reads the accounts it locked, no others (locking them again costs nothing): a referral attached
    between the two statements names a referrer whose lock could come out of member-id order: the member shows as
    referred, and the order goes the general way, which refuses it (409 referral_changed) rather than take a lock out
    of order (a batch finds the referrer among its parties without an account held)."""
    sums = ", ".join(f"COALESCE(SUM({col}) FILTER (WHERE month >= COALESCE((%(w_start)s::date[])[{i}], '-infinity') "
                     f"AND month < COALESCE((%(w_end)s::date[])[{i}], 'infinity')), 0)"
                     for i in (1, 2) for col in ("points", "spend"))
    # The first month of the (rolling) window with activity: when it leaves the window, the tier can fall.
    first = ("MIN(month) FILTER (WHERE month >= COALESCE((%(w_start)s::date[])[1], '-infinity') "
             "AND NOT (points = 0 AND spend = 0))")
    allocate = ", ".join(f"{_once}(SELECT array_agg(nextval('{sequence}'::regclass)) FROM generate_series(1, %(n)s)) END"
                         for sequence in _sequences(Transaction, Order, Lot))
    return f"""WITH {_locked_ctes("SELECT unnest(%(locked)s::bigint[])")}
SELECT {locks.ACCOUNT_COLUMNS.sql}, m.external_id, m.status, m.timezone,
       EXISTS (SELECT 1 FROM r1 WHERE r1.referred_id = a.member_id),
       ts.member_id IS NOT NULL, ts.tier_id, ts.since, ts.pinned_tier_id, ts.pinned_until, ts.below_since, ts.warned_at,
       EXISTS (SELECT 1 FROM {_table(EarnBoost)} b WHERE b.member_id = a.member_id AND b.used_at IS NULL
               AND (b.expires_at IS NULL OR b.expires_at > %(now)s)),
       ARRAY(SELECT s.plan_id FROM {_table(Subscription)} s WHERE s.member_id = a.member_id
             AND s.status = ANY(%(live)s::text[]) AND s.current_period_end > %(now)s),
       q.*,
       {_once}(SELECT array_agg(DISTINCT referrer_id) FROM (SELECT referrer_id FROM r1 UNION SELECT referrer_id FROM r2) x)
       END,
       {_once}(SELECT array_agg(order_id) FROM {_table(Order)} WHERE channel_id = %(channel)s
        AND order_id = ANY(%(orders)s::text[])) END,
       {_once}(SELECT array_agg(idempotency_key) FROM {_table(Transaction)} WHERE channel_id = %(channel)s
        AND idempotency_key = ANY(%(keys)s::text[])) END,
       {allocate}
FROM a LEFT JOIN m ON m.id = a.member_id LEFT JOIN ts ON ts.member_id = a.member_id
LEFT JOIN LATERAL (SELECT {sums}, {first} FROM {_table(QualifyingActivity)} qa WHERE qa.member_id = m.id) q ON true
ORDER BY a.member_id
"""


@cache
def _positional(sql: str) -> tuple[str, list[str]]:
    """A statement with named parameters as PostgreSQL's own $1, $2 ... and the names in that order: done once per
    process, where psycopg would parse a long statement with many parameters again on every execution."""
    names: list[str] = []

    def number(match) -> str:
        if match.group(1) not in names:
            names.append(match.group(1))
        return f"${names.index(match.group(1)) + 1}"

    return re.sub(r"%\((\w+)\)s", number, sql), names


def _array_element(value) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, int | Decimal):
        return str(value)
    if isinstance(value, date):  # a datetime too (ISO 8601, with its offset)
        return value.isoformat()
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _array_text(values: list) -> str:
    """A list parameter as PostgreSQL's array input reads it (`{1,2}`, `{"a","b\\"c"}`), for a placeholder the
    statement casts (`%(x)s::bigint[]`): psycopg adapts a list by inspecting its elements on every execution, most
    of the Python an earn's write spent (17 lists; a batch's keys and order ids by the thousand)."""
    return "{" + ",".join(map(_array_element, values)) + "}"


def _execute(sql: str, params: dict):
    """Run one of this module's constant statements through Django's cursor wrapper (its execute wrappers and
    query counts see it) on a raw psycopg cursor, which sends the $n text as it is (prepared after a few runs).
    Every placeholder given a list is cast to an array type in the statement (`_array_text`)."""
    params = {name: _array_text(value) if isinstance(value, list) else value for name, value in params.items()}
    if connection.queries_logged:  # a debug cursor (tests counting queries) logs the statement with %s parameters
        cursor = connection.cursor()
        cursor.execute(sql, params)
        return cursor
    query, names = _positional(sql)
    connection.ensure_connection()
    cursor = connection._prepare_cursor(psycopg.RawCursor(connection.connection))  # as connection.cursor() wraps
    cursor.execute(query, [params[name] for name in names])
    return cursor


# The answer as OrderSerializer(order).data renders it, from one serializer whose fields are built once per process
# (the ModelSerializer builds its fields again on every instance).
_ORDER_SERIALIZER = OrderSerializer()


def _fields(model, *, with_pk: bool) -> list:
    return [f for f in model._meta.concrete_fields if with_pk or not f.primary_key]


def _insert(model, name: str, *, with_pk: bool) -> str:
    """Insert the rows of parameter `name` (`_rows`): one JSON array of objects keyed by column, read as the table's
    own row type. One parameter a table, where an array a column made psycopg adapt a hundred lists for one order."""
    columns = ", ".join(connection.ops.quote_name(f.column) for f in _fields(model, with_pk=with_pk))
    return (f"{name} AS (INSERT INTO {_table(model)} ({columns}) SELECT {columns} "
            f"FROM jsonb_populate_recordset(NULL::{_table(model)}, %({name})s::jsonb) RETURNING 1)")


def _updated(model, name: str, key: str, columns: tuple[str, ...]) -> str:
    """Update `columns` of the rows of parameter `name` (`_rows`), found by `key`; their keys are also given as the
    array `{name}_keys`, so the planner looks them up by index (it guesses 100 rows for any JSON set, and then reads
    the whole table to join them)."""
    table = _table(model)
    return (f"{name} AS (UPDATE {table} x SET {', '.join(f'{c} = v.{c}' for c in columns)} "
            f"FROM jsonb_populate_recordset(NULL::{table}, %({name})s::jsonb) v "
            f"WHERE x.{key} = ANY(%({name}_keys)s::bigint[]) AND x.{key} = v.{key} RETURNING 1)")


def _json_value(value):
    """A value JSON has no type for, as PostgreSQL's input reads it back exactly (microseconds, every digit)."""
    if isinstance(value, date):  # a datetime too
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not a column value")


def _rows(model, instances: list, *, with_pk: bool = True, columns: tuple[str, ...] | None = None) -> str:
    """The rows of `_insert` / `_updated`: each instance's column values (a JSON column's value as it is)."""
    names = [(f.column, f.attname) for f in _fields(model, with_pk=with_pk) if columns is None or f.column in columns]
    return json.dumps([{column: getattr(i, attname) for column, attname in names} for i in instances],
                      default=_json_value)


# What an upgrade moves of a member's tier status (members.services.tier_upgrade_apply, then its review date).
_STATUS_COLUMNS = ("tier_id", "since", "below_since", "warned_at", "review_at")
_ACCOUNT_COLUMNS = ("available", "pending", "lifetime_earned", "updated_at")


@cache
def _write_sql() -> str:
    facts, qualifying = ORDERS_UPSERT.strip(), QUALIFYING_UPSERT.strip()
    return f"""
WITH {_updated(Account, "acc", "member_id", _ACCOUNT_COLUMNS)},
{_insert(Transaction, "t", with_pk=True)},
{_insert(Order, "o", with_pk=True)},
{_insert(Lot, "l", with_pk=True)},
{_insert(LotMovement, "mv", with_pk=False)},
{_insert(OrderLine, "ln", with_pk=False)},
{_insert(TierChange, "tc", with_pk=False)},
{_updated(TierStatus, "ts", "member_id", _STATUS_COLUMNS)},
qa AS ({qualifying} RETURNING 1),
fa AS ({facts} RETURNING 1),
ans AS (UPDATE {_table(IdempotencyRecord)} r SET status_code = v.status, response = v.response
        FROM jsonb_to_recordset(%(answers)s::jsonb) AS v(key text, status int, response jsonb)
        WHERE r.channel_id = %(channel)s AND r.key = ANY(%(answer_keys)s::text[]) AND r.key = v.key RETURNING 1),
rel AS (DELETE FROM {_table(IdempotencyRecord)} WHERE channel_id = %(channel)s AND key = ANY(%(k_release)s::text[])
        RETURNING 1)
SELECT (SELECT count(*) FROM {_table(Referral)} WHERE referred_id = ANY(%(a_placed)s::bigint[])),
       (SELECT count(*) FROM acc), (SELECT count(*) FROM t), (SELECT count(*) FROM o), (SELECT count(*) FROM l),
       (SELECT count(*) FROM mv), (SELECT count(*) FROM ln), (SELECT count(*) FROM qa), (SELECT count(*) FROM fa),
       (SELECT count(*) FROM ans), (SELECT count(*) FROM rel), {_PLANS_BACK}
"""


@dataclass
class MemberRead:
    """What the read found of a member of the orders (their account is in the lock registry)."""

    id: int
    external_id: str
    status: str
    timezone: str
    referred: bool
    status_row: TierStatus | None
    boosted: bool
    plan_ids: list[int]
    sums: dict[str, tuple[int, Decimal]]
    first_month: date | None  # members.services.first_active_month, as this request's earlier orders left it


@dataclass
class EarnRead:
    accounts: dict[int, Account]
    members: dict[str, MemberRead]
    recorded: set[str]
    # Keys a ledger transaction of this channel already holds: their stored answers were forgotten (retention), so
    # the general flow refuses them (409), in the order's own savepoint in a batch.
    posted: set[str]
    ids: tuple[list[int], list[int], list[int]]
    windows: dict = field(default_factory=dict)
    referrers: set[int] = field(default_factory=set)
    statuses: dict[int, TierStatus] = field(default_factory=dict)  # moved by this request's orders: to write


def earn_read(*, channel_id: int, external_ids: list[str], order_ids: list[str], keys: list[str], n: int, now: datetime,
              settings: MembershipSettings) -> EarnRead:
    """The locks, then the one read (on a member's first activity, their accounts are created first, in member-id
    order, and locked again)."""
    windows = held_windows(settings, now)
    bounds = list(windows.values()) + [(date.min, date.min)] * (2 - len(windows))
    params = {"members": sorted(set(external_ids)), "not_live": _NOT_LIVE, "now": now, "live": list(LIVE),
              "channel": channel_id, "orders": sorted(set(order_ids)), "keys": sorted(set(keys)), "n": n,
              "w_start": [b[0] for b in bounds], "w_end": [b[1] for b in bounds]}
    width = locks.ACCOUNT_COLUMNS.width
    for attempt in range(2):
        cursor = _execute(_lock_sql(), params)
        locked, _, missing, _ = cursor.fetchone()
        cursor.close()
        params["locked"] = locked or []
        if not locked and attempt == 0:
            ids = list(Member.objects.filter(external_id__in=params["members"]).values_list("pk", flat=True))
            if not ids:
                break
            missing = referral_parties_of(member_ids=set(ids))
        if not missing or attempt:
            break
        locks.accounts_create(missing)  # the member's first activity: then lock them all in one pass
    cursor = _execute(_read_sql(), params)
    rows = cursor.fetchall()
    cursor.close()
    read = EarnRead(accounts={}, members={}, recorded=set(), posted=set(), ids=([], [], []), windows=windows)
    for row in rows:
        account = locks.account_from_row(row)
        read.accounts[account.member_id] = account
        (external_id, status, zone, referred, has_status, tier_id, since, pinned_tier_id, pinned_until, below_since,
         warned_at, boosted, plan_ids, p1, s1, p2, s2, first_month) = row[width:width + 18]
        if external_id is None:
            continue  # a referral party: locked, not an order's member
        status_row = None
        if has_status:
            status_row = TierStatus(member_id=account.member_id, tier_id=tier_id, since=since,
                                    pinned_tier_id=pinned_tier_id, pinned_until=pinned_until,
                                    below_since=below_since, warned_at=warned_at)
        names = list(windows)
        sums = {names[0]: (p1, s1), **({names[1]: (p2, s2)} if len(names) > 1 else {})}
        read.members[external_id] = MemberRead(
            id=account.member_id, external_id=external_id, status=status, timezone=zone, referred=referred,
            status_row=status_row, boosted=boosted, plan_ids=plan_ids, sums=sums, first_month=first_month)
    if rows:
        read.referrers = set(rows[0][width + 18] or ())
        read.recorded = set(rows[0][width + 19] or ())
        read.posted = set(rows[0][width + 20] or ())
        read.ids = tuple(list(rows[0][width + 21 + i] or ()) for i in range(3))
    return read


@dataclass
class Placed:
    """An order the common earn placed: what it writes, and its answer."""

    key: str
    earn: Earn
    categories: list[str]
    body: dict
    change: TierChange | None = None


@dataclass
class Context:
    """What stays the same for every order of one request."""

    channel_id: int
    now: datetime
    program: ProgramSettings
    settings: MembershipSettings
    multipliers: dict
    tiers: list
    tiers_by_id: dict
    plans: dict
    challenges_live: bool


def context(channel_id: int) -> Context:
    now = timezone.now()
    tiers = active_tiers()
    return Context(channel_id=channel_id, now=now, program=ProgramSettings.current(),
                   settings=MembershipSettings.current(), multipliers=category_multipliers(), tiers=tiers,
                   tiers_by_id={t.pk: t for t in tiers}, plans=plans_by_id(),
                   challenges_live=bool(challenges_live(now=now)))


def earn_one(ctx: Context, read: EarnRead, *, key: str, data: dict, ids: tuple[int, int, int]) -> Placed | None:
    """The common earn of one order, built (the account moved in memory), or None: the general flow places it."""
    member = read.members.get(data["member"])
    if (member is None or member.referred or member.boosted or data["payment_fingerprint"]
            or member.status != Member.Status.ACTIVE or data["order_id"] in read.recorded or key in read.posted
            or ctx.challenges_live or order_campaigns_matching(amount=data["amount"], now=ctx.now)):
        return None
    program, now = ctx.program, ctx.now
    lines = [rules.LineInput(sku=ln["sku"], amount=ln["amount"], quantity=ln["quantity"], category=ln["category"])
             for ln in data["lines"]]
    try:
        occurred_at = order_check(program=program, amount=data["amount"], currency=data["currency"], lines=lines,
                                  occurred_at=data["occurred_at"], now=now)
    except ApplicationError:  # refused: the general flow refuses it again, with the one error answer
        return None
    status = member.status_row
    if ctx.tiers and status is None:
        return None  # the member's first activity under tiers: the general path creates their status
    tier = None
    if status is not None and status.tier_id is not None:
        tier = ctx.tiers_by_id.get(status.tier_id)
        if tier is None:
            return None  # a tier no longer active: rare, left to the general path
        status.tier = tier
    if status is not None and status.pinned_tier_id is not None:
        status.pinned_tier = ctx.tiers_by_id.get(status.pinned_tier_id)
        if status.pinned_tier is None:
            return None
    subscription = None
    if ctx.plans and member.plan_ids:
        if len(member.plan_ids) > 1 or member.plan_ids[0] not in ctx.plans:
            return None
        subscription = Subscription(member_id=member.id, plan=ctx.plans[member.plan_ids[0]])
    benefits = benefits_of(tier=tier, subscription=subscription, settings=ctx.settings)
    earned = rules.order_points(program=program, amount=data["amount"], lines=lines, multipliers=ctx.multipliers,
                                member_multiplier=benefits.multiplier)
    month = month_start(occurred_at)
    sums = held_sums_after(settings=ctx.settings, now=now, sums=member.sums, month=month, points=earned[1],
                           spend=data["amount"])
    account = read.accounts[member.id]
    balances = (account.available, account.pending, account.lifetime_earned)
    try:
        earn = earn_build(program=program, account=account, member_timezone=member.timezone,
                          channel_id=ctx.channel_id, order_id=data["order_id"], amount=data["amount"],
                          currency=data["currency"], store=data["store"], occurred_at=occurred_at,
                          idempotency_key=key, now=now, earned=earned, multiplier=benefits.multiplier,
                          benefits=benefits, boost=None)
    except ApplicationError:  # past the balance limit: the general flow refuses it, with its answer
        account.available, account.pending, account.lifetime_earned = balances
        return None
    member.sums = sums  # for this member's next order of the same request
    start = read.windows["current"][0]
    if (earned[1] or data["amount"]) and (start is None or month >= start):
        member.first_month = min(month, member.first_month or month)
    change = None
    if ctx.tiers:  # the upgrade the general flow's tier_activity_record makes, decided by the same function
        before = status_state(status)
        change = tier_upgrade_apply(status=status, tiers=ctx.tiers, held=held_value_of(ctx.settings, sums),
                                    floor=floor_of(status, subscription, now), now=now)
        if status_state(status) != before:
            status.review_at = next_review(status, ctx.settings, ctx.tiers, now, first_month=lambda: member.first_month)
            read.statuses[member.id] = status
    order = earn.order
    order.pk, order.member = ids[1], Member(pk=member.id, external_id=member.external_id)
    order.created_at = timezone.now()  # auto_now_add, as a save would set it
    if earn.txn is not None:
        earn.txn.pk = ids[0]
        earn.lot.pk = ids[2]
        order.earn_transaction = earn.txn
        earn.lot.source_id, earn.lot.order_id = earn.txn.pk, order.pk
    for line in earn.lines:
        line.order_id = order.pk
    order.tier_change = change
    return Placed(key=key, earn=earn, categories=[ln["category"] for ln in data["lines"]],
                  body=_ORDER_SERIALIZER.to_representation(order), change=change)


def earn_write(ctx: Context, placed: list[Placed], accounts: dict[int, Account], release: list[str] = (),
               statuses: dict[int, TierStatus] | None = None) -> None:
    """The one write of every order the common earn placed, their answers stored (status 201); `release`: keys this
    transaction claimed for orders that go the general way after all (each claims its key again in its savepoint);
    `statuses`: the tier statuses the orders moved (EarnRead.statuses)."""
    earns = [p.earn for p in placed]
    txns = [e.txn for e in earns if e.txn is not None]
    lots = [e.lot for e in earns if e.lot is not None]
    moved = sorted({e.order.member_id for e in earns if e.txn is not None})
    for account in accounts.values():
        account.updated_at = ctx.now
    params = {
        "now": ctx.now, "channel": ctx.channel_id,
        "acc": _rows(Account, [accounts[m] for m in moved], columns=("member_id", *_ACCOUNT_COLUMNS)),
        "acc_keys": moved,
        "t": _rows(Transaction, txns), "o": _rows(Order, [e.order for e in earns]), "l": _rows(Lot, lots),
        "mv": _rows(LotMovement, [LotMovement(transaction_id=t.pk, lot_id=lot.pk, points=lot.amount)
                                  for t, lot in zip(txns, lots, strict=True)], with_pk=False),
        "ln": _rows(OrderLine, [line for e in earns for line in e.lines], with_pk=False),
        "tc": _rows(TierChange, [p.change for p in placed if p.change is not None], with_pk=False),
        "ts": _rows(TierStatus, [s for _, s in sorted((statuses or {}).items())],
                    columns=("member_id", *_STATUS_COLUMNS)),
        "ts_keys": sorted(statuses or {}),
        **qualifying_params([(e.order.member_id, e.order.occurred_at, e.qualifying, e.order.amount) for e in earns]),
        **orders_facts_params([(e.order.member_id, e.order.occurred_at, e.order.amount, ctx.channel_id,
                                e.order.order_id, p.categories) for e, p in zip(earns, placed, strict=True)]),
        "answers": json.dumps([{"key": p.key, "status": 201, "response": p.body} for p in placed]),
        "answer_keys": [p.key for p in placed],
        "k_release": list(release),
    }
    params["a_placed"] = sorted({e.order.member_id for e in earns})
    cursor = _execute(_write_sql(), params)
    late = cursor.fetchone()[0]
    cursor.close()
    if late:
        # A referral attached after the read (this statement sees it): the order may qualify it, as the general
        # flow would have found under its locks. The request rolls back whole; sent again, it takes that path.
        raise Conflict("The member's referral changed while this request ran; send it again.",
                       code=ReferralsErrorCode.REFERRAL_CHANGED)
    for _ in txns:
        ledger_write_count(Transaction.Kind.EARN)


def order_earn_answer(data: dict, *, channel_id: int, key: str, general) -> tuple:
    """POST /api/v1/orders inside its idempotent write (the key claimed): the common earn (the locks, one read, one write),
    its answer stored with it (the third item, True, says so); otherwise `general(member)`, the general flow."""
    ctx = context(channel_id)
    read = earn_read(channel_id=channel_id, external_ids=[data["member"]], order_ids=[data["order_id"]], keys=[key], n=1,
                     now=ctx.now, settings=ctx.settings)
    with locks.accounts_held(read.accounts):
        placed = None
        if read.ids[0]:
            placed = earn_one(ctx, read, key=key, data=data, ids=(read.ids[0][0], read.ids[1][0], read.ids[2][0]))
        if placed is not None:
            earn_write(ctx, [placed], read.accounts, statuses=read.statuses)
            return 201, placed.body, True
        plans_back()
        return general()
