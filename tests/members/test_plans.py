from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from members.models import MembershipSettings, Notification, Subscription, SubscriptionEvent, TierStatus
from members.services import membership_reminders_send, subscriptions_expire_due

pytestmark = pytest.mark.usefixtures("tiers", "membership")


def start(api, member, **body):
    return api.post(f"/api/v1/members/{member.external_id}/subscriptions", {"plan": "plus", **body})


def test_a_paid_plan_applies_its_tier_floor_and_multiplier_at_once(api, member, plus_plan):
    r = start(api, member, payment_reference="pay-1", amount="9.99", currency="EUR")
    assert r.status_code == 201, r.json()
    assert r.json()["status"] == "active"
    assert TierStatus.objects.get(member=member).tier.code == "silver"
    order = api.post("/api/v1/orders", {"member": member.external_id, "order_id": "o1", "amount": "100.00",
                                        "currency": "EUR"}).json()
    assert order["points"] == 20 and order["transaction"]["multiplier"] == "2.000"


@pytest.mark.parametrize(("combination", "expected"), [("highest", 20), ("multiply", 25)])
def test_tier_and_plan_multipliers_combine_as_configured(api, member, plus_plan, membership, combination, expected):
    membership.combination = combination
    membership.save()
    start(api, member, payment_reference="pay-1")   # silver floor (x1.25) and plan x2
    order = api.post("/api/v1/orders", {"member": member.external_id, "order_id": "o1", "amount": "100.00",
                                        "currency": "EUR"}).json()
    assert order["points"] == expected


def test_trial_then_no_second_trial(api, member, plus_plan):
    r = start(api, member, trial=True)
    assert r.status_code == 201 and r.json()["status"] == "trialing"
    sub = Subscription.objects.get()
    assert (sub.current_period_end - sub.current_period_start).days == 14
    api.post(f"/api/v1/members/{member.external_id}/subscriptions/{sub.pk}/cancel", {"immediately": True})
    r = start(api, member, trial=True)
    assert r.status_code == 422 and r.json()["error"]["code"] == "trial_used"


def test_renewal_extends_the_period_and_a_payment_counts_once(api, member, plus_plan):
    sub_id = start(api, member, payment_reference="pay-1").json()["id"]
    first_end = Subscription.objects.get().current_period_end
    url = f"/api/v1/members/{member.external_id}/subscriptions/{sub_id}/renew"
    assert api.post(url, {"payment_reference": "pay-2"}).status_code == 200
    assert api.post(url, {"payment_reference": "pay-2"}).status_code == 200  # a new key, the same payment
    sub = Subscription.objects.get()
    assert sub.current_period_start == first_end
    assert SubscriptionEvent.objects.filter(kind="renewed").count() == 1


def test_cancel_at_period_end_keeps_benefits_until_then(api, member, plus_plan):
    sub_id = start(api, member, payment_reference="pay-1").json()["id"]
    r = api.post(f"/api/v1/members/{member.external_id}/subscriptions/{sub_id}/cancel", {})
    assert r.status_code == 200 and r.json()["status"] == "active" and r.json()["cancel_at_period_end"]
    end = Subscription.objects.get().current_period_end
    assert subscriptions_expire_due(now=end - timedelta(minutes=1)) == 0
    assert subscriptions_expire_due(now=end) == 1
    assert subscriptions_expire_due(now=end) == 0    # run twice, one effect
    assert Subscription.objects.get().status == "expired"
    assert SubscriptionEvent.objects.filter(kind="expired").count() == 1


def test_immediate_cancel_records_the_refund(api, member, plus_plan):
    sub_id = start(api, member, payment_reference="pay-1").json()["id"]
    r = api.post(f"/api/v1/members/{member.external_id}/subscriptions/{sub_id}/cancel",
                 {"immediately": True, "refund_amount": "5.00"})
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    assert r.json()["events"][-1]["refund_amount"] == "5.00"
    again = api.post(f"/api/v1/members/{member.external_id}/subscriptions/{sub_id}/cancel", {"immediately": True})
    assert again.status_code == 409


def test_one_time_pass_ends_and_cannot_be_renewed(api, member, year_pass):
    r = api.post(f"/api/v1/members/{member.external_id}/subscriptions", {"plan": "pass", "payment_reference": "p"})
    sub_id = r.json()["id"]
    r = api.post(f"/api/v1/members/{member.external_id}/subscriptions/{sub_id}/renew", {"payment_reference": "q"})
    assert r.status_code == 422 and r.json()["error"]["code"] == "subscription_not_renewable"
    assert subscriptions_expire_due(now=timezone.now() + timedelta(days=366)) == 1


def test_reminders_before_renewal_and_before_the_end_once_each(api, member, member_factory, plus_plan, year_pass):
    s = MembershipSettings.current()
    s.renewal_reminder_days = s.expiry_reminder_days = 7
    s.save()
    start(api, member, payment_reference="pay-1")
    other = member_factory()
    api.post(f"/api/v1/members/{other.external_id}/subscriptions", {"plan": "pass", "payment_reference": "p"})
    soon = Subscription.objects.get(member=member).current_period_end - timedelta(days=3)
    assert membership_reminders_send(now=soon) == 1
    assert membership_reminders_send(now=soon) == 0
    assert Notification.objects.get().kind == "membership_renewal_reminder"
    with time_machine.travel(timezone.now() + timedelta(days=362)):
        assert membership_reminders_send() == 1
    assert Notification.objects.filter(member=other, kind="membership_expiry_reminder").count() == 1


@pytest.mark.parametrize(("body", "status", "code"), [
    ({"plan": "nope", "payment_reference": "x"}, 404, "plan_not_found"),
    ({"plan": "plus"}, 422, "invalid"),
    ({"plan": "plus", "payment_reference": "x", "amount": "-1"}, 400, "invalid"),
    ({"plan": "plus", "payment_reference": "x", "currency": "USD"}, 422, "currency_not_supported"),
    ({"plan": "plus", "payment_reference": "x", "colour": "red"}, 400, "invalid"),
    ({"plan": 12, "trial": "maybe"}, 400, "invalid"),
])
def test_bad_subscription_starts(api, member, plus_plan, body, status, code):
    r = api.post(f"/api/v1/members/{member.external_id}/subscriptions", body)
    assert r.status_code == status, r.json()
    assert r.json()["error"]["code"] == code
    assert not Subscription.objects.exists()


def test_bad_renewals_and_cancels(api, member, plus_plan):
    base = f"/api/v1/members/{member.external_id}/subscriptions"
    assert api.post(f"{base}/999/renew", {"payment_reference": "x"}).status_code == 404
    assert api.post(f"{base}/999/cancel", {}).status_code == 404
    sub_id = start(api, member, payment_reference="pay-1").json()["id"]
    assert start(api, member, payment_reference="pay-9").status_code == 409
    assert api.post(f"{base}/{sub_id}/renew", {}).status_code == 400
    r = api.post(f"{base}/{sub_id}/cancel", {"refund_amount": "3.00"})
    assert r.status_code == 422
    assert Subscription.objects.get().cancel_at_period_end is False
    assert api.get("/api/v1/members/ghost/subscriptions").status_code == 404
    assert api.get("/api/v1/plans").json()[0]["code"] == "plus"
