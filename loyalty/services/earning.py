from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import IntegrityError, connection
from django.utils import timezone

from core.cache import cached
from core.db import insert_linked
from core.errors import BadRequest, BusinessRuleError, Conflict, ErrorCode
from core.metrics import ledger_write_count
from members.exceptions import MembersErrorCode
from members.models import Member
from members.services import member_benefits, tier_activity_prepare, tier_activity_record

from ..exceptions import LoyaltyErrorCode
from ..locks import account_locked
from ..models import Account, CategoryMultiplier, Lot, LotMovement, Order, OrderLine, ProgramSettings, Transaction
from . import rules
from .boosts import TakenBoost, earn_boost_link, earn_boost_take
from .ledger import account_update_sql, transaction_build

CLOCK_SKEW = timedelta(minutes=5)


def ensure_active(member: Member) -> None:
    if not member.is_active:
        raise BusinessRuleError(f"The member is {member.status}.", code=MembersErrorCode.MEMBER_INACTIVE,
                                extra={"status": member.status})


def _credit_build(*, account, points: int, kind: str, channel_id: int, idempotency_key: str, now: datetime,
                  earned_at: datetime, available_at: datetime, program: ProgramSettings, reference: str, reason: str,
                  actor, details: dict | None, counters: dict | None, multiplier: Decimal,
                  member_timezone: str | None) -> tuple[Transaction, list[str], Lot]:
    """The rules of a credit, nothing written: the posting (`transaction_build`) and its lot, pending until
    `available_at`, expiring at the end of a day in the member's time zone. `credit` and `credits_post` write it."""
    is_released = available_at <= now
    txn, changed = transaction_build(
        account=account, kind=kind, available_delta=points if is_released else 0,
        pending_delta=0 if is_released else points, channel_id=channel_id, idempotency_key=idempotency_key,
        now=now, reference=reference, reason=reason, actor=actor, details=details, counters=counters,
        multiplier=multiplier,
    )
    lot = Lot(member_id=account.member_id, amount=points, remaining=points, released=is_released,
              earned_at=earned_at, available_at=available_at,
              expires_at=rules.expiry_for(program, earned_at, member_timezone=member_timezone))
    return txn, changed, lot


def credit(*, account, points: int, kind: str, channel_id: int, idempotency_key: str, now: datetime,
           earned_at: datetime, available_at: datetime, program: ProgramSettings, order: Order | None = None,
           reference: str = "", reason: str = "", actor=None, details: dict | None = None,
           counters: dict | None = None, multiplier: Decimal = Decimal(1),
           member_timezone: str | None = None) -> Transaction:
    """Add a lot of `points` (pending until `available_at`) and the transaction that explains it.

    `order`, when given, is the unsaved order that earned the lot: it is written with its transaction (pointing at
    it), and the lot points at it. Everything (the account's balances, the transaction, the order, the lot and its
    movement) is written in one statement (core.db.insert_linked): one round trip for every credit, earn, bonus,
    gift or adjustment alike. The lot expires at the end of a day in the member's time zone: callers that hold the
    member pass `member_timezone` (else it is read here)."""
    if member_timezone is None:
        member_timezone = Member.objects.filter(pk=account.member_id).values_list("timezone", flat=True).first()
    txn, changed, lot = _credit_build(
        account=account, points=points, kind=kind, channel_id=channel_id, idempotency_key=idempotency_key, now=now,
        earned_at=earned_at, available_at=available_at, program=program, reference=reference, reason=reason,
        actor=actor, details=details, counters=counters, multiplier=multiplier, member_timezone=member_timezone)
    _credit_write(account=account, changed=changed, now=now, txn=txn, lot=lot, order=order, kind=kind)
    return txn


def _credit_write(*, account, changed: list[str], now: datetime, txn: Transaction, lot: Lot, order: Order | None,
                  kind: str) -> None:
    """Write what `_credit_build` built (and the order that earned it, if any) in one statement."""
    points = lot.amount
    movement = LotMovement(points=points)
    rows, links = [txn, lot, movement], {(1, "source_id"): 0, (2, "transaction_id"): 0, (2, "lot_id"): 1}
    if order is not None:
        rows, links = [txn, order, lot, movement], {(1, "earn_transaction_id"): 0, (2, "source_id"): 0,
                                                    (2, "order_id"): 1, (3, "transaction_id"): 0, (3, "lot_id"): 2}
    insert_linked(rows, links=links, before=account_update_sql(account, changed, now))
    lot.source, lot.order = txn, order
    if order is not None:
        order.earn_transaction = txn
    ledger_write_count(kind)


