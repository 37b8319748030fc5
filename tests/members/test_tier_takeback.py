"""A refunded purchase or a plan cancelled at once takes its tier back at once; grace is for tiers earned."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from members.models import Notification, Plan, TierChange, TierStatus
from members.services import tiers_evaluate_due
from tests.members.test_tiers import earn, tier_of

pytestmark = pytest.mark.usefixtures("tiers", "membership")


@pytest.fixture
def gold_plan(tiers):
    return Plan.objects.create(code="gold-club", name="Gold club", kind=Plan.Kind.SUBSCRIPTION,
                               period=Plan.Period.MONTH, price=Decimal("29.00"), currency="EUR",
                               tier_floor=tiers["gold"])


def nights(days):
    """The nightly evaluation on each of the next `days` nights."""
    for day in range(1, days + 1):
        tiers_evaluate_due(now=timezone.now() + timedelta(days=day))


def warnings(member):
    return Notification.objects.filter(member=member, kind="tier_downgrade_warning").count()


def test_a_plan_cancelled_at_once_with_a_refund_takes_its_tier_back_at_once(api, member, gold_plan):
    earn(api, member, "1000.00")  # silver, earned
    base = f"/api/v1/members/{member.external_id}/subscriptions"
    sub_id = api.post(base, {"plan": "gold-club", "payment_reference": "pay-1"}).json()["id"]
    assert tier_of(member) == "gold"
    r = api.post(f"{base}/{sub_id}/cancel", {"immediately": True, "refund_amount": "29.00"})
    assert r.status_code == 200, r.json()
    assert tier_of(member) == "silver"  # at once, back to what the member earned
    tier = api.get(f"/api/v1/members/{member.external_id}/tier").json()
    assert tier["tier"]["code"] == "silver" and tier["benefits"]["earn_multiplier"] == "1.250"
    assert "priority_service" not in tier["benefits"]["perks"]
    assert tier["downgrade"] is None
    order = earn(api, member, "100.00")
    assert order["transaction"]["multiplier"] == "1.250"
    nights(40)
    assert tier_of(member) == "silver" and warnings(member) == 0
    assert TierChange.objects.filter(member=member).first().reason == "taken_back"


def test_a_refunded_big_order_takes_its_tier_back_at_once(api, member):
    earn(api, member, "1000.00")                       # silver, earned
    earn(api, member, "5000.00", order_id="big")       # gold on this order
    assert tier_of(member) == "gold"
    api.post("/api/v1/orders/big/refunds", {"amount": "5000.00"})
    assert tier_of(member) == "silver"
    body = earn(api, member, "100.00")
    assert body["transaction"]["multiplier"] == "1.250"
    nights(40)
    assert tier_of(member) == "silver" and warnings(member) == 0


def test_refunding_an_old_order_that_earned_the_tier_takes_it_back(api, member):
    start = timezone.now() - timedelta(days=300)
    earn(api, member, "1000.00", order_id="early", when=start)  # silver, earned 300 days ago
    earn(api, member, "200.00", order_id="recent")
    api.post("/api/v1/orders/early/refunds", {"amount": "1000.00"})
    # The refunded order earned silver: back to what was held before it (nothing), i.e. what the member earns now.
    assert tier_of(member) == "bronze"


def test_a_refund_of_an_order_that_did_not_lift_the_member_keeps_the_usual_grace(api, member):
    earn(api, member, "1000.00")                        # silver, earned
    earn(api, member, "50.00", order_id="small")
    api.post("/api/v1/orders/small/refunds", {"amount": "50.00"})
    # 100 points left: still silver. Now the window moves on and the member falls below: the usual grace applies.
    status = TierStatus.objects.get(member=member)
    assert status.tier.code == "silver"
    later = timezone.now() + timedelta(days=400)
    tiers_evaluate_due(now=later)
    assert tier_of(member) == "silver"
    tiers_evaluate_due(now=later + timedelta(days=21))
    assert warnings(member) == 1
