import uuid
from decimal import Decimal

import pytest
from django.core.cache import cache

from referrals.models import Program, ProgramStep
from referrals.services import referral_code_ensure


@pytest.fixture(autouse=True)
def _fresh_throttle_counts():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def make_program(db):
    def _make(steps=None, **fields):
        Program.objects.filter(active=True).update(active=False)
        defaults = dict(name="Refer a friend", active=True, kind=Program.Kind.SINGLE_TIER, referrer_points=100,
                        welcome_points=0, min_order_amount=Decimal("20.00"), qualify_days=30, attach_days=7)
        if steps:
            defaults["kind"] = Program.Kind.MULTI_TIER
        program = Program.objects.create(**{**defaults, **fields})
        for from_count, points in (steps or {}).items():
            ProgramStep.objects.create(program=program, from_count=from_count, points=points)
        return program
    return _make


@pytest.fixture
def referral_program(make_program):
    return make_program()


@pytest.fixture
def code_of(db):
    return lambda member: referral_code_ensure(member=member).code


@pytest.fixture
def register(api):
    def _register(external_id=None, code=None, **fields):
        body = {"external_id": external_id or f"new-{uuid.uuid4().hex[:10]}", **fields}
        if code is not None:
            body["referral_code"] = code
        return api.post("/api/v1/members", body)
    return _register


@pytest.fixture
def buy(api):
    def _buy(member_external_id, amount="50.00", order_id=None, **fields):
        return api.post("/api/v1/orders", {"member": member_external_id, "order_id": order_id or uuid.uuid4().hex,
                                           "amount": amount, "currency": "EUR", **fields})
    return _buy
