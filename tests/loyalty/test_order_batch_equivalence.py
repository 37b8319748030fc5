"""One implementation of the earning rules: random orders (tier upgrades, referrals, paid plans, category
multipliers, duplicate order ids) placed through POST /api/v1/orders/batch for one set of members, and one by one
through POST /api/v1/orders for an identical twin set, write the same rows (orders, transactions, lots, accounts,
tier status and changes, qualifying activity, referrals and their rewards) and the same answers; the ledger
balances after every example."""

import json
import re
import uuid
from datetime import date, datetime
from decimal import Decimal

import pytest
from django.core.cache import cache
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from loyalty.models import Account, CategoryMultiplier, Lot, Order, Transaction
from members.models import MembershipSettings, Plan, QualifyingActivity, Tier, TierChange, TierStatus
from referrals.models import Program, Referral, ReferralReward
from referrals.services import referral_code_ensure
from tests.loyalty.invariants import assert_ledger_balanced


@pytest.fixture
def rules(db, program):
    for rank, (code, threshold, multiplier) in enumerate(
            [("bronze", 0, "1"), ("silver", 30, "1.25"), ("gold", 120, "1.5")], start=1):
        Tier.objects.create(code=code, name=code.title(), rank=rank, threshold=Decimal(threshold),
                            earn_multiplier=Decimal(multiplier))
    s = MembershipSettings.current()
    s.basis, s.window = MembershipSettings.Basis.POINTS, MembershipSettings.Window.ROLLING_12_MONTHS
    s.save()
    Plan.objects.create(code="plus", name="Plus", kind=Plan.Kind.SUBSCRIPTION, period=Plan.Period.MONTH,
                        price=Decimal("9.99"), currency="EUR", trial_days=14, earn_multiplier=Decimal("2"))
    CategoryMultiplier.objects.create(category="coffee", multiplier=Decimal("3"))
    CategoryMultiplier.objects.create(category="books", multiplier=Decimal("0.5"))
    Program.objects.create(name="Refer a friend", active=True, kind=Program.Kind.SINGLE_TIER, referrer_points=100,
                           welcome_points=5, min_order_amount=Decimal("20.00"), qualify_days=30, attach_days=7)


line = st.tuples(st.sampled_from(["coffee", "books", "toys", ""]), st.integers(min_value=1, max_value=40_00))
orders = st.lists(st.tuples(st.integers(min_value=0, max_value=2),           # which member
                            st.integers(min_value=1, max_value=600_00),       # amount in cents
                            st.lists(line, max_size=2),
                            st.integers(min_value=0, max_value=5)),           # 0: the id of an earlier order
                  min_size=1, max_size=8)
members = st.lists(st.tuples(st.booleans(), st.booleans()), min_size=3, max_size=3)  # (referred, on the plan)


def _twins(api, prefix: str, specs) -> None:
    cache.clear()  # registration is rate-limited per channel
    for side in "ab":
        for i, (referred, on_plan) in enumerate(specs):
            code = None
            if referred:
                api.post("/api/v1/members", {"external_id": f"{prefix}{side}-r{i}"})
                from members.models import Member
                code = referral_code_ensure(member=Member.objects.get(external_id=f"{prefix}{side}-r{i}")).code
            r = api.post("/api/v1/members", {"external_id": f"{prefix}{side}-{i}",
                                             **({"referral_code": code} if code else {})})
            assert r.status_code == 201, r.json()
            if on_plan:
                r = api.post(f"/api/v1/members/{prefix}{side}-{i}/subscriptions", {"plan": "plus", "trial": True})
                assert r.status_code == 201, r.json()


def _bodies(prefix: str, side: str, drawn) -> list[dict]:
    bodies = []
    for n, (who, cents, lines, again) in enumerate(drawn):
        order_id = f"{prefix}{side}-o{n - 1 if again == 0 and n else n}"
        body = {"member": f"{prefix}{side}-{who}", "order_id": order_id, "amount": f"{Decimal(cents) / 100:.2f}",
                "currency": "EUR", "idempotency_key": f"{prefix}{side}-k{n}"}
        if lines:
            body["lines"] = [{"sku": f"S{k}", "category": category, "amount": f"{Decimal(c) / 100:.2f}"}
                             for k, (category, c) in enumerate(lines)]
            total = sum(Decimal(c) for _, c in lines) / 100
            body["amount"] = f"{max(total, Decimal(cents) / 100):.2f}"
        bodies.append(body)
    return bodies


def _plain(row: dict) -> dict:
    # Moments of the request differ between twins: kept as days where they are rule outcomes (a lot's expiry, the
    # next tier review), otherwise only whether they are set (a datetime's key is left out, a None kept).
    days = ("expires_at", "review_at")
    return {k: (v.date().isoformat() if k in days and v else v) for k, v in row.items()
            if k != "id" and not k.endswith("_id") and not (isinstance(v, datetime) and k not in days)}


