"""The events API: batches of up to 1,000, once per event id, validated against the event types, all or nothing."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from campaigns.models import Campaign, Event, EventCounter, Firing
from loyalty.models import Account
from tests.campaigns.conftest import views

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(NOW, tick=False):
        yield


def push(api, body, **kwargs):
    return api.post("/api/v1/events", body, **kwargs)


def test_a_batch_of_1000_events_is_recorded_and_counted_in_one_request(api, member_factory, course_viewed):
    members = [member_factory() for _ in range(10)]
    events = [e for m in members for e in views(m, 100, NOW - timedelta(days=3), step_minutes=40)]
    assert len(events) == 1000
    with CaptureQueriesContext(connection) as queries:
        r = push(api, {"events": events})
    assert r.status_code == 201, r.json()
    assert r.json() == {"recorded": 1000, "duplicates": 0, "fired": 0}
    assert len(queries) < 30  # set-based: not a query per event
    assert Event.objects.count() == 1000
    per_day = {(c.member_id, c.day): c.count for c in EventCounter.objects.all()}
    assert sum(per_day.values()) == 1000
    assert per_day[(members[0].pk, (NOW - timedelta(days=3)).date())] == 18  # noon to midnight, every 40 minutes

    again = push(api, {"events": events})  # another request carrying the same events: nothing twice
    assert again.json() == {"recorded": 0, "duplicates": 1000, "fired": 0}
    assert sum(EventCounter.objects.values_list("count", flat=True)) == 1000


def test_1001_events_are_refused(api, member, course_viewed):
    r = push(api, {"events": views(member, 1001, NOW - timedelta(days=30), step_minutes=1)})
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "invalid" and "events" in r.json()["error"]["fields"]


def test_one_event_alone_is_accepted(api, member, course_viewed):
    r = push(api, views(member, 1, NOW - timedelta(hours=1))[0])
    assert r.status_code == 201 and r.json()["recorded"] == 1


@pytest.mark.parametrize(("bad", "code", "field"), [
    ({"type": "course_viewd"}, "event_type_unknown", "type"),
    ({"member": "nobody"}, "event_member_unknown", "member"),
    ({"attributes": {}}, "event_attributes_invalid", "attributes"),
    ({"attributes": {"course_id": 7}}, "event_attributes_invalid", "attributes"),
    ({"attributes": {"course_id": "x", "seconds": "long"}}, "event_attributes_invalid", "attributes"),
    ({"attributes": {"course_id": "x", "price": 3}}, "event_attributes_invalid", "attributes"),
    ({"occurred_at": (NOW + timedelta(hours=1)).isoformat()}, "invalid", "occurred_at"),
])
def test_a_batch_with_one_bad_event_writes_nothing_and_says_which(api, member, course_viewed, bad, code, field):
    events = views(member, 5, NOW - timedelta(hours=5))
    events[3] |= bad
    r = push(api, {"events": events})
    assert r.status_code == 422  # well-formed, but this program cannot take it
    error = r.json()["error"]
    assert error["code"] == code and error["index"] == 3
    assert list(error["fields"]["events"]["3"]) == [field]
    assert not Event.objects.exists() and not EventCounter.objects.exists()


@pytest.mark.parametrize("body", [
    {"events": []},
    {"events": [{"member": "x"}]},
    {"event_id": "e1", "member": "x", "type": "course_viewed"},  # no occurred_at
    {"events": "many"},
    ["not", "events"],
])
def test_malformed_input_is_a_400_in_the_one_error_shape(api, member, course_viewed, body):
    r = push(api, body)
    assert r.status_code == 400
    assert set(r.json()["error"]) >= {"code", "message", "fields"}


def test_events_need_an_idempotency_key_and_a_shop_key(api, member, course_viewed):
    assert push(api, {"events": views(member, 1, NOW)}, idempotency_key=False).status_code == 400
    api.credentials()
    assert push(api, {"events": views(member, 1, NOW)}).status_code == 401


def test_each_event_of_a_type_can_fire_a_bonus(api, member, course_viewed):
    Campaign.objects.create(code="per-view", name="Points per view", active=True, trigger=Campaign.Trigger.EVENT,
                            event_type=course_viewed, bonus_points=5, once_per_member=False, channels=["webshop"])
    r = push(api, {"events": views(member, 3, NOW - timedelta(hours=3))})
    assert r.json()["fired"] == 3
    assert Account.objects.get(member=member).available == 15


def test_n_events_in_a_sliding_window_fire_once_per_window(api, member, course_viewed):
    Campaign.objects.create(code="binge", name="Binge watcher", active=True, trigger=Campaign.Trigger.EVENT_COUNT,
                            event_type=course_viewed, event_count=5, window=Campaign.Window.SLIDING, window_days=2,
                            bonus_points=50, once_per_member=False)
    # 3 views a day: the second day reaches 6 in two days and fires; the third day's window overlaps: no more
    days = [views(member, 3, NOW - timedelta(days=d, hours=6), prefix=f"d{d}-", step_minutes=60) for d in (5, 4, 3)]
    fired = [push(api, {"events": day}).json()["fired"] for day in days]
    assert fired == [0, 1, 0]
    later = views(member, 5, NOW - timedelta(hours=8), prefix="late-", step_minutes=60)  # a new window, later
    assert push(api, {"events": later}).json()["fired"] == 1
    assert Account.objects.get(member=member).available == 100
    assert Firing.objects.count() == 2
