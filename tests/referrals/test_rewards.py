"""Single- and multi-tier rewards, the welcome reward, qualification, pending points, refunds and caps."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from loyalty.models import Transaction
from loyalty.services import points_settle_due
from members.models import Member
from referrals.models import Referral, ReferralReward
from tests.loyalty.invariants import assert_ledger_balanced, balance_of

pytestmark = pytest.mark.django_db


def _refer(register, code, n=1):
    """Register n new members with `code`; returns their external ids."""
    ids = []
    for _ in range(n):
        r = register(code=code)
        assert r.status_code == 201, r.json()
        ids.append(r.json()["external_id"])
    return ids


def _points(member, role=None):
    rewards = ReferralReward.objects.filter(member=member, revoke_transaction__isnull=True)
    if role:
        rewards = rewards.filter(role=role)
    return sum(rewards.values_list("points", flat=True))


def test_registration_with_a_code_and_a_qualifying_order_pays_the_referrer(referral_program, member, register, buy,
                                                                            code_of):
    r = register(code=code_of(member).lower())  # codes are read aloud: case does not matter
    assert r.status_code == 201
    body = r.json()
    assert body["referral"]["referrer"] == member.external_id and body["referral"]["status"] == "pending"
    assert len(body["referral_code"]) == 8 and body["referral_code"] != code_of(member)

    r = buy(body["external_id"], amount="25.00")
    assert r.status_code == 201
    assert r.json()["referral"]["status"] == "rewarded"
    assert r.json()["referral"]["points"] == {"referrer": 100}
    assert r.json()["points"] == 2  # the order's own body is unchanged
    assert balance_of(member.pk) == (100, 0)
    assert_ledger_balanced()


def test_single_tier_pays_the_same_for_every_referral(referral_program, member, register, buy, code_of):
    for new in _refer(register, code_of(member), 4):
        assert buy(new).status_code == 201
    assert list(ReferralReward.objects.filter(member=member).values_list("points", flat=True)) == [100] * 4
    assert balance_of(member.pk) == (400, 0)


def test_multi_tier_steps_at_each_boundary(make_program, member, register, buy, code_of):
    make_program(steps={1: 100, 4: 150, 10: 250})
    for new in _refer(register, code_of(member), 11):
        assert buy(new).status_code == 201
    paid = list(ReferralReward.objects.filter(member=member, role="referrer").order_by("id")
                .values_list("referral__ordinal", "points"))
    assert paid == [(1, 100), (2, 100), (3, 100), (4, 150), (5, 150), (6, 150), (7, 150), (8, 150), (9, 150),
                    (10, 250), (11, 250)]
    assert balance_of(member.pk) == (3 * 100 + 6 * 150 + 2 * 250, 0)
    assert_ledger_balanced()


def test_double_sided_welcome_reward(make_program, member, register, buy, code_of):
    make_program(welcome_points=50)
    new = _refer(register, code_of(member))[0]
    r = buy(new, amount="30.00")
    assert r.json()["referral"]["points"] == {"referrer": 100, "welcome": 50}
    new_member = Member.objects.get(external_id=new)
    assert balance_of(new_member.pk) == (3 + 50, 0)
    assert Transaction.objects.filter(member=new_member, kind=Transaction.Kind.BONUS).get().points == 50
    assert_ledger_balanced()


def test_an_order_below_the_minimum_does_not_qualify_but_a_later_one_does(referral_program, member, register, buy,
                                                                          code_of):
    new = _refer(register, code_of(member))[0]
    r = buy(new, amount="19.99")
    assert "referral" not in r.json()
    assert Referral.objects.get().status == "pending"
    r = buy(new, amount="20.00")
    assert r.json()["referral"]["status"] == "rewarded"
    r = buy(new, amount="80.00")
    assert "referral" not in r.json()  # a referral pays once
    assert balance_of(member.pk) == (100, 0)


def test_an_order_after_the_qualification_window_does_not_qualify(referral_program, member, register, buy, code_of):
    new = _refer(register, code_of(member))[0]
    with time_machine.travel(timezone.now() + timedelta(days=31)):
        r = buy(new, amount="90.00")
    assert r.status_code == 201 and "referral" not in r.json()
    assert Referral.objects.get().status == "pending"
    assert balance_of(member.pk) == (0, 0)


def test_rewards_are_pending_through_the_return_window_then_released(program, make_program, member, register, buy,
                                                                     code_of):
    program.pending_days = 14
    program.save()
    make_program(welcome_points=40)
    new = _refer(register, code_of(member))[0]
    start = timezone.now()
    assert buy(new, amount="30.00").status_code == 201
    new_member = Member.objects.get(external_id=new)
    assert balance_of(member.pk) == (0, 100)
    assert balance_of(new_member.pk) == (0, 43)
    with time_machine.travel(start + timedelta(days=13)):
        points_settle_due()
    assert balance_of(member.pk) == (0, 100)
    with time_machine.travel(start + timedelta(days=14, minutes=1)):
        points_settle_due()
    assert balance_of(member.pk) == (100, 0)
    assert balance_of(new_member.pk) == (43, 0)
    assert_ledger_balanced()


def test_a_full_refund_of_the_qualifying_order_takes_every_reward_back(program, make_program, member, register, buy,
                                                                       api, code_of):
    program.pending_days = 14
    program.save()
    make_program(welcome_points=40)
    new = _refer(register, code_of(member))[0]
    buy(new, amount="30.00", order_id="Q-1")
    r = api.post("/api/v1/orders/Q-1/refunds", {"amount": "30.00"})
    assert r.status_code == 201, r.json()
    assert r.json()["referral"]["status"] == "reversed"
    assert r.json()["referral"]["points_taken_back"] == 140
    assert r.json()["points_due"] == 3  # the refund's own body is unchanged
    assert Referral.objects.get().status == "reversed"
    assert balance_of(member.pk) == (0, 0)
    assert balance_of(Member.objects.get(external_id=new).pk) == (0, 0)
    assert_ledger_balanced()


def test_a_partial_refund_that_keeps_the_minimum_keeps_the_reward(referral_program, member, register, buy, api,
                                                                  code_of):
    new = _refer(register, code_of(member))[0]
    buy(new, amount="50.00", order_id="Q-2")
    r = api.post("/api/v1/orders/Q-2/refunds", {"amount": "30.00"})
    assert r.status_code == 201 and "referral" not in r.json()
    assert balance_of(member.pk) == (100, 0)
    r = api.post("/api/v1/orders/Q-2/refunds", {"amount": "0.01"})  # now below the minimum of 20.00
    assert r.json()["referral"]["status"] == "reversed"
    assert balance_of(member.pk) == (0, 0)
    assert_ledger_balanced()


def test_a_reward_already_spent_is_taken_from_other_points_and_the_rest_is_a_shortfall(referral_program, member,
                                                                                     register, buy, api, code_of):
    new = _refer(register, code_of(member))[0]
    buy(new, amount="30.00", order_id="Q-3")
    api.post("/api/v1/redemptions", {"member": member.external_id, "points": 80})
    buy(member.external_id, amount="50.00")  # the referrer earns 5 points of their own
    r = api.post("/api/v1/orders/Q-3/refunds", {"amount": "30.00"})
    assert r.json()["referral"]["points_taken_back"] == 25
    taking = Transaction.objects.get(member=member, kind=Transaction.Kind.REFUND)
    assert taking.details["shortfall"] == 75
    assert balance_of(member.pk) == (0, 0)
    assert_ledger_balanced()


def test_monthly_cap(make_program, member, register, buy, code_of):
    make_program(monthly_cap=2)
    news = _refer(register, code_of(member), 3)
    for new in news:
        buy(new)
    statuses = list(Referral.objects.order_by("id").values_list("status", flat=True))
    assert statuses == ["rewarded", "rewarded", "qualified"]
    assert "monthly_cap" in Referral.objects.order_by("id").last().reasons
    assert balance_of(member.pk) == (200, 0)
    with time_machine.travel(timezone.now() + timedelta(days=32)):
        later = _refer(register, code_of(member))[0]
        buy(later)
    assert balance_of(member.pk) == (300, 0)


def test_total_cap(make_program, member, register, buy, code_of):
    make_program(total_cap=2, welcome_points=10)
    for new in _refer(register, code_of(member), 3):
        buy(new)
    assert balance_of(member.pk) == (200, 0)
    last = Referral.objects.order_by("id").last()
    assert last.status == "qualified" and "total_cap" in last.reasons
    assert _points(last.referred, "welcome") == 10  # the new member still gets their welcome


def test_second_level_is_off_by_default(referral_program, member, register, buy, code_of):
    middle = _refer(register, code_of(member))[0]
    buy(middle)
    end = _refer(register, code_of(Member.objects.get(external_id=middle)))[0]
    buy(end)
    assert balance_of(member.pk) == (100, 0)


def test_second_level_pays_a_share_to_the_referrers_referrer_and_stops_there(make_program, member, register, buy,
                                                                             code_of):
    make_program(second_level=True, second_level_percent=20)
    second = Member.objects.get(external_id=_refer(register, code_of(member))[0])
    buy(second.external_id)
    third = Member.objects.get(external_id=_refer(register, code_of(second))[0])
    buy(third.external_id)
    fourth = _refer(register, code_of(third))[0]
    buy(fourth)
    assert _points(member, "second_level") == 20  # for the third; nothing for the fourth: two levels only
    assert balance_of(member.pk) == (120, 0)
    assert _points(second, "second_level") == 20
    assert_ledger_balanced()


def test_referral_endpoints_show_code_referrals_and_earnings(make_program, member, register, buy, api, code_of):
    make_program(second_level=True)
    new = _refer(register, code_of(member))[0]
    buy(new)
    r = api.get(f"/api/v1/members/{member.external_id}/referrals")
    assert r.status_code == 200
    body = r.json()
    assert body["code"] == code_of(member)
    assert body["earned"] == {"points": 100, "pending": 0, "second_level": 0}
    assert [(x["member"], x["status"], x["points"]) for x in body["referrals"]] == [(new, "rewarded", 100)]
    r = api.get(f"/api/v1/members/{new}/referrals")
    assert r.json()["referred_by"] == {"code": code_of(member), "status": "rewarded"}


def test_member_token_sees_their_own_referrals(referral_program, member, register, api, code_of):
    _refer(register, code_of(member))
    token = api.post(f"/api/v1/members/{member.external_id}/tokens", idempotency_key=False).json()["token"]
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    r = api.get("/api/v1/me/referrals")
    assert r.status_code == 200
    assert r.json()["code"] == code_of(member)
    assert "member" not in r.json()["referrals"][0]


def test_a_closed_referrers_referrer_gets_no_second_level_share(make_program, member, register, buy, code_of):
    make_program(second_level=True, second_level_percent=20)
    second = Member.objects.get(external_id=_refer(register, code_of(member))[0])
    buy(second.external_id)
    third = _refer(register, code_of(second))[0]
    Member.objects.filter(pk=member.pk).update(status=Member.Status.CLOSED)
    buy(third)
    assert _points(member, "second_level") == 0
    assert _points(second, "referrer") == 100
    assert_ledger_balanced()


def test_an_order_backdated_to_before_joining_does_not_qualify(referral_program, member, register, buy, code_of):
    new = _refer(register, code_of(member))[0]
    r = buy(new, amount="90.00", occurred_at=(timezone.now() - timedelta(days=2)).isoformat())
    assert r.status_code == 201 and "referral" not in r.json()
    assert Referral.objects.get().status == "pending"
