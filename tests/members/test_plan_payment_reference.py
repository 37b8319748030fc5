"""A payment reference counts once per channel, for good."""

import pytest

from members.models import Subscription, SubscriptionEvent
from tests.conftest import make_client

pytestmark = pytest.mark.usefixtures("tiers", "membership")


def start(api, member, ref):
    return api.post(f"/api/v1/members/{member.external_id}/subscriptions", {"plan": "plus", "payment_reference": ref})


def assert_reference_used(r):
    assert r.status_code == 409, r.json()
    assert r.json()["error"]["code"] == "payment_reference_used"
    assert r.json()["error"]["fields"] == {"payment_reference": ["Already used."]}


def test_another_members_payment_does_not_start_a_plan(api, member, member_factory, plus_plan):
    assert start(api, member, "pay-1").status_code == 201
    other = member_factory()
    assert_reference_used(start(api, other, "pay-1"))
    assert not Subscription.objects.filter(member=other).exists()


def test_a_payment_refunded_by_an_immediate_cancel_does_not_start_a_plan_again(api, member, plus_plan):
    sub_id = start(api, member, "pay-1").json()["id"]
    api.post(f"/api/v1/members/{member.external_id}/subscriptions/{sub_id}/cancel",
             {"immediately": True, "refund_amount": "9.99"})
    assert_reference_used(start(api, member, "pay-1"))
    assert start(api, member, "pay-2").status_code == 201


def test_a_renewal_with_a_used_payment(api, member, member_factory, plus_plan):
    other = member_factory()
    start(api, other, "pay-other")
    sub_id = start(api, member, "pay-1").json()["id"]
    url = f"/api/v1/members/{member.external_id}/subscriptions/{sub_id}/renew"
    assert_reference_used(api.post(url, {"payment_reference": "pay-other"}))
    assert api.post(url, {"payment_reference": "pay-1"}).status_code == 200  # its own payment: already recorded
    assert SubscriptionEvent.objects.filter(subscription_id=sub_id, kind="renewed").count() == 0


def test_references_are_per_channel(api, member, member_factory, plus_plan, channel):
    from core.models import Channel

    start(api, member, "pay-1")
    pos = make_client(Channel.named("pos"))
    other = member_factory()
    r = pos.post(f"/api/v1/members/{other.external_id}/subscriptions", {"plan": "plus", "payment_reference": "pay-1"})
    assert r.status_code == 201, r.json()


@pytest.mark.django_db(transaction=True)
def test_the_database_refuses_a_second_use(member, member_factory, plus_plan, channel):
    from datetime import timedelta

    from django.db import IntegrityError, transaction
    from django.utils import timezone

    sub = Subscription.objects.create(member=member, plan=plus_plan, status="active", started_at=timezone.now(),
                                      current_period_start=timezone.now(),
                                      current_period_end=timezone.now() + timedelta(days=30))
    SubscriptionEvent.objects.create(subscription=sub, kind="started", channel=channel, payment_reference="p",
                                     created_at=timezone.now())
    with pytest.raises(IntegrityError), transaction.atomic():
        SubscriptionEvent.objects.create(subscription=sub, kind="renewed", channel=channel, payment_reference="p",
                                         created_at=timezone.now())
