from decimal import Decimal

import pytest

from loyalty.services import points_adjust
from loyalty.services.ledger import channel_id
from rewards.models import Cause, RedemptionRules, Reward


@pytest.fixture
def rules(db):
    r = RedemptionRules.current()
    r.points_per_unit, r.min_order_value, r.max_order_share, r.min_balance, r.hold_minutes = 100, Decimal("20.00"), 50, 0, 30
    r.voucher_valid_days = 30
    r.save()
    return r


@pytest.fixture
def give(db, program):
    def _give(member, points):
        return points_adjust(member=member, points=points, reason="test credit", channel_id=channel_id("admin"),
                             idempotency_key=f"give-{member.pk}-{points}-{Reward.objects.count()}-{id(object())}")
    return _give


@pytest.fixture
def coffee(db):
    return Reward.objects.create(code="coffee", name="Free coffee", kind=Reward.Kind.PRODUCT_VOUCHER, points_cost=300,
                                 product_sku="COF-1")


@pytest.fixture
def tenner(db):
    return Reward.objects.create(code="tenner", name="10.00 off", kind=Reward.Kind.FIXED_DISCOUNT, points_cost=1000,
                                 value=Decimal("10.00"), currency="EUR")


@pytest.fixture
def mug(db):
    return Reward.objects.create(code="mug", name="Mug", kind=Reward.Kind.PHYSICAL, points_cost=500, stock=5)


@pytest.fixture
def trees(db):
    cause = Cause.objects.create(code="trees", name="Plant trees")
    return Reward.objects.create(code="tree", name="Plant a tree", kind=Reward.Kind.DONATION, points_cost=100,
                                 cause=cause)
