"""Refunds meeting the other ways points leave a lot: spending, expiry, and a cancelled redemption.

A refund takes back what the refunded order earned: from the order's own lot first; what the member already
spent of it comes out of their other points, and what cannot be covered is recorded as the shortfall.
"""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
import time_machine

from config import flows
from loyalty import services
from loyalty.models import Account, Lot, Refund
from rewards import services as rewards
from tests.loyalty.invariants import assert_ledger_balanced


@pytest.fixture
def clock():
    with time_machine.travel(datetime(2030, 1, 10, 12, 0, tzinfo=UTC), tick=False) as traveller:
        yield traveller


def earn(member, channel, order_id: str, points: int):
    return flows.order_place(member=member, channel_id=channel.pk, order_id=order_id, amount=Decimal(points * 10),
                             currency="EUR", idempotency_key=f"earn-{order_id}")[0]


def refund_all(channel, order_id: str, amount: int) -> Refund:
    return flows.order_refund(channel_id=channel.pk, order_id=order_id, amount=Decimal(amount),
                              idempotency_key=f"refund-{order_id}").refund


def available(member) -> int:
    return Account.objects.get(member=member).available


def test_points_of_a_refunded_order_that_were_spent_come_out_of_the_members_other_points(program, channel, member,
                                                                                         clock):
    earn(member, channel, "SPENT", 50)
    clock.move_to(datetime(2030, 3, 1, tzinfo=UTC))
    earn(member, channel, "LATER", 30)
    rewards.redemption_create(member=member, points=50, channel_id=channel.pk, idempotency_key="redeem")  # all of SPENT

    refund = refund_all(channel, "SPENT", 500)

    assert (refund.points_due, refund.points_taken, refund.shortfall) == (50, 30, 20)
    assert available(member) == 0
    assert_ledger_balanced(member.pk)


def test_refund_of_an_order_whose_points_expired_leaves_the_members_other_points_alone(program, channel, member,
                                                                                       clock):
    earn(member, channel, "OLD", 50)  # expires 2031-01-10
    clock.move_to(datetime(2030, 11, 1, tzinfo=UTC))
    earn(member, channel, "NEW", 30)  # expires 2031-11-01
    clock.move_to(datetime(2031, 2, 1, tzinfo=UTC))
    services.points_settle_due()
    assert available(member) == 30  # OLD's 50 points are gone: the member never had the use of them

    refund = refund_all(channel, "OLD", 500)

    assert_ledger_balanced(member.pk)
    assert refund.points_taken == 0
    assert Lot.objects.get(order__order_id="NEW").remaining == 30
    assert available(member) == 30


def test_a_cancelled_redemption_does_not_revive_the_points_of_a_refunded_order(program, channel, member, clock):
    earn(member, channel, "GONE", 50)
    redemption = rewards.redemption_create(member=member, points=50, channel_id=channel.pk, idempotency_key="redeem")
    refund = refund_all(channel, "GONE", 500)
    assert (refund.points_taken, refund.shortfall) == (0, 50)  # spent: nothing to take back yet

    flows.redemption_cancel(redemption_id=redemption.pk, channel_id=channel.pk, idempotency_key="cancel")

    assert_ledger_balanced(member.pk)
    # The order was refunded in full and nothing else was earned: the member is owed nothing.
    assert available(member) == 0
    refund.refresh_from_db()
    assert refund.recovered == 50  # staff's review queue no longer shows it as owed


def test_a_partly_expired_order_refunded_in_full_writes_off_the_expired_part(program, channel, member, clock):
    earn(member, channel, "HALF", 50)
    rewards.redemption_create(member=member, points=20, channel_id=channel.pk, idempotency_key="redeem")
    clock.move_to(datetime(2031, 2, 1, tzinfo=UTC))  # HALF's remaining 30 expire
    services.points_settle_due()
    earn(member, channel, "NEW", 40)

    refund = refund_all(channel, "HALF", 500)

    # 30 had expired: written off. 20 were spent: taken from NEW's points.
    assert (refund.points_due, refund.points_expired, refund.points_taken, refund.shortfall) == (50, 30, 20, 0)
    assert available(member) == 20
    assert_ledger_balanced(member.pk)
