"""The lock plan: a use case locks its members at once, in member-id order, through loyalty.locks; services
assert the lock instead of taking it, so none can lock out of order behind its caller's back."""

from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from config import flows
from loyalty import services
from loyalty.locks import LockNotHeld, accounts_create, members_locked
from loyalty.models import Account, Refund
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


def test_accounts_are_created_before_a_batch_locks_them_so_one_sorted_pass_takes_every_lock(member_factory):
    old, new = member_factory(), member_factory()
    Account.objects.create(member=old, available=7)
    with transaction.atomic():
        accounts_create([new.pk, old.pk])
        with CaptureQueriesContext(connection) as queries, members_locked([old.pk, new.pk]) as held:
            pass
    assert len(queries) == 1  # every account found: no creation, no second pass out of order
    assert held[old.pk].available == 7 and held[new.pk].available == 0
