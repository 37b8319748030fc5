from decimal import Decimal

import pytest

from members.models import MembershipSettings, Plan, Tier


@pytest.fixture
def tiers(db):
    return {
        "bronze": Tier.objects.create(code="bronze", name="Bronze", rank=1, threshold=Decimal(0)),
        "silver": Tier.objects.create(code="silver", name="Silver", rank=2, threshold=Decimal(100),
                                      earn_multiplier=Decimal("1.25"), perks=["free_shipping"]),
        "gold": Tier.objects.create(code="gold", name="Gold", rank=3, threshold=Decimal(500),
                                    earn_multiplier=Decimal("1.5"), perks=["free_shipping", "priority_service"]),
    }


@pytest.fixture
def membership(db):
    s = MembershipSettings.current()
    s.basis, s.window = MembershipSettings.Basis.POINTS, MembershipSettings.Window.ROLLING_12_MONTHS
    s.downgrade_grace_days, s.downgrade_warning_days, s.max_steps_down = 30, 10, 1
    s.combination = MembershipSettings.Combination.HIGHEST
    s.save()
    return s


@pytest.fixture
def plus_plan(tiers):
    return Plan.objects.create(code="plus", name="Plus", kind=Plan.Kind.SUBSCRIPTION, period=Plan.Period.MONTH,
                               price=Decimal("9.99"), currency="EUR", trial_days=14, earn_multiplier=Decimal("2"),
                               tier_floor=tiers["silver"], perks=["member_prices"])


@pytest.fixture
def year_pass(tiers):
    return Plan.objects.create(code="pass", name="Year pass", kind=Plan.Kind.ONE_TIME, duration_days=365,
                               price=Decimal("49.00"), currency="EUR")
