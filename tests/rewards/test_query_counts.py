"""Round trips on the hot paths, counted: a query removed once must not come back unnoticed.

The counts are whole requests through the API (key, idempotency claim and answer included), measured when the
guards were set: earn 22, redeem 17 (18 before the flows), refund 28 (33 before), balance 10 (7 once it read the
member, account, lots and tier in one query; 6 once that statement read the live subscription too). The tests
cache nothing (SETTINGS_CACHE_SECONDS=0), so these counts include the reads of program settings, tiers and the API
key; a process in production keeps those, and `test_*_as_a_warm_process_*` count what is left then.
"""

from decimal import Decimal

import pytest
from django.test import override_settings

from core import authentication, cache
from members.models import Plan, Tier
from members.services import subscription_start

pytestmark = pytest.mark.usefixtures("rules")


@pytest.fixture
def shop(api, member, give):
    give(member, 1000)
    # A first order: the member's tier status and monthly activity rows exist, as for any returning customer.
    api.post("/api/v1/orders", {"member": member.external_id, "order_id": "FIRST", "amount": "100.00",
                                "currency": "EUR"})
    return api


def test_an_earn_takes_at_most_22_queries(shop, member, django_assert_max_num_queries):
    # 18: the ledger's account, transaction, order, lot and movement in one statement (was five); one upsert of the
    # member's insight facts, one read each of the order campaigns and of the live challenges (both cached outside
    # the tests), and the take of a campaign's pending multiplier (one indexed UPDATE ... RETURNING)
    with django_assert_max_num_queries(22):
        r = shop.post("/api/v1/orders", {"member": member.external_id, "order_id": "Q1", "amount": "100.00",
                                         "currency": "EUR"})
    assert r.status_code == 201


def test_a_redemption_takes_at_most_17_queries(shop, member, django_assert_max_num_queries):
    with django_assert_max_num_queries(17):
        r = shop.post("/api/v1/redemptions", {"member": member.external_id, "points": 5})
    assert r.status_code == 201


def test_a_refund_takes_at_most_29_queries(shop, member, django_assert_max_num_queries):
    with django_assert_max_num_queries(29):  # 28, and one update of the member's insight facts
        r = shop.post("/api/v1/orders/FIRST/refunds", {"amount": "50.00"})
    assert r.status_code == 201


def test_a_balance_read_takes_at_most_6_queries(shop, member, django_assert_max_num_queries):
    with django_assert_max_num_queries(6):
        r = shop.get(f"/api/v1/members/{member.external_id}/balance")
    assert r.status_code == 200


@pytest.fixture
def warm(shop, member):
    """A web process in production: settings, tiers and the API key are kept between requests. The member is in
    a tier, with lots that expire, as a returning customer."""
    Tier.objects.create(code="silver", name="Silver", rank=1, threshold=0)
    shop.post("/api/v1/orders", {"member": member.external_id, "order_id": "SECOND", "amount": "30.00",
                                 "currency": "EUR"})
    with override_settings(SETTINGS_CACHE_SECONDS=600, API_KEY_CACHE_SECONDS=600):
        cache.forget()
        authentication._cache.clear()
        shop.post("/api/v1/orders", {"member": member.external_id, "order_id": "THIRD", "amount": "0.50",
                                     "currency": "EUR"})  # fills the process's caches
        shop.get(f"/api/v1/members/{member.external_id}/balance")
        yield shop
        cache.forget()
        authentication._cache.clear()


def test_a_balance_read_as_a_warm_process_is_one_query(warm, member, django_assert_num_queries):
    with django_assert_num_queries(1):
        r = warm.get(f"/api/v1/members/{member.external_id}/balance")
    assert r.status_code == 200
    body = r.json()
    assert (body["available"], body["lifetime_earned"]) == (1013, 13)
    assert body["tier"]["tier"]["code"] == "silver" and body["tier"]["progress"]["qualifying"] == "13"
    assert [e["points"] for e in body["expiring"]] == [1013]


def test_a_balance_read_with_a_paid_plan_as_a_warm_process_is_still_one_query(warm, member, channel,
                                                                              django_assert_num_queries):
    plan = Plan.objects.create(code="plus", name="Plus", kind=Plan.Kind.SUBSCRIPTION, period=Plan.Period.MONTH,
                               price=Decimal("9.99"), currency="EUR", earn_multiplier=Decimal("2"))
    subscription_start(member=member, plan=plan, channel_id=channel.pk, amount=Decimal("9.99"), currency="EUR",
                       payment_reference="pay-1")
    with django_assert_num_queries(1):
        r = warm.get(f"/api/v1/members/{member.external_id}/balance")
    assert r.json()["tier"]["benefits"]["plan"] == "plus"


def test_an_earn_as_a_warm_process_takes_4_statements(warm, member, django_assert_num_queries):
    """The member is in a tier, below the next one: the set-based earn (config.earn_set). 4 statements: the
    idempotency claim; the locks of the account and the tier status; one read, begun once they are held, of the
    member, their referral, boosts, plans, qualifying sums and the order ids already recorded; one write of the
    account, transaction, order, lot, movement, qualifying activity, insight facts and the stored answer. And the
    transaction's BEGIN and COMMIT, which the test's savepoint and its release stand in for. (14 before the set-based
    earn; the locks were in the read until a read that waited for them was found to see stale sums.)"""
    with django_assert_num_queries(6):
        r = warm.post("/api/v1/orders", {"member": member.external_id, "order_id": "Q2", "amount": "100.00",
                                         "currency": "EUR"})
    assert r.status_code == 201
