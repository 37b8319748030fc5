"""What keeps ingestion fast and right: an event id counts once however often it is sent, and a batch costs the same
statements whatever its size (set-based: no query per event, per member or per campaign)."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from campaigns.models import Campaign, Challenge, Event, EventCounter, EventKey, Firing
from loyalty.models import Account
from tests.campaigns.conftest import views

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(NOW, tick=False):
        yield


def push(api, events):
    r = api.post("/api/v1/events", {"events": events})
    assert r.status_code == 201, r.json()
    return r.json()


def test_an_event_id_sent_twice_in_a_batch_and_again_in_another_counts_once(api, member, course_viewed):
    Campaign.objects.create(code="per-view", name="Points per view", active=True, trigger=Campaign.Trigger.EVENT,
                            event_type=course_viewed, bonus_points=5, once_per_member=False)
    first, second, third = views(member, 3, NOW - timedelta(hours=3))
    again = first | {"attributes": {"course_id": "another"}}  # the same id: the first one sent is kept
    assert push(api, [first, second, again]) == {"recorded": 2, "duplicates": 1, "fired": 2}
    assert push(api, [second, third, third]) == {"recorded": 1, "duplicates": 2, "fired": 1}

    assert EventKey.objects.count() == Event.objects.count() == 3
    assert sum(EventCounter.objects.values_list("count", flat=True)) == 3
    assert Event.objects.get(event_id=first["event_id"]).attributes == first["attributes"]
    assert Firing.objects.count() == 3
    assert Account.objects.get(member=member).available == 15  # 5 points per event, each once


@pytest.fixture
def live(course_viewed):
    """One live campaign or challenge of each kind on the events, none of which the batches below reach: the
    evaluation runs in full and fires nothing."""
    kinds = dict(trigger=Campaign.Trigger.EVENT_COUNT, event_type=course_viewed, bonus_points=5, active=True)
    Campaign.objects.create(code="gold-view", name="Gold view", trigger=Campaign.Trigger.EVENT, tiers=["gold"],
                            event_type=course_viewed, bonus_points=5, active=True)
    Campaign.objects.create(code="binge", name="Binge", window=Campaign.Window.SLIDING, window_days=3,
                            event_count=50, once_per_member=False, **kinds)
    Campaign.objects.create(code="keen", name="Keen", window=Campaign.Window.AFTER_SIGN_UP, window_hours=24,
                            event_count=50, collect_attribute="course_id", **kinds)
    Challenge.objects.create(code="marathon", title={"en": "Marathon"}, event_type=course_viewed, times=50,
                             within_days=7, active=True, bonus_points=100)


def test_a_batch_costs_the_same_statements_whatever_its_size(api, member_factory, live):
    def batch(members: int, tag: str) -> tuple[int, dict]:
        new = [member_factory(joined_at=NOW - timedelta(hours=6)) for _ in range(members)]
        events = [e for m in new for e in views(m, 5, NOW - timedelta(hours=5), prefix=tag)]
        with CaptureQueriesContext(connection) as queries:
            answer = push(api, events)
        return len(queries), answer

    batch(1, "warm-")  # the first batch of a process reads which monthly partitions exist
    small, small_answer = batch(2, "small-")
    large, large_answer = batch(40, "large-")
    assert small_answer == {"recorded": 10, "duplicates": 0, "fired": 0}
    assert large_answer == {"recorded": 200, "duplicates": 0, "fired": 0}
    assert small == large
    # 20 with nothing cached (the tests' settings): the key, the savepoint, the idempotency claim and its answer;
    # the retention, members, types, campaigns (one per trigger) and challenges; the accounts created where missing
    # and locked; the events; the after-sign-up counts, the sliding counts and firings; the tier condition's facts;
    # the challenge attempts read and written.
    assert large <= 20