@dataclass
class CreditLine:
    """One member's part of `credits_post`."""

    member_id: int
    points: int
    idempotency_key: str
    reason: str = ""
    reference: str = ""
    details: dict | None = None
    member_timezone: str | None = None  # read in one query for the lines that leave it out


def credits_post(*, lines: list[CreditLine], kind: str, channel_id: int, now: datetime, earned_at: datetime,
                 available_at: datetime, program: ProgramSettings) -> list[Transaction]:
    """`credit` for many members at once (the batch jobs' form): the same rules (`_credit_build`: the posting
    refuses a credit past MAX_BALANCE and moves each locked account in memory, each lot expires at the end of a day
    in its member's time zone), written set-based: the transactions, the lots and their movements as three multi-row
    INSERTs and the accounts as one UPDATE ... FROM unnest, so a batch costs four statements whatever its size.
    The caller holds every member's ledger lock (`account_locked` asserts it); a member may appear more than once.
    Returns the transactions, saved, in the order of `lines`."""
    if not lines:
        return []
    zones = {line.member_id: line.member_timezone for line in lines}
    unknown = [m for m, zone in zones.items() if zone is None]
    if unknown:
        zones |= dict(Member.objects.filter(pk__in=unknown).values_list("pk", "timezone"))
    accounts, txns, lots = {}, [], []
    for line in lines:
        account = accounts[line.member_id] = account_locked(line.member_id)
        txn, _, lot = _credit_build(
            account=account, points=line.points, kind=kind, channel_id=channel_id,
            idempotency_key=line.idempotency_key, now=now, earned_at=earned_at, available_at=available_at,
            program=program, reference=line.reference, reason=line.reason, actor=None, details=line.details,
            counters=None, multiplier=Decimal(1), member_timezone=zones[line.member_id])
        txns.append(txn)
        lots.append(lot)
    Transaction.objects.bulk_create(txns)
    for txn, lot in zip(txns, lots, strict=True):
        lot.source = txn
    Lot.objects.bulk_create(lots)
    LotMovement.objects.bulk_create([LotMovement(transaction=txn, lot=lot, points=lot.amount)
                                     for txn, lot in zip(txns, lots, strict=True)])
    ids = sorted(accounts)
    with connection.cursor() as cursor:
        cursor.execute(f"""UPDATE {Account._meta.db_table} a SET available = v.available, pending = v.pending,
                               updated_at = %s
                           FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[]) v(member_id, available, pending)
                           WHERE a.member_id = v.member_id""",
                       [now, ids, [accounts[m].available for m in ids], [accounts[m].pending for m in ids]])
    for account in accounts.values():
        account.updated_at = now
    for _ in txns:
        ledger_write_count(kind)
    return txns


def category_multipliers() -> dict[str, Decimal]:
    return cached("category_multipliers", lambda: dict(
        CategoryMultiplier.objects.filter(active=True).values_list("category", "multiplier")))


def order_check(*, program: ProgramSettings, amount: Decimal, currency: str, lines: list[rules.LineInput],
                occurred_at: datetime | None, now: datetime) -> datetime:
    """Refuse an order the program cannot earn on (a moment in the future, another currency, lines that add up to
    more than the order); returns when it occurred, never after `now`."""
    occurred_at = occurred_at or now
    if occurred_at > now + CLOCK_SKEW:
        raise BadRequest("occurred_at is in the future.", fields={"occurred_at": ["Is in the future."]})
    occurred_at = min(occurred_at, now)
    if currency != program.currency:
        raise BusinessRuleError(f"The program runs in {program.currency}, not {currency}.",
                                code=ErrorCode.CURRENCY_NOT_SUPPORTED, fields={"currency": [f"Expected {program.currency}."]})
    lines_total = sum((ln.amount for ln in lines), Decimal(0))
    if lines_total > amount:
        raise BadRequest(f"The lines add up to {lines_total}, more than the order amount {amount}.",
                         fields={"lines": ["Add up to more than the order amount."]})
    return occurred_at


@dataclass
class Earn:
    """An order's earn, built and not written: the order, its transaction and lot (None when it earns nothing),
    the account fields the posting changed, its lines and its qualifying points."""

    order: Order
    txn: Transaction | None
    lot: Lot | None
    changed: list[str]
    lines: list[OrderLine]
    qualifying: int