def _snapshot(prefix: str, side: str) -> str:
    from members.models import Member

    ids = list(Member.objects.filter(external_id__startswith=f"{prefix}{side}-").order_by("external_id")
               .values_list("id", flat=True))
    by_member = {"member_id__in": ids}
    tables = {
        "orders": Order.objects.filter(**by_member),
        "transactions": Transaction.objects.filter(**by_member),
        "lots": Lot.objects.filter(**by_member),
        "accounts": Account.objects.filter(**by_member),
        "tier_status": TierStatus.objects.filter(**by_member).values("tier__code", "since", "below_since", "warned_at",
                                                                     "review_at"),
        "tier_changes": TierChange.objects.filter(**by_member).values("from_tier__code", "to_tier__code", "reason",
                                                                      "note", "details"),
        "qualifying": QualifyingActivity.objects.filter(**by_member),
        "referrals": Referral.objects.filter(referred_id__in=ids).values("status", "referrer__external_id"),
        "rewards": ReferralReward.objects.filter(**by_member).values("role", "points", "member__external_id"),
    }
    snap = {}
    for name, qs in tables.items():
        qs = qs.order_by("member_id") if name in ("accounts", "tier_status") else qs.order_by("id")
        # Compared as sets of rows: the batch writes the orders the set-based earn covers in one statement, before
        # the others (config.flows.orders_place_batch), so ids across members need not follow the request's order.
        snap[name] = sorted((_plain(dict(row)) for row in (qs if qs._fields else qs.values())),
                            key=lambda row: json.dumps(row, default=str, sort_keys=True))
    # The batch creates the accounts of every member it locks up front, outside the orders' savepoints; a member
    # whose orders were all refused keeps an empty one, which holds what no account holds.
    snap["accounts"] = [a for a in snap["accounts"] if any(v for k, v in a.items() if k != "updated_at")]
    text = json.dumps(snap, default=str, sort_keys=True).replace(f"{prefix}{side}-", "X-")
    text = re.sub(r"referral:\d+", "referral:N", text)  # the referral's own id
    return re.sub(r'"referral": \d+', '"referral": 0', text)


def _timeless(value):
    """An answer without what differs between two runs of the same rules: ids and moments."""
    if isinstance(value, dict):
        return {k: _timeless(v) for k, v in value.items() if k != "id" and not k.endswith("_at")}
    if isinstance(value, list | tuple):
        return [_timeless(v) for v in value]
    return value


def _results(answers: list[tuple[int, dict]], prefix: str, side: str) -> str:
    return json.dumps(_timeless(answers), default=str, sort_keys=True).replace(f"{prefix}{side}-", "X-")


@settings(max_examples=6, deadline=None, phases=[Phase.explicit, Phase.reuse, Phase.generate],
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(specs=members, drawn=orders)
def test_a_batch_writes_what_the_same_orders_one_by_one_write(api, rules, specs, drawn):
    prefix = f"q{uuid.uuid4().hex[:8]}"
    _twins(api, prefix, specs)
    batch = api.post("/api/v1/orders/batch", {"orders": _bodies(prefix, "a", drawn)}, idempotency_key=False)
    assert batch.status_code == 200, batch.json()
    by_batch = [(r["status"], r.get("order") or r["error"]) for r in batch.json()["results"]]
    one_by_one = []
    for body in _bodies(prefix, "b", drawn):
        key = body.pop("idempotency_key")
        r = api.post("/api/v1/orders", body, idempotency_key=key)
        one_by_one.append((r.status_code, r.json() if r.status_code == 201 else r.json()["error"]))
    assert _results(by_batch, prefix, "a") == _results(one_by_one, prefix, "b")
    by_batch, one_by_one = json.loads(_snapshot(prefix, "a")), json.loads(_snapshot(prefix, "b"))
    for table in by_batch:
        assert by_batch[table] == one_by_one[table], table
    assert_ledger_balanced()


def test_the_snapshot_sees_what_an_order_writes(api, rules):
    """The comparison above is not vacuous: an order's rows are in the snapshot."""
    prefix = "qcheck"
    _twins(api, prefix, [(True, True), (False, False), (False, False)])
    empty = _snapshot(prefix, "a")
    body = _bodies(prefix, "a", [(0, 50_00, [("coffee", 10_00)], 1)])[0]
    api.post("/api/v1/orders", {k: v for k, v in body.items() if k != "idempotency_key"})
    after = json.loads(_snapshot(prefix, "a"))
    assert after != json.loads(empty)
    assert len(after["orders"]) == 1
    assert sorted(lot["amount"] for lot in after["lots"]) == [5, 14, 100]  # the order's, welcome, the referrer's
    assert after["rewards"] and after["tier_status"] and after["qualifying"]
    assert isinstance(date.fromisoformat(after["lots"][0]["expires_at"]), date)
