"""Order-triggered campaigns: the bonus is paid with the order, once, whatever is replayed; a budget stops them."""

from decimal import Decimal

import pytest
from django.db import transaction

from campaigns.models import Campaign, Firing
from campaigns.services import order_campaigns_apply
from loyalty import locks
from loyalty.models import Order, Transaction
from members.models import Notification


def order(api, member, order_id="O-1", amount="100.00", idempotency_key=None, **extra):
    return api.post("/api/v1/orders", {"member": member.external_id, "order_id": order_id, "amount": amount,
                                       "currency": "EUR", **extra}, idempotency_key=idempotency_key)


def balance(api, member) -> int:
    return api.get(f"/api/v1/members/{member.external_id}/balance").json()["available"]


@pytest.fixture
def big_order_bonus(db):
    return Campaign.objects.create(code="big-order", name="Big order bonus", active=True,
                                   trigger=Campaign.Trigger.ORDER, order_min_amount=Decimal("50.00"),
                                   bonus_points=100, once_per_member=False,
                                   message_text={"en": "100 bonus points for your order!"})


def test_an_order_campaign_pays_its_bonus_once_per_order_under_replays(api, member, big_order_bonus):
    first = order(api, member, idempotency_key="k1")
    assert first.status_code == 201
    assert balance(api, member) == 10 + 100  # 1 point per 10.00, and the campaign's bonus

    assert order(api, member, idempotency_key="k1").headers["Idempotent-Replayed"] == "true"
    assert order(api, member, idempotency_key="k2").status_code in (200, 201, 409)  # same order id, new key
    with transaction.atomic():  # a rerun of the evaluation itself (a retried job, a bug) finds the firing
        with locks.members_locked([member.pk]):
            assert order_campaigns_apply(order=Order.objects.get(), channel_id=Order.objects.get().channel_id) == []

    assert balance(api, member) == 110
    bonus = Transaction.objects.get(kind=Transaction.Kind.BONUS)
    assert bonus.points == 100 and bonus.reference == "campaign:big-order"
    assert Firing.objects.get().transaction == bonus
    assert Notification.objects.filter(member=member, kind="campaign").count() == 1

    order(api, member, order_id="O-2")
    assert balance(api, member) == 220  # another order fires again (not once per member)
    order(api, member, order_id="O-3", amount="20.00")
    assert balance(api, member) == 222  # below the campaign's minimum amount: no bonus


def test_once_per_member_pays_only_the_first_order(api, member, big_order_bonus):
    big_order_bonus.once_per_member = True
    big_order_bonus.save()
    order(api, member, order_id="O-1")
    order(api, member, order_id="O-2")
    assert balance(api, member) == 10 + 100 + 10


def test_a_budget_in_points_stops_the_campaign(api, member_factory, big_order_bonus):
    big_order_bonus.budget_points = 250
    big_order_bonus.save()
    first, second, third = member_factory(), member_factory(), member_factory()
    for m in (first, second, third):
        assert order(api, m, order_id=f"O-{m.pk}").status_code == 201
    assert [balance(api, m) for m in (first, second, third)] == [110, 110, 10]
    big_order_bonus.refresh_from_db()
    assert big_order_bonus.spent_points == 200
    assert Firing.objects.count() == 2


def test_conditions_on_store_and_tier(api, member, big_order_bonus):
    from members.models import Tier, TierStatus

    big_order_bonus.stores, big_order_bonus.tiers = ["paris"], ["gold"]
    big_order_bonus.save()
    order(api, member, order_id="O-1", store="paris")
    assert balance(api, member) == 10  # no tier
    gold = Tier.objects.create(code="gold", name="Gold", rank=5)
    TierStatus.objects.update_or_create(member=member, defaults={"tier": gold})
    order(api, member, order_id="O-2", store="lyon")
    assert balance(api, member) == 20  # wrong store
    order(api, member, order_id="O-3", store="paris")
    assert balance(api, member) == 130
