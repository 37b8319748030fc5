"""Referral payouts under real concurrency: threads with their own connections, released by a barrier."""

import pytest

from referrals.models import Referral, ReferralReward
from referrals.services import referral_code_ensure
from tests.loyalty.invariants import assert_ledger_balanced, balance_of
from tests.loyalty.test_concurrency import post, run_together

pytestmark = pytest.mark.django_db(transaction=True)


def _register(api, code, i):
    status, body, _ = post(api, "/api/v1/members", {"external_id": f"friend-{i}", "referral_code": code},
                           f"reg-{i}")
    assert status == 201, body
    return body["external_id"]


def test_two_qualifying_orders_of_one_referred_member_at_once_pay_once(api, make_program, member):
    make_program(welcome_points=30, second_level=True)
    new = _register(api, referral_code_ensure(member=member).code, 0)

    results = run_together(2, lambda i: post(api, "/api/v1/orders", {
        "member": new, "order_id": f"FIRST-{i}", "amount": "40.00", "currency": "EUR"}, f"order-{i}"))

    assert [status for status, _, _ in results] == [201, 201]
    assert sum("referral" in body for _, body, _ in results) == 1
    assert ReferralReward.objects.filter(role="referrer").count() == 1
    assert ReferralReward.objects.filter(role="welcome").count() == 1
    assert balance_of(member.pk) == (100, 0)
    assert_ledger_balanced()


def test_orders_of_many_referred_members_at_once_pay_each_tier_step_once(api, make_program, member):
    make_program(steps={1: 100, 4: 150, 10: 250})
    code = referral_code_ensure(member=member).code
    friends = [_register(api, code, i) for i in range(6)]

    results = run_together(6, lambda i: post(api, "/api/v1/orders", {
        "member": friends[i], "order_id": f"O-{i}", "amount": "25.00", "currency": "EUR"}, f"o-{i}"))

    assert all(status == 201 for status, _, _ in results), results
    ordinals = sorted(Referral.objects.values_list("ordinal", flat=True))
    assert ordinals == [1, 2, 3, 4, 5, 6]
    paid = sorted(ReferralReward.objects.filter(role="referrer").values_list("referral__ordinal", "points"))
    assert paid == [(1, 100), (2, 100), (3, 100), (4, 150), (5, 150), (6, 150)]
    assert balance_of(member.pk) == (750, 0)
    assert_ledger_balanced()
