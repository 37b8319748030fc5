from datetime import timedelta

import pytest
from django.utils import timezone

from loyalty.models import Account, Transaction
from members.models import Tier, TierStatus
from rewards.models import Cause, Redemption, Reward, Voucher

pytestmark = pytest.mark.usefixtures("rules")


def redeem(api, member, reward, quantity=1, **kw):
    return api.post("/api/v1/redemptions", {"member": member.external_id, "reward": reward, "quantity": quantity},
                    **kw)


def test_a_voucher_reward_spends_points_and_issues_unguessable_codes(api, member, give, coffee):
    give(member, 1000)
    r = redeem(api, member, "coffee", quantity=2)
    assert r.status_code == 201, r.json()
    body = r.json()
    assert body["points"] == 600 and body["kind"] == "reward"
    codes = [v["code"] for v in body["vouchers"]]
    assert len(codes) == 2 and len(set(codes)) == 2
    assert all(len(c) == 19 and not set(c) & set("01OIL") for c in codes)
    assert Account.objects.get(member=member).available == 400


def test_each_rule_has_its_reason_code_and_numbers(api, member, member_factory, give, coffee, mug):
    give(member, 200)
    r = redeem(api, member, "coffee")
    error = r.json()["error"]
    assert r.status_code == 422
    assert (error["code"], error["needed"], error["got"]) == ("insufficient_points", 300, 200)

    coffee.valid_until = timezone.now() - timedelta(days=1)
    coffee.save()
    give(member, 1000)
    error = redeem(api, member, "coffee").json()["error"]
    assert error["code"] == "reward_expired"

    coffee.valid_until, coffee.valid_from = None, timezone.now() + timedelta(days=2)
    coffee.save()
    assert redeem(api, member, "coffee").json()["error"]["code"] == "reward_not_yet_valid"

    coffee.valid_from, coffee.active = None, False
    coffee.save()
    assert redeem(api, member, "coffee").json()["error"]["code"] == "reward_inactive"

    error = redeem(api, member, "mug", quantity=6).json()["error"]
    assert (error["code"], error["needed"], error["got"]) == ("out_of_stock", 6, 5)
    assert not Redemption.objects.exists()


def test_per_member_and_per_period_limits(api, member, give, coffee):
    coffee.per_member_limit, coffee.per_period_limit, coffee.limit_period = 3, 2, Reward.Period.MONTH
    coffee.save()
    give(member, 5000)
    assert redeem(api, member, "coffee", quantity=2).status_code == 201
    error = redeem(api, member, "coffee").json()["error"]
    assert (error["code"], error["needed"], error["got"]) == ("period_limit_reached", 2, 3)


def test_global_limit(api, member_factory, give, coffee):
    coffee.global_limit = 1
    coffee.save()
    a, b = member_factory(), member_factory()
    give(a, 500), give(b, 500)
    assert redeem(api, a, "coffee").status_code == 201
    assert redeem(api, b, "coffee").json()["error"]["code"] == "global_limit_reached"


def test_tier_only_rewards(api, member, give, coffee):
    gold = Tier.objects.create(code="gold", name="Gold", rank=3, threshold=1000)
    coffee.tiers.add(gold)
    give(member, 1000)
    error = redeem(api, member, "coffee").json()["error"]
    assert (error["code"], error["needed"], error["got"]) == ("tier_required", ["gold"], None)
    TierStatus.objects.create(member=member, tier=gold)
    assert redeem(api, member, "coffee").status_code == 201


def test_minimum_balance_rule(api, member, give, coffee, rules):
    rules.min_balance = 2000
    rules.save()
    give(member, 1000)
    error = redeem(api, member, "coffee").json()["error"]
    assert (error["code"], error["needed"], error["got"]) == ("min_balance", 2000, 1000)


def test_donations_are_summed_per_cause_and_taken_back_on_cancel(api, member_factory, give, trees):
    a, b = member_factory(), member_factory()
    give(a, 1000), give(b, 1000)
    redeem(api, a, "tree", quantity=3)
    second = redeem(api, b, "tree", quantity=2).json()
    assert Cause.objects.get(code="trees").donated_points == 500
    api.post(f"/api/v1/redemptions/{second['id']}/cancel", {})
    assert Cause.objects.get(code="trees").donated_points == 300
    assert api.get("/api/v1/causes").json()[0]["donated_points"] == 300


