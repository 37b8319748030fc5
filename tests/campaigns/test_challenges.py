"""Challenges: progress kept as events and orders arrive, shown to the member, rewarded once; streaks of weekly
orders in the member's time zone."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from rest_framework.test import APIClient

from campaigns.models import Challenge, ChallengeProgress
from loyalty.models import Account, Transaction
from rewards.models import Voucher
from tests.campaigns.conftest import views

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)  # a Friday


@pytest.fixture
def five_courses(db, course_viewed, course_coupon):
    return Challenge.objects.create(code="five-courses", title={"en": "Watch 5 courses in a week",
                                                                 "zh-hans": "一周内观看5门课程"},
                                    kind=Challenge.Kind.COUNT, event_type=course_viewed, times=5, within_days=7,
                                    active=True, bonus_points=200, reward=course_coupon)


@pytest.fixture
def weekly_orders(db):
    return Challenge.objects.create(code="four-weeks", title={"en": "Order every week for 4 weeks",
                                                               "zh-hans": "连续4周每周下单"},
                                    kind=Challenge.Kind.STREAK, weeks=4, active=True, bonus_points=500)


def push(api, events):
    return api.post("/api/v1/events", {"events": events})


def challenges(api, member) -> dict:
    r = api.get(f"/api/v1/members/{member.external_id}/challenges")
    assert r.status_code == 200, r.json()
    return {c["code"]: c for c in r.json()["results"]}


def order(api, member, order_id, at):
    with time_machine.travel(at, tick=False):
        r = api.post("/api/v1/orders", {"member": member.external_id, "order_id": order_id, "amount": "10.00",
                                         "currency": "EUR"})
    assert r.status_code == 201, r.json()


def test_progress_shows_and_completion_pays_once(api, member, five_courses):
    with time_machine.travel(NOW, tick=False):
        before = challenges(api, member)["five-courses"]
        assert (before["status"], before["progress"], before["target"]) == ("not_started", 0, 5)
        push(api, views(member, 3, NOW - timedelta(days=2), step_minutes=60))
        shown = challenges(api, member)["five-courses"]
        assert shown["status"] == "in_progress" and shown["progress"] == 3
        assert shown["title"] == "Watch 5 courses in a week" and shown["due_by"].startswith("2026-11-25")
        push(api, views(member, 4, NOW - timedelta(hours=6), prefix="b-", step_minutes=60))  # 7 in the week
        push(api, views(member, 3, NOW - timedelta(hours=2), prefix="c-", step_minutes=10))  # more: no second pay
        done = challenges(api, member)["five-courses"]
    assert done["status"] == "completed" and done["progress"] == 5 and done["points"] == 200 and done["voucher"]
    assert Account.objects.get(member=member).available == 200
    assert Transaction.objects.filter(kind=Transaction.Kind.BONUS, reference="challenge:five-courses").count() == 1
    assert Voucher.objects.filter(member=member).count() == 1
    assert ChallengeProgress.objects.filter(completed_at__isnull=False).count() == 1


def test_a_window_that_runs_out_starts_over(api, member, five_courses):
    with time_machine.travel(NOW, tick=False):
        push(api, views(member, 4, NOW - timedelta(days=10), step_minutes=60))  # 4 of 5, ten days ago
        assert challenges(api, member)["five-courses"]["status"] == "expired"
        push(api, views(member, 2, NOW - timedelta(hours=3), prefix="n-", step_minutes=60))  # a new window
        shown = challenges(api, member)["five-courses"]
    assert shown["status"] == "in_progress" and shown["progress"] == 2
    assert Account.objects.get(member=member).available == 0


def test_a_streak_kept_pays_and_a_broken_one_starts_again(api, member_factory, weekly_orders):
    kept = member_factory(timezone="Asia/Shanghai")
    # Sunday 23:30 in Shanghai is still that week there (Sunday 15:30 UTC); the next order is Monday there.
    weeks = [datetime(2026, 11, 1, 15, 30, tzinfo=UTC), datetime(2026, 11, 2, 16, 30, tzinfo=UTC),
             datetime(2026, 11, 12, 2, tzinfo=UTC), datetime(2026, 11, 18, 9, tzinfo=UTC)]
    for i, at in enumerate(weeks):
        order(api, kept, f"K-{i}", at)
    with time_machine.travel(weeks[-1] + timedelta(hours=1), tick=False):
        streak = challenges(api, kept)["four-weeks"]
    assert streak["status"] == "completed" and streak["points"] == 500

    broken = member_factory()
    for i, at in enumerate([datetime(2026, 11, 2, 9, tzinfo=UTC), datetime(2026, 11, 9, 9, tzinfo=UTC),
                            datetime(2026, 11, 23, 9, tzinfo=UTC)]):  # no order in the week of 16 November
        order(api, broken, f"B-{i}", at)
    with time_machine.travel(datetime(2026, 11, 23, 10, tzinfo=UTC), tick=False):
        streak = challenges(api, broken)["four-weeks"]
        assert streak["status"] == "in_progress" and streak["progress"] == 1  # started over
    with time_machine.travel(datetime(2026, 12, 7, 1, tzinfo=UTC), tick=False):  # no order the week after: broken
        assert challenges(api, broken)["four-weeks"]["status"] == "expired"
    assert Transaction.objects.filter(member=broken, kind=Transaction.Kind.BONUS).count() == 0


def test_the_member_reads_their_own_challenges(api, member, five_courses):
    token = api.post(f"/api/v1/members/{member.external_id}/tokens").json()["token"]
    app = APIClient()
    app.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    member.language = "zh-hans"
    member.save(update_fields=["language"])
    r = app.get("/api/v1/me/challenges")
    assert r.status_code == 200 and r.json()["results"][0]["title"] == "一周内观看5门课程"


def test_a_completion_the_ledger_cannot_pay_still_counts_and_its_events_are_recorded(api, member, five_courses):
    """A member past the balance limit completes the challenge: the events are recorded and the completion with
    them (its voucher too), paying no points, where the ledger's refusal used to refuse the whole batch of events."""
    from core.fields import MAX_BALANCE

    Account.objects.update_or_create(member=member, defaults={"available": MAX_BALANCE - 5})
    with time_machine.travel(NOW, tick=False):
        r = push(api, views(member, 5, NOW - timedelta(hours=6), step_minutes=60))
        assert r.status_code in (200, 201), r.json()
        done = challenges(api, member)["five-courses"]
    assert done["status"] == "completed" and done["points"] == 0 and done["voucher"]
    assert Account.objects.get(member=member).available == MAX_BALANCE - 5
    assert not Transaction.objects.filter(reference="challenge:five-courses").exists()
