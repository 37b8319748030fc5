"""The set-based earn (config.earn_set) is not a second copy of the rules: random orders (members in tiers near a
threshold, referred members, paid plans with or without a tier floor, members in a grace period, category
multipliers, lines, orders that occurred in the past, points pending for a return window or released at once,
duplicate order ids; every tier window and basis) placed through POST /api/v1/orders with it, and for an identical
twin set with it turned off (every order through the general flow), write the same rows and give the same
answers, tier upgrades included."""

import json
import uuid
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from config import earn_set
from insight.models import MemberFacts
from loyalty.models import OrderLine, ProgramSettings
from members.models import MembershipSettings, Plan, Tier, TierChange, TierStatus
from tests.loyalty.invariants import assert_ledger_balanced
from tests.loyalty.test_order_batch_equivalence import _bodies, _plain, _results, _snapshot, _twins, members, rules

__all__ = ["rules"]

line = st.tuples(st.sampled_from(["coffee", "books", "toys", ""]), st.integers(min_value=1, max_value=40_00))
orders = st.lists(st.tuples(st.integers(min_value=0, max_value=2), st.integers(min_value=1, max_value=300_00),
                            st.lists(line, max_size=2), st.integers(min_value=0, max_value=5),
                            st.sampled_from([None, 3, 40])),  # occurred this many days ago (before the sign-up: no referral)
                  min_size=1, max_size=6)


def _more(prefix: str, side: str) -> str:
    from members.models import Member
    ids = Member.objects.filter(external_id__startswith=f"{prefix}{side}-").values_list("id", flat=True)
    snap = {"lines": [_plain(r) for r in OrderLine.objects.filter(order__member_id__in=ids).order_by("id").values()],
            "facts": [_plain(r) for r in MemberFacts.objects.filter(member_id__in=ids).order_by("member_id")
                      .values("orders_count", "spend", "categories", "categories_count", "redeemed_orders")]}
    return json.dumps(snap, default=str, sort_keys=True)


def _place(api, prefix, side, drawn):
    now, answers = timezone.now(), []
    for body, (*_, days) in zip(_bodies(prefix, side, [d[:4] for d in drawn]), drawn, strict=True):
        key = body.pop("idempotency_key")
        if days is not None:
            body["occurred_at"] = (now - timedelta(days=days)).replace(microsecond=0).isoformat()
        r = api.post("/api/v1/orders", body, idempotency_key=key)
        answers.append((r.status_code, r.json() if r.status_code == 201 else r.json()["error"]))
    return answers


@settings(max_examples=8, deadline=None, phases=[Phase.explicit, Phase.reuse, Phase.generate],
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(specs=members, drawn=orders, pending_days=st.sampled_from([0, 14]),
       window=st.sampled_from(list(MembershipSettings.Window.values)),
       basis=st.sampled_from(list(MembershipSettings.Basis.values)), plan_floor=st.booleans(), grace=st.booleans())
def test_the_set_based_earn_writes_what_the_general_flow_writes(api, rules, monkeypatch, specs, drawn, pending_days,
                                                                 window, basis, plan_floor, grace):
    prefix = f"s{uuid.uuid4().hex[:8]}"
    program = ProgramSettings.current()  # 14: the return window of a real shop, orders 3 days old still pending
    program.pending_days = pending_days
    program.save()
    # Every kind of tier window (one or two held windows, each review date rule) and basis; the plan holding a tier
    # (an upgrade for the plan's sake, reason "plan"); members in a grace period, warned, that an order may end.
    membership = MembershipSettings.current()
    membership.window, membership.basis = window, basis
    membership.save()
    Plan.objects.filter(code="plus").update(tier_floor=Tier.objects.get(code="silver") if plan_floor else None)
    _twins(api, prefix, specs)
    if grace:
        TierStatus.objects.filter(member__external_id__startswith=prefix).update(
            below_since=timezone.now() - timedelta(days=3), warned_at=timezone.now() - timedelta(days=1))
    placed = []
    earn_one = earn_set.earn_one

    def counted(*args, **kwargs):
        result = earn_one(*args, **kwargs)
        placed.append(result is not None)
        return result

    monkeypatch.setattr(earn_set, "earn_one", counted)
    fast = _place(api, prefix, "a", drawn)
    monkeypatch.setattr(earn_set, "earn_one", lambda *args, **kwargs: None)  # everything the general way
    general = _place(api, prefix, "b", drawn)
    monkeypatch.undo()
    assert _results(fast, prefix, "a") == _results(general, prefix, "b")
    a, b = json.loads(_snapshot(prefix, "a")), json.loads(_snapshot(prefix, "b"))
    for table in a:
        assert a[table] == b[table], table
    assert _more(prefix, "a") == _more(prefix, "b")
    assert_ledger_balanced()


def test_most_plain_orders_take_the_set_based_earn(api, rules, monkeypatch):
    """The comparison above is not vacuous: an order of a member without referral takes the set-based earn, one that
    lifts them a tier too (the upgrade written with it); an order of a referred member, or a member's first under
    tiers (their tier status is created then), the general flow."""
    prefix = "scheck"
    _twins(api, prefix, [(False, True), (True, False), (False, False)])
    taken = []
    earn_one = earn_set.earn_one
    monkeypatch.setattr(earn_set, "earn_one", lambda *a, **k: taken.append(earn_one(*a, **k)) or taken[-1])
    answers = [api.post("/api/v1/orders", {"member": f"{prefix}a-{who}", "order_id": f"{prefix}-{n}",
                                           "amount": amount, "currency": "EUR"}).json()
               for n, (who, amount) in enumerate([(0, "10.00"), (0, "10.00"), (1, "25.00"), (2, "600.00"),
                                                  (0, "600.00")])]
    # On a plan (its start made the tier status): plain, twice; referred; a first order; lifted to silver.
    assert [t is not None for t in taken] == [True, True, False, False, True]
    assert Decimal(taken[1].body["points"]) > 0
    assert answers[4]["tier_upgrade"] == {"from": "bronze", "to": "silver"}
    status = TierStatus.objects.select_related("tier").get(member__external_id=f"{prefix}a-0")
    assert status.tier.code == "silver" and status.review_at is not None
    assert TierChange.objects.filter(member_id=status.member_id, to_tier__code="silver",
                                     reason=TierChange.Reason.UPGRADE).count() == 1