def test_cancel_voids_vouchers_and_restocks(api, member, give, coffee, mug):
    give(member, 2000)
    red = redeem(api, member, "coffee").json()
    api.post("/api/v1/redemptions", {"member": member.external_id, "reward": "mug"})
    assert Reward.objects.get(code="mug").stock == 4
    r = api.post(f"/api/v1/redemptions/{red['id']}/cancel", {})
    assert r.status_code == 200
    assert Voucher.objects.get(redemption_id=red["id"]).status == "void"
    mug_red = Redemption.objects.get(reward__code="mug")
    api.post(f"/api/v1/redemptions/{mug_red.pk}/cancel", {})
    assert Reward.objects.get(code="mug").stock == 5
    assert Account.objects.get(member=member).available == 2000


def test_a_used_voucher_blocks_the_cancel(api, member, give, coffee):
    give(member, 300)
    red = redeem(api, member, "coffee").json()
    api.post(f"/api/v1/vouchers/{red['vouchers'][0]['code']}/redeem", {})
    r = api.post(f"/api/v1/redemptions/{red['id']}/cancel", {})
    assert r.status_code == 409 and r.json()["error"]["code"] == "voucher_already_redeemed"
    assert Transaction.objects.filter(kind="redeem_cancel").count() == 0


def test_the_quote_says_what_the_member_can_use_without_spending(api, member, give, coffee, tenner, rules):
    give(member, 1500)
    before = Transaction.objects.count()
    body = api.post("/api/v1/quotes", {"member": member.external_id, "order_value": "80.00", "points": 5000},
                    idempotency_key=False).json()
    assert body["available"] == 1500
    assert body["checkout"]["max_points"] == 1500 and body["checkout"]["max_discount"] == "15.00"
    requested = body["checkout"]["requested"]
    assert requested["allowed"] is False
    assert {r["code"] for r in requested["reasons"]} == {"max_order_share", "insufficient_points"}
    eligible = {r["code"]: r["eligible"] for r in body["rewards"]}
    assert eligible == {"coffee": True, "tenner": True}
    small = api.post("/api/v1/quotes", {"member": member.external_id, "order_value": "15.00"},
                     idempotency_key=False).json()["checkout"]
    assert small["max_points"] == 0
    assert small["reasons"][0] == {"code": "min_order_value", "message": small["reasons"][0]["message"],
                                   "needed": "20.00", "got": "15.00"}
    assert Transaction.objects.count() == before


def test_catalog_lists_active_rewards(api, coffee, tenner):
    tenner.active = False
    tenner.save()
    body = api.get("/api/v1/rewards").json()
    assert [r["code"] for r in body] == ["coffee"]
    assert api.get("/api/v1/rewards/coffee").json()["product_sku"] == "COF-1"
    assert api.get("/api/v1/rewards/nope").status_code == 404


@pytest.mark.parametrize(("body", "status", "code"), [
    ({"reward": "nope"}, 404, "reward_not_found"),
    ({"reward": "coffee", "points": 5}, 400, "invalid"),
    ({}, 400, "invalid"),
    ({"reward": "coffee", "quantity": 0}, 400, "invalid"),
    ({"reward": "coffee", "quantity": "two"}, 400, "invalid"),
    ({"reward": "bad code!"}, 400, "invalid"),
])
def test_bad_reward_redemptions(api, member, give, coffee, body, status, code):
    give(member, 1000)
    r = api.post("/api/v1/redemptions", {"member": member.external_id, **body})
    assert r.status_code == status, r.json()
    assert r.json()["error"]["code"] == code
    assert not Redemption.objects.exists()


@pytest.mark.parametrize(("body", "status"), [
    ({"member": "ghost"}, 404),
    ({}, 400),
    ({"order_value": "-5"}, 400),
    ({"order_value": "abc"}, 400),
    ({"points": 0}, 400),
    ({"rewards": "coffee"}, 400),
    ({"basket": []}, 400),
])
def test_bad_quotes(api, member, body, status):
    body = {"member": member.external_id, **body} if "member" not in body and body != {} else body
    r = api.post("/api/v1/quotes", body, idempotency_key=False)
    assert r.status_code == status, r.json()
    assert set(r.json()) == {"error"}