def earn_build(*, program: ProgramSettings, account: Account, member_timezone: str, channel_id: int, order_id: str,
               amount: Decimal, currency: str, store: str, occurred_at: datetime, idempotency_key: str, now: datetime,
               earned: tuple[int, int, list], multiplier: Decimal, benefits, boost: TakenBoost | None) -> Earn:
    """The rules of an order's earn, nothing written (`order_earn` and the set-based earn write it): `earned` is
    what `rules.order_points` gave at `multiplier`; the posting refuses a credit past MAX_BALANCE and moves the
    locked account in memory."""
    points, qualifying, per_line = earned
    order = Order(channel_id=channel_id, order_id=order_id, member_id=account.member_id, amount=amount,
                  currency=currency, store=store, occurred_at=occurred_at, points_earned=points,
                  qualifying_points=qualifying, rate_points=program.earn_points, rate_amount=program.earn_amount)
    txn = lot = None
    changed = []
    if points > 0:
        txn, changed, lot = _credit_build(
            account=account, points=points, kind=Transaction.Kind.EARN, channel_id=channel_id,
            idempotency_key=idempotency_key, now=now, earned_at=occurred_at,
            available_at=rules.available_from(program, occurred_at), program=program,
            reference=order_id, reason=f"Order {order_id}", actor=None,
            details={"rate": f"{program.earn_points} per {program.earn_amount}", "amount": str(amount),
                     "rounding": program.rounding,
                     "multipliers": {lp.line.category: str(lp.multiplier) for lp in per_line if lp.multiplier != 1},
                     "tier": benefits.tier.code if benefits.tier else None,
                     "plan": benefits.subscription.plan.code if benefits.subscription else None,
                     **({"boost": str(boost.multiplier)} if boost else {})},
            counters={"lifetime_earned": points}, multiplier=multiplier, member_timezone=member_timezone)
    lines = [OrderLine(order=order, sku=lp.line.sku, category=lp.line.category, quantity=lp.line.quantity,
                       amount=lp.line.amount, multiplier=lp.multiplier, points=int(lp.exact)) for lp in per_line]
    return Earn(order=order, txn=txn, lot=lot, changed=changed, lines=lines, qualifying=qualifying)


def order_earn(*, member: Member, channel_id: int, order_id: str, amount: Decimal, currency: str,
               idempotency_key: str, lines: list[rules.LineInput] = (), store: str = "",
               occurred_at: datetime | None = None) -> Order:
    """Record an order and award its points: one earn transaction and one lot, pending for the return window.
    The caller holds the member's ledger lock (config.flows.order_place)."""
    program = ProgramSettings.current()
    now = timezone.now()
    lines = list(lines)
    occurred_at = order_check(program=program, amount=amount, currency=currency, lines=lines,
                              occurred_at=occurred_at, now=now)
    ensure_active(member)

    account = account_locked(member.pk)
    multipliers = category_multipliers()
    tiers = tier_activity_prepare(member_id=member.pk)  # read once, for the benefits and the activity
    benefits = member_benefits(member_id=member.pk, now=now, status=tiers.status)
    multiplier = benefits.multiplier
    earned = rules.order_points(program=program, amount=amount, lines=lines, multipliers=multipliers,
                                member_multiplier=multiplier)
    # A campaign's boost on the next order (one indexed statement per earning order): taken only by an order
    # that earns, and it multiplies the tier / plan multiplier, so a refund takes back at the rate it earned.
    boost = earn_boost_take(member_id=member.pk, now=now) if earned[0] > 0 else None
    if boost:
        multiplier = benefits.multiplier * boost.multiplier
        earned = rules.order_points(program=program, amount=amount, lines=lines, multipliers=multipliers,
                                    member_multiplier=multiplier)
    earn = earn_build(program=program, account=account, member_timezone=member.timezone, channel_id=channel_id,
                      order_id=order_id, amount=amount, currency=currency, store=store, occurred_at=occurred_at,
                      idempotency_key=idempotency_key, now=now, earned=earned, multiplier=multiplier,
                      benefits=benefits, boost=boost)
    order = earn.order
    order.member = member
    try:
        # The unique (channel, order_id) decides between a replayed and a new order, for this member or another
        # one; the whole request's transaction rolls back with the 409.
        if earn.txn is not None:
            _credit_write(account=account, changed=earn.changed, now=now, txn=earn.txn, lot=earn.lot, order=order,
                          kind=Transaction.Kind.EARN)
        else:
            order.save(force_insert=True)
    except IntegrityError as exc:
        if "order_unique_per_channel" not in str(exc):
            raise
        raise Conflict(f"Order {order_id!r} was already recorded.", code=LoyaltyErrorCode.DUPLICATE_ORDER) from exc
    if boost:
        earn_boost_link(boost=boost, transaction_id=order.earn_transaction_id)
    if earn.lines:
        OrderLine.objects.bulk_create(earn.lines)
    # Tiers qualify on this order in the same transaction: an upgrade is never a night late.
    order.tier_change = tier_activity_record(member_id=member.pk, points=earn.qualifying, spend=amount,
                                             at=occurred_at, now=now, prepared=tiers)
    return order
