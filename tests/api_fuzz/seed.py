"""The program the fuzz run works against: a shop key with every scope, a member `c-1042` with orders, a
redemption, a hold, a voucher and a paid membership, so that the ids in paths name things that exist; and a
second member whose token the self-service operations use (the fuzzer issues and revokes c-1042's tokens)."""

import uuid
from dataclasses import dataclass
from decimal import Decimal

from rest_framework.test import APIClient

from core.models import Channel, Scope
from core.services import api_key_create
from loyalty.models import ProgramSettings
from members.models import Plan, Tier
from rewards.models import Cause, RedemptionRules, Reward

MEMBER = "c-1042"
SELF_SERVICE_MEMBER = "c-2001"


@dataclass
class Seeded:
    api_key: str
    member_token: str
    order_id: str
    redemption_id: int
    hold_id: int
    subscription_id: int
    voucher_code: str
    referral_code: str


def _post(client: APIClient, path: str, body: dict) -> dict:
    r = client.post(path, body, format="json", headers={"Idempotency-Key": uuid.uuid4().hex})
    assert r.status_code in (200, 201), (path, r.status_code, r.content[:500])
    return r.json()


def seed_program() -> Seeded:
    program = ProgramSettings.current()
    program.currency, program.earn_points, program.earn_amount, program.pending_days = "EUR", 1, Decimal("1.00"), 0
    program.save()
    rules = RedemptionRules.current()
    rules.points_per_unit, rules.min_order_value, rules.max_order_share, rules.min_balance = 100, Decimal("0"), 100, 0
    rules.save()
    silver = Tier.objects.create(code="silver", name="Silver", rank=2, threshold=500, earn_multiplier=Decimal("1.25"))
    Tier.objects.create(code="bronze", name="Bronze", rank=1, threshold=0)
    Plan.objects.create(code="plus", name="Plus", kind=Plan.Kind.SUBSCRIPTION, period=Plan.Period.MONTH,
                        price=Decimal("4.99"), currency="EUR", trial_days=14, tier_floor=silver)
    Reward.objects.create(code="coffee", name="Free coffee", kind=Reward.Kind.PRODUCT_VOUCHER, points_cost=30,
                          product_sku="COF-1")
    Reward.objects.create(code="tree", name="Plant a tree", kind=Reward.Kind.DONATION, points_cost=10,
                          cause=Cause.objects.create(code="trees", name="Plant trees"))

    _, raw = api_key_create(channel=Channel.named("webshop"), name="fuzz", scopes=list(Scope.values))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    for external_id in (MEMBER, SELF_SERVICE_MEMBER):
        registered = _post(client, "/api/v1/members", {"external_id": external_id, "name": "Ada Lovelace",
                                                       "email": f"{external_id}@example.com"})
        for n in range(3):
            _post(client, "/api/v1/orders", {"member": external_id, "order_id": f"{external_id}-A-{n}",
                                             "amount": "250.00", "currency": "EUR",
                                             "lines": [{"sku": "COF-1", "category": "coffee", "amount": "250.00"}]})
        if external_id == MEMBER:
            referral_code = registered["referral_code"]
    redemption = _post(client, "/api/v1/redemptions", {"member": MEMBER, "points": 100})
    _post(client, "/api/v1/redemptions", {"member": SELF_SERVICE_MEMBER, "reward": "coffee"})
    voucher = _post(client, "/api/v1/redemptions", {"member": MEMBER, "reward": "coffee"})["vouchers"][0]["code"]
    hold = _post(client, "/api/v1/checkout/holds", {"member": MEMBER, "order_id": f"{MEMBER}-H", "points": 50,
                                                    "order_value": "20.00", "currency": "EUR"})
    subscription = _post(client, f"/api/v1/members/{MEMBER}/subscriptions", {"plan": "plus", "trial": True})
    token = _post(client, f"/api/v1/members/{SELF_SERVICE_MEMBER}/tokens", {})["token"]
    return Seeded(api_key=raw, member_token=token, order_id=f"{MEMBER}-A-0", redemption_id=redemption["id"],
                  hold_id=hold["id"], subscription_id=subscription["id"], voucher_code=voucher,
                  referral_code=referral_code)
