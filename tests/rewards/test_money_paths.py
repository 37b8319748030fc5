"""The paths where points cross apps: orders paid with points, refunds, cancelled redemptions, lapsed holds.

Each test is a defect an outside review reproduced through the API: it failed before the flows gave points back
before taking them, remembered what a refund took from other lots, and settled what was due first.
"""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.utils import timezone

from loyalty.models import Account, Refund, Transaction
from rewards.services import holds_expire_due
from tests.loyalty.invariants import assert_ledger_balanced

pytestmark = pytest.mark.usefixtures("rules")


def available(member) -> int:
    return Account.objects.get(member=member).available


def earn(api, member, order_id, amount):
    r = api.post("/api/v1/orders", {"member": member.external_id, "order_id": order_id, "amount": amount,
                                    "currency": "EUR"})
    assert r.status_code == 201, r.json()
    return r.json()


def hold_confirmed(api, member, order_id, points, order_value):
    r = api.post("/api/v1/checkout/holds", {"member": member.external_id, "order_id": order_id, "points": points,
                                            "order_value": order_value, "currency": "EUR"})
    assert r.status_code == 201, r.json()
    assert api.post(f"/api/v1/checkout/holds/{r.json()['id']}/confirm").status_code == 200
    return r.json()["id"]


def redeem(api, member, points):
    r = api.post("/api/v1/redemptions", {"member": member.external_id, "points": points})
    assert r.status_code == 201, r.json()
    return r.json()["id"]


def test_points_that_paid_for_an_order_cover_what_its_refund_takes_back(api, member, give):
    give(member, 100)
    hold_confirmed(api, member, "N", points=60, order_value="500.00")
    earn(api, member, "N", "500.00")  # 50 points
    redeem(api, member, 90)  # the member spends everything: 40 of the old points and the 50 just earned
    assert available(member) == 0

    r = api.post("/api/v1/orders/N/refunds", {"amount": "500.00"})

    assert r.status_code == 201, r.json()
    body = r.json()
    # The 60 points that paid come back first, and cover the 50 the order earned: nothing is owed, 10 remain.
    assert (body["points_returned"], body["points_taken"], body["shortfall"]) == (60, 50, 0)
    assert available(member) == 10
    assert body["substituted"] == 50
    assert_ledger_balanced(member.pk)


def test_a_cancelled_redemption_gives_back_to_the_lots_a_refund_used_not_to_an_expired_one(api, member, give, program):
    start = datetime(2030, 1, 10, 12, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        earn(api, member, "A", "1000.00")  # 100 points, expiring 12 months on
    with time_machine.travel(start + timedelta(days=40), tick=False):
        give(member, 100)  # expiring a month later than A's
        redemption = redeem(api, member, 60)  # from A's points, the first to expire
        r = api.post("/api/v1/orders/A/refunds", {"amount": "1000.00"})
        assert (r.json()["points_taken"], r.json()["shortfall"]) == (100, 0)
        assert available(member) == 40
    with time_machine.travel(start + timedelta(days=370), tick=False):  # A's lot has expired meanwhile
        assert api.post(f"/api/v1/redemptions/{redemption}/cancel", {}).status_code == 200
        # The 60 go back where the refund took them from, with those points' own expiry: the member has 100 again.
        assert available(member) == 100
        assert Refund.objects.get().restored == 60
        assert_ledger_balanced(member.pk)


def test_an_order_paid_entirely_with_points_gives_them_back_when_refunded(api, member, give, rules):
    rules.max_order_share = 100
    rules.save()
    give(member, 3000)
    hold_confirmed(api, member, "Z", points=3000, order_value="30.00")
    earn(api, member, "Z", "0.00")
    assert available(member) == 0

    r = api.post("/api/v1/orders/Z/refunds", {})

    assert r.status_code == 201, r.json()
    assert r.json()["points_returned"] == 3000
    assert available(member) == 3000
    again = api.post("/api/v1/orders/Z/refunds", {"amount": "0.00"})
    assert again.status_code == 422 and again.json()["error"]["code"] == "refund_exceeds_order"
    assert available(member) == 3000
    assert_ledger_balanced(member.pk)


def test_a_refund_amount_of_zero_is_refused_for_an_order_that_cost_money(api, member):
    earn(api, member, "M", "100.00")
    r = api.post("/api/v1/orders/M/refunds", {"amount": "0.00"})
    assert r.status_code == 400 and r.json()["error"]["fields"] == {"amount": ["Must be positive."]}


def test_a_hold_lapsing_after_the_refunded_lot_expired_writes_the_shortfall_off(api, member, program):
    start = datetime(2030, 1, 10, 12, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        earn(api, member, "A", "1000.00")  # 100 points
    expiry = Transaction.objects.get(kind="earn").lots.get().expires_at
    with time_machine.travel(expiry - timedelta(minutes=10), tick=False):
        r = api.post("/api/v1/checkout/holds", {"member": member.external_id, "order_id": "B", "points": 60,
                                                "order_value": "100.00", "currency": "EUR"})
        assert r.status_code == 201, r.json()
        refund = api.post("/api/v1/orders/A/refunds", {"amount": "1000.00"}).json()
        assert (refund["points_taken"], refund["shortfall"]) == (40, 60)
    with time_machine.travel(expiry + timedelta(minutes=25), tick=False):
        assert holds_expire_due(now=timezone.now()) == 1

    refund = Refund.objects.get()
    # The 60 came back to a lot that had expired: they would have expired with it, so the debt is written off,
    # not paid with expired points; no take-back from an expired lot appears in the ledger.
    assert not Transaction.objects.filter(kind="refund").exclude(pk=refund.transaction_id).exists()
    assert refund.recovered == 0
    assert refund.written_off == 60
    assert available(member) == 0
    assert_ledger_balanced(member.pk)


def test_a_long_idempotency_key_on_a_points_paid_refund_fits(api, member, give):
    give(member, 100)
    hold_confirmed(api, member, "K", points=60, order_value="500.00")
    earn(api, member, "K", "500.00")
    r = api.post("/api/v1/orders/K/refunds", {"amount": "100.00"}, idempotency_key="k" * 255)
    assert r.status_code == 201, r.json()
    assert r.json()["points_returned"] == 12


def test_points_restored_to_a_lot_whose_own_order_was_refunded_settle_that_refund_too(api, member, program):
    start = datetime(2030, 1, 10, 12, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        earn(api, member, "A", "1000.00")  # 100 points, the first to expire
    with time_machine.travel(start + timedelta(days=1), tick=False):
        earn(api, member, "B", "1000.00")  # 100 points
        redemption = redeem(api, member, 100)  # A's points
        assert api.post("/api/v1/orders/A/refunds", {}).json()["substituted"] == 100  # taken from B's points
        assert api.post("/api/v1/orders/B/refunds", {}).json()["shortfall"] == 100  # B's were gone
        assert api.post(f"/api/v1/redemptions/{redemption}/cancel", {}).status_code == 200

    # Both orders were refunded: without the redemption the member would hold nothing, and owe nothing.
    assert available(member) == 0
    a, b = Refund.objects.order_by("id")
    assert (a.restored, b.recovered) == (100, 100)
    assert_ledger_balanced(member.pk)
