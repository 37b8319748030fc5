from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from loyalty.models import Account, CategoryMultiplier, Lot, Order, ProgramSettings, Transaction


def earn(api, member, order_id="O-1", amount="100.00", idempotency_key=None, **extra):
    return api.post("/api/v1/orders", {"member": member.external_id, "order_id": order_id, "amount": amount,
                                       "currency": "EUR", **extra}, idempotency_key=idempotency_key)


def balance(api, member):
    return api.get(f"/api/v1/members/{member.external_id}/balance").json()


def test_rate_rounds_down_by_default(api, member):
    assert earn(api, member, amount="129.99").json()["points"] == 12


@pytest.mark.parametrize(("rounding", "expected"), [("down", 12), ("nearest", 13), ("up", 13)])
def test_rounding_is_a_program_setting(api, member, program, rounding, expected):
    program.rounding = rounding
    program.save()
    assert earn(api, member, amount="125.00").json()["points"] == expected


def test_rate_is_a_program_setting(api, member, program):
    program.earn_points, program.earn_amount = 1, Decimal("15.00")
    program.save()
    assert earn(api, member, amount="150.00").json()["points"] == 10


def test_category_multipliers_apply_per_line_and_the_rest_earns_at_base_rate(api, member):
    CategoryMultiplier.objects.create(category="coffee", multiplier=Decimal("3"))
    r = earn(api, member, amount="100.00", lines=[
        {"sku": "C1", "category": "coffee", "amount": "20.00"},   # 2 points x3 = 6
        {"sku": "B1", "category": "books", "amount": "50.00"},    # 5 points
    ])                                                            # 30.00 not in lines: 3 points
    assert r.status_code == 201, r.json()
    assert r.json()["points"] == 14
    assert r.json()["transaction"]["kind"] == "earn"


def test_points_are_pending_through_the_return_window_then_released(api, member, program):
    program.pending_days = 14
    program.save()
    earn(api, member, amount="100.00")
    b = balance(api, member)
    assert (b["available"], b["pending"]) == (0, 10)
    assert b["pending_release"][0]["points"] == 10
    with time_machine.travel(timezone.now() + timedelta(days=15)):
        from loyalty.services import points_settle_due

        points_settle_due()
        b = balance(api, member)
    assert (b["available"], b["pending"]) == (10, 0)
    kinds = [t.kind for t in Transaction.objects.filter(member=member).order_by("id")]
    assert kinds == ["earn", "release"]


def test_pending_points_cannot_be_spent_until_released(api, member, program):
    program.pending_days = 14
    program.save()
    earn(api, member, amount="100.00")
    r = api.post("/api/v1/redemptions", {"member": member.external_id, "points": 5})
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "insufficient_points"
    with time_machine.travel(timezone.now() + timedelta(days=15)):
        r = api.post("/api/v1/redemptions", {"member": member.external_id, "points": 5})
    assert r.status_code == 201  # released inline, before the nightly job ran


def test_an_order_is_recorded_once_per_channel(api, member):
    assert earn(api, member, order_id="DUP").status_code == 201
    r = earn(api, member, order_id="DUP")
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "duplicate_order"
    assert Order.objects.count() == 1
    assert Account.objects.get(member=member).available == 10


def test_replay_with_the_same_key_returns_the_first_answer(api, member):
    first = earn(api, member, idempotency_key="same")
    again = earn(api, member, idempotency_key="same")
    assert again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert Transaction.objects.count() == 1


def test_same_key_with_another_body_is_a_conflict(api, member):
    earn(api, member, idempotency_key="k")
    r = earn(api, member, order_id="O-2", idempotency_key="k")
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "idempotency_key_reused"
    assert Order.objects.count() == 1


def test_a_write_without_idempotency_key_is_refused(api, member):
    r = api.post("/api/v1/orders", {"member": member.external_id, "order_id": "X", "amount": "10.00",
                                    "currency": "EUR"}, idempotency_key=False)
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "idempotency_key_missing"
    assert not Order.objects.exists()


def test_inactive_members_do_not_earn(api, member):
    member.status = "suspended"
    member.save()
    r = earn(api, member)
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "member_inactive"
    assert not Order.objects.exists()


def test_lot_expiry_follows_the_program_policy(api, member, program):
    program.expiry_policy = ProgramSettings.ExpiryPolicy.FIXED_YEARLY_DATE
    program.expiry_month, program.expiry_day = 12, 31
    program.save()
    with time_machine.travel("2026-03-10 12:00Z", tick=False):
        earn(api, member)
    lot = Lot.objects.get()
    assert lot.expires_at.date().isoformat() == "2027-12-31"


def test_zero_point_orders_are_recorded_without_a_transaction(api, member):
    r = earn(api, member, amount="5.00")
    assert r.status_code == 201
    assert r.json()["points"] == 0 and r.json()["transaction"] is None
    assert not Transaction.objects.exists()
