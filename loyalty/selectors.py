import functools
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from django.db import connection, connections, router
from django.db.models import Q, Sum
from django.utils import timezone

from core.errors import NotFound
from members.exceptions import MembersErrorCode
from members.models import Member
from members.selectors import TierOverviewRead, member_get, tier_overview_read

from .models import Account, Lot, Transaction
from .services.rules import member_zone


@dataclass
class Balance:
    available: int
    pending: int
    lifetime_earned: int
    expiring: list[dict] = field(default_factory=list)
    pending_release: list[dict] = field(default_factory=list)
    tier: dict | None = None
    timezone: str = ""  # the member's time zone, in which the dates of `expiring` and `pending_release` are given


# The member, their account and their open lots (one array per lot column, aggregated in one pass: the arrays line
# up; in no particular order, as the balance only sums lots by day), with what `tier_overview` reads
# (`TierOverviewRead`), in one statement over the member's id or external id.
_LOT_COLUMNS = ("remaining", "released", "expires_at", "available_at")
_LOT_MOMENTS = ("expires_at", "available_at")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _lot_column(name: str) -> str:
    """A lot column for the balance's arrays. The moments come as microseconds since the epoch (exact: EXTRACT gives
    a numeric): Django's loader of timestamps parses each one in Python, four times the cost of a whole lot."""
    column = connection.ops.quote_name(Lot._meta.get_field(name).column)
    return f"(EXTRACT(EPOCH FROM {column}) * 1000000)::bigint" if name in _LOT_MOMENTS else column


def _moment(microseconds: int | None) -> datetime | None:
    return None if microseconds is None else _EPOCH + timedelta(microseconds=microseconds)


@functools.cache
def _balance_sql(key: str, tier_columns: str, tier_joins: str) -> str:
    """The balance's statement, built once per process (and program setting): the same text on every request."""
    qn = connection.ops.quote_name
    member, account, lot = (qn(model._meta.db_table) for model in (Member, Account, Lot))
    lots = ", ".join(f"array_agg({_lot_column(name)})" for name in _LOT_COLUMNS)
    return (f'SELECT m."id", m."timezone", a."available", a."pending", a."lifetime_earned", '
            f"lo.remaining, lo.released, lo.expires_at, lo.available_at, {tier_columns} "
            f'FROM {member} m LEFT JOIN {account} a ON a."member_id" = m."id" '
            f"LEFT JOIN LATERAL (SELECT {lots} FROM {lot} "
            f'WHERE "member_id" = m."id" AND "remaining" > 0) lo({", ".join(_LOT_COLUMNS)}) ON TRUE '
            f"{tier_joins} WHERE m.{qn(Member._meta.get_field(key).column)} = %(member)s")


def _balance_row(key: str, value, now) -> tuple[tuple, TierOverviewRead, str] | None:
    db = router.db_for_read(Member)
    tiers, params = tier_overview_read(member_alias="m", now=now)
    with connections[db].cursor() as cursor:
        cursor.execute(_balance_sql(key, tiers.columns, tiers.joins), {**params, "member": value})
        row = cursor.fetchone()
    return None if row is None else (row, tiers, db)


def balance_get(*, member: Member | None = None, external_id: str | None = None, expiring_limit: int = 6) -> Balance:
    """A member's balance (`member`, or the member with `external_id`: 404 if unknown), in one statement: the
    member, their account, their open lots and their tier status and progress."""
    now = timezone.now()
    found = _balance_row("id", member.pk, now) if member is not None else _balance_row("external_id", external_id, now)
    if found is None:  # unknown: the members' 404, in their words (a member registered meanwhile is read again)
        found = _balance_row("id", member_get(external_id=member.external_id if member else external_id).pk, now)
        if found is None:
            raise NotFound("The member is gone.", code=MembersErrorCode.MEMBER_NOT_FOUND)
    row, tiers, db = found
    member_id, zone_name, available, pending, lifetime_earned = row[:5]
    if available is None:  # no account yet: an account's defaults
        account = Account(member_id=member_id)
        available, pending, lifetime_earned = account.available, account.pending, account.lifetime_earned
    expiring: dict[date, int] = defaultdict(int)
    releasing: dict[date, int] = defaultdict(int)
    zone = member_zone(zone_name)  # points expire at the end of the day they are shown under, locally
    # The member's open lots. Between a due date and the job that posts it, show what the member can actually
    # spend: expired points are gone and points past their return window are available (a spend settles both
    # first, under the lock).
    for remaining, released, expires_us, available_us in zip(
            row[5] or (), row[6] or (), row[7] or (), row[8] or (), strict=True):
        expires_at, available_at = _moment(expires_us), _moment(available_us)
        expired = expires_at is not None and expires_at <= now
        if expired:
            available, pending = (available - remaining, pending) if released else (available, pending - remaining)
            continue
        if not released and available_at <= now:
            available, pending = available + remaining, pending - remaining
        elif not released:
            releasing[available_at.astimezone(zone).date()] += remaining
        if expires_at is not None:
            expiring[expires_at.astimezone(zone).date()] += remaining
    return Balance(
        available=available, pending=pending, lifetime_earned=lifetime_earned,
        expiring=[{"date": d, "points": p} for d, p in sorted(expiring.items())[:expiring_limit]],
        pending_release=[{"date": d, "points": p} for d, p in sorted(releasing.items())[:expiring_limit]],
        tier=tiers.overview(member_id, row, 9, now=now, db=db),
        timezone=zone.key,
    )


