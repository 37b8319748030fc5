"""The lock plan: a use case locks its members at once, in member-id order, through loyalty.locks; services
assert the lock instead of taking it, so none can lock out of order behind its caller's back."""

from decimal import Decimal

import pytest
from django.db import transaction

from config import flows
from loyalty import services
from loyalty.locks import LockNotHeld, members_locked
from loyalty.models import Refund
from rewards import services as rewards


def test_a_ledger_service_refuses_to_write_without_its_members_lock(program, channel, member):
    with pytest.raises(LockNotHeld), transaction.atomic():
        services.order_earn(member=member, channel_id=channel.pk, order_id="NL-1", amount=Decimal("10.00"),
                            currency="EUR", idempotency_key="nl-1")
    order, _ = flows.order_place(member=member, channel_id=channel.pk, order_id="NL-1", amount=Decimal("10.00"),
                                 currency="EUR", idempotency_key="nl-1")
    assert order.points_earned == 1


def test_a_member_locked_after_a_higher_one_in_the_same_use_case_is_refused(member_factory):
    low, high = sorted([member_factory(), member_factory()], key=lambda m: m.pk)
    with transaction.atomic(), members_locked([high.pk]):
        with pytest.raises(LockNotHeld, match="out of order"), members_locked([low.pk]):
            pass
        with members_locked([high.pk]) as again:  # asking again for one already held is free
            assert list(again) == [high.pk]


def test_a_revoked_bonus_records_its_shortfall_where_refunds_do_and_a_cancel_recovers_it(program, channel, member):
    with transaction.atomic(), members_locked([member.pk]):
        bonus = services.points_bonus(member=member, points=100, channel_id=channel.pk, idempotency_key="bonus",
                                      reason="Referral reward")
    redemption = rewards.redemption_create(member=member, points=100, channel_id=channel.pk, idempotency_key="spend")
    with transaction.atomic(), members_locked([member.pk]):
        take_back = services.points_bonus_revoke(transaction_id=bonus.pk, channel_id=channel.pk,
                                                 idempotency_key="revoke")

    assert Refund.objects.filter(shortfall__gt=0).get() == take_back  # the staff's review queue
    assert (take_back.bonus_id, take_back.points_due, take_back.points_taken, take_back.shortfall) == (
        bonus.pk, 100, 0, 100)

    flows.redemption_cancel(redemption_id=redemption.pk, channel_id=channel.pk, idempotency_key="cancel")
    take_back.refresh_from_db()
    assert take_back.recovered == 100
    assert member.account.available == 0
