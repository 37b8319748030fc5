"""The ledger's balance invariant (DESIGN, "The points ledger", invariant 4), as one reusable assertion.

`assert_ledger_balanced()` checks every member and the global totals; `assert_ledger_balanced(member_id)`
checks one member (plus the global totals). It reads the database directly, set-based, so it stays cheap
when called after every step of a property-based test.
"""

from collections import defaultdict

from django.db.models import F, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from loyalty.models import Account, Lot, Transaction


def _by_member(queryset, member_id, **sums) -> dict[int, dict[str, int]]:
    if member_id is not None:
        queryset = queryset.filter(member_id=member_id)
    rows = queryset.order_by().values("member_id").annotate(
        **{name: Coalesce(total, Value(0)) for name, total in sums.items()}
    )
    return {row.pop("member_id"): row for row in rows}


def ledger_totals(member_id: int | None = None) -> dict[int, dict[str, int]]:
    """Per member: the account's cached balances next to what the transactions and lots add up to."""
    zero = {"available": 0, "pending": 0, "txn_points": 0, "txn_available": 0, "txn_pending": 0,
            "lots_released": 0, "lots_pending": 0}
    totals: dict[int, dict[str, int]] = defaultdict(lambda: dict(zero))
    accounts = Account.objects.all() if member_id is None else Account.objects.filter(member_id=member_id)
    for account_member, available, pending in accounts.values_list("member_id", "available", "pending"):
        totals[account_member].update(available=available, pending=pending)
    txns = _by_member(Transaction.objects.all(), member_id, txn_points=Sum("points"),
                      txn_available=Sum("available_delta"), txn_pending=Sum("pending_delta"))
    for txn_member, row in txns.items():
        totals[txn_member].update(row)
    lots = _by_member(Lot.objects.all(), member_id,
                      lots_released=Sum("remaining", filter=Q(released=True)),
                      lots_pending=Sum("remaining", filter=Q(released=False)))
    for lot_member, row in lots.items():
        totals[lot_member].update(row)
    return dict(totals)


def assert_ledger_balanced(member_id: int | None = None) -> None:
    """Invariant 4 for one member (or all): cached balances == transactions == open lots, lots explained by
    their movements, and globally all transaction points == all balances."""
    problems: list[str] = []

    for mid, t in sorted(ledger_totals(member_id).items()):
        if t["available"] + t["pending"] != t["txn_points"]:
            problems.append(f"member {mid}: available {t['available']} + pending {t['pending']} "
                            f"!= sum of transaction points {t['txn_points']}")
        if not t["available"] == t["txn_available"] == t["lots_released"]:
            problems.append(f"member {mid}: available {t['available']}, sum of available_delta "
                            f"{t['txn_available']}, remaining in released lots {t['lots_released']} differ")
        if not t["pending"] == t["txn_pending"] == t["lots_pending"]:
            problems.append(f"member {mid}: pending {t['pending']}, sum of pending_delta {t['txn_pending']}, "
                            f"remaining in unreleased lots {t['lots_pending']} differ")
        if t["available"] < 0 or t["pending"] < 0:
            problems.append(f"member {mid}: negative balance ({t['available']} available, {t['pending']} pending)")

    lots = Lot.objects.all() if member_id is None else Lot.objects.filter(member_id=member_id)
    unexplained = (
        lots.annotate(moved=Coalesce(Sum("movements__points"), Value(0)))
        .exclude(remaining=F("moved"))
        .values_list("pk", "remaining", "moved")
    )
    problems += [f"lot {pk}: remaining {rem} != sum of its movements {moved}" for pk, rem, moved in unexplained]
    out_of_range = lots.filter(Q(remaining__lt=0) | Q(remaining__gt=F("amount"))).values_list("pk", "remaining",
                                                                                               "amount")
    problems += [f"lot {pk}: remaining {rem} outside 0..{amount}" for pk, rem, amount in out_of_range]

    # The statement's last line shows the account's balances.
    accounts = Account.objects.all() if member_id is None else Account.objects.filter(member_id=member_id)
    last = Transaction.objects.filter(member_id=OuterRef("member_id")).order_by("-id")
    rows = accounts.annotate(last_available=Subquery(last.values("balance_after")[:1]),
                             last_pending=Subquery(last.values("pending_after")[:1]))
    for mid, available, pending, last_available, last_pending in rows.values_list(
            "member_id", "available", "pending", "last_available", "last_pending"):
        if last_available is not None and (last_available, last_pending) != (available, pending):
            problems.append(f"member {mid}: last transaction says {last_available} available, {last_pending} "
                            f"pending; the account says {available}, {pending}")

    everything = Transaction.objects.aggregate(points=Coalesce(Sum("points"), Value(0)))
    balances = Account.objects.aggregate(total=Coalesce(Sum(F("available") + F("pending")), Value(0)))
    if everything["points"] != balances["total"]:
        problems.append(f"globally: sum of all transaction points {everything['points']} "
                        f"!= sum of all balances {balances['total']}")

    assert not problems, "ledger out of balance:\n  " + "\n  ".join(problems)


def balance_of(member_id: int) -> tuple[int, int]:
    """(available, pending) as cached on the account; (0, 0) before the first transaction."""
    row = Account.objects.filter(member_id=member_id).values_list("available", "pending").first()
    return row or (0, 0)
