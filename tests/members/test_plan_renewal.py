"""Renewals keep the membership's day, and a payment a little late still continues it."""

from datetime import UTC, datetime

import pytest
import time_machine

from members.models import Notification, Subscription
from members.services import subscriptions_expire_due

pytestmark = pytest.mark.usefixtures("tiers", "membership")


def at(*args):
    return time_machine.travel(datetime(*args, tzinfo=UTC), tick=False)


def renew(api, member, sub_id, ref):
    return api.post(f"/api/v1/members/{member.external_id}/subscriptions/{sub_id}/renew", {"payment_reference": ref})


def test_monthly_periods_keep_the_day_they_started_on(api, member, plus_plan):
    with at(2026, 1, 31, 10):
        sub_id = api.post(f"/api/v1/members/{member.external_id}/subscriptions",
                          {"plan": "plus", "payment_reference": "jan"}).json()["id"]
    with at(2026, 2, 28, 9):
        body = renew(api, member, sub_id, "feb").json()
    assert body["current_period_end"].startswith("2026-03-31")
    with at(2026, 3, 30, 9):
        body = renew(api, member, sub_id, "mar").json()
    assert body["current_period_end"].startswith("2026-04-30")
    with at(2026, 4, 30, 9):
        body = renew(api, member, sub_id, "apr").json()
    assert body["current_period_end"].startswith("2026-05-31")


@pytest.fixture
def three_days(membership):
    membership.renewal_grace_days = 3
    membership.save()
    return membership


def test_a_payment_a_day_late_continues_the_membership(api, member, plus_plan, three_days):
    with at(2026, 1, 10, 10):
        sub_id = api.post(f"/api/v1/members/{member.external_id}/subscriptions",
                          {"plan": "plus", "payment_reference": "jan"}).json()["id"]
    with at(2026, 2, 11, 10):
        assert subscriptions_expire_due() == 0        # within the grace: not ended
        r = renew(api, member, sub_id, "feb")
    assert r.status_code == 200, r.json()
    assert r.json()["status"] == "active"
    assert r.json()["current_period_start"].startswith("2026-02-10")   # no gap, and the same day
    assert r.json()["current_period_end"].startswith("2026-03-10")
    assert not Notification.objects.filter(member=member, kind="membership_ended").exists()


def test_membership_ended_is_sent_only_after_the_renewal_grace(api, member, plus_plan, three_days):
    with at(2026, 1, 10, 10):
        sub_id = api.post(f"/api/v1/members/{member.external_id}/subscriptions",
                          {"plan": "plus", "payment_reference": "jan"}).json()["id"]
    with at(2026, 2, 12, 10):
        assert subscriptions_expire_due() == 0
        # No plan benefits between the period's end and the payment.
        tier = api.get(f"/api/v1/members/{member.external_id}/tier").json()
        assert tier["benefits"]["plan"] is None
    with at(2026, 2, 13, 10):
        assert subscriptions_expire_due() == 1
    assert Notification.objects.filter(member=member, kind="membership_ended").count() == 1
    with at(2026, 2, 13, 11):
        r = renew(api, member, sub_id, "feb")
    assert r.status_code == 422 and r.json()["error"]["code"] == "subscription_not_live"
    assert Subscription.objects.get().status == "expired"


def test_a_membership_cancelled_at_the_periods_end_ends_at_once(api, member, plus_plan, three_days):
    with at(2026, 1, 10, 10):
        sub_id = api.post(f"/api/v1/members/{member.external_id}/subscriptions",
                          {"plan": "plus", "payment_reference": "jan"}).json()["id"]
        api.post(f"/api/v1/members/{member.external_id}/subscriptions/{sub_id}/cancel", {})
    with at(2026, 2, 10, 10):
        assert subscriptions_expire_due() == 1