def points_spendable(*, member_id: int, now=None) -> int:
    """What the member could spend now: released, unexpired points (the expiry job may not have run yet)."""
    now = now or timezone.now()
    total = (Lot.objects.filter(member_id=member_id, remaining__gt=0)
             .filter(Q(released=True) | Q(available_at__lte=now))
             .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
             .aggregate(total=Sum("remaining"))["total"])
    return total or 0


def statement(*, member: Member, kinds: list[str] | None = None, since: date | None = None):
    qs = Transaction.objects.filter(member_id=member.pk)
    if kinds:
        qs = qs.filter(kind__in=kinds)
    if since:
        qs = qs.filter(created_at__date__gte=since)
    return qs.order_by("-id")


def ledger_totals() -> dict[str, int]:
    """Program-wide: what was earned, spent, expired and adjusted, beside the sum of all balances."""
    by_kind = dict(Transaction.objects.values_list("kind").annotate(total=Sum("points")).order_by())
    balances = Account.objects.aggregate(available=Sum("available"), pending=Sum("pending"))
    return {
        **{kind: by_kind.get(kind, 0) or 0 for kind in Transaction.Kind.values},
        "transactions_total": sum(v or 0 for v in by_kind.values()),
        "balances_total": (balances["available"] or 0) + (balances["pending"] or 0),
        "members_with_negative": Account.objects.filter(Q(available__lt=0) | Q(pending__lt=0)).count(),
    }


def points_expiring_soon(*, member: Member, within_days: int, now=None) -> list[dict]:
    """What will expire within the next `within_days` days, by day in the member's time zone: spendable points
    only (released or past their return window, not yet expired), as the member would lose them."""
    now = now or timezone.now()
    zone = member_zone(member.timezone)
    due: dict[date, int] = defaultdict(int)
    for remaining, expires_at in (Lot.objects.filter(member_id=member.pk, remaining__gt=0)
                                  .filter(Q(released=True) | Q(available_at__lte=now))
                                  .filter(expires_at__gt=now, expires_at__lte=now + timedelta(days=within_days))
                                  .values_list("remaining", "expires_at")):
        due[expires_at.astimezone(zone).date()] += remaining
    return [{"date": d, "points": p} for d, p in sorted(due.items())]


# What "earned in all" counts on the member's page: points from purchases (after refunds), bonuses, gifts and
# staff adjustments (either sign). Redemptions and expiry are not earning.
EARNED_KINDS = (Transaction.Kind.EARN, Transaction.Kind.REFUND, Transaction.Kind.BONUS, Transaction.Kind.GIFT,
                Transaction.Kind.ADJUST)


def points_earned_total(*, member: Member) -> int:
    total = Transaction.objects.filter(member_id=member.pk, kind__in=EARNED_KINDS).aggregate(t=Sum("points"))["t"]
    return max(total or 0, 0)


def ledger_data_export(*, member: Member) -> dict:
    """What `loyalty` holds on the member: the account, the statement, lots, orders and refunds. Reads only."""
    from core.privacy import export_rows

    from .models import BirthdayGift, Order, OrderLine, Refund

    orders = Order.objects.filter(member=member)
    return {
        "account": (export_rows(Account.objects.filter(member=member),
                                ["available", "pending", "lifetime_earned", "lifetime_redeemed", "lifetime_expired"])
                    or [None])[0],
        "statement": export_rows(Transaction.objects.filter(member=member),
                                 ["id", "kind", "points", "balance_after", "pending_after", "reference", "reason",
                                  "reverses_id", "channel__name", "created_at"]),
        "lots": export_rows(Lot.objects.filter(member=member),
                            ["id", "amount", "remaining", "released", "earned_at", "available_at", "expires_at"]),
        "orders": export_rows(orders, ["order_id", "channel__name", "amount", "currency", "store", "occurred_at",
                                       "points_earned", "refunded_amount", "points_reversed"]),
        "order_lines": export_rows(OrderLine.objects.filter(order__in=orders),
                                   ["order__order_id", "sku", "category", "amount", "points", "refunded_amount"]),
        "refunds": export_rows(Refund.objects.filter(Q(order__in=orders) | Q(bonus__member=member)),
                               ["order__order_id", "amount", "points_due", "points_taken", "shortfall", "created_at"]),
        "birthday_gifts": export_rows(BirthdayGift.objects.filter(member=member),
                                      ["birthday", "tier_code", "points", "reward_code", "created_at"]),
    }
