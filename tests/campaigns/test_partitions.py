"""The events table by month: partitions made ahead and dropped after the retention staff set, once per event id
across months, and events older than the retention refused."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection

from campaigns.models import CampaignSettings, Event, EventCounter, EventKey
from campaigns.services import event_partitions_maintain
from campaigns.services.partitions import event_partitions
from tests.campaigns.conftest import views

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(NOW, tick=False):
        yield


def push(api, events):
    return api.post("/api/v1/events", {"events": events})


def test_the_job_makes_months_ahead_and_drops_those_past_the_retention(api, member, course_viewed):
    CampaignSettings.objects.update_or_create(pk=1, defaults={"event_retention_months": 3})
    old = views(member, 2, datetime(2026, 8, 10, tzinfo=UTC), prefix="aug-")  # kept: August is 3 months back
    assert push(api, old).status_code == 201
    with connection.cursor() as cursor:  # the job runs in a transaction of its own: no foreign-key checks pending
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    with time_machine.travel(datetime(2026, 12, 2, 3, 40, tzinfo=UTC), tick=False):  # the night of 2 December
        result = event_partitions_maintain(now=datetime(2026, 12, 2, 3, 40, tzinfo=UTC))
    assert "2027-02" in [m.isoformat()[:7] for m in event_partitions()]
    assert "2026-08" in result["dropped"] and result["keys_deleted"] == 2  # December keeps September onwards
    assert date_months(event_partitions())[0] == "2026-09"
    assert not Event.objects.exists() and not EventKey.objects.exists()
    assert sum(EventCounter.objects.values_list("count", flat=True)) == 2  # the counters stay

    again = event_partitions_maintain(now=datetime(2026, 12, 2, 3, 45, tzinfo=UTC))  # re-run: nothing more
    assert again["dropped"] == [] and again["created"] == []


def date_months(partitions) -> list[str]:
    return sorted(m.isoformat()[:7] for m in partitions)


def test_an_event_id_is_recorded_once_even_when_a_replay_carries_another_month(api, member, course_viewed):
    first = views(member, 1, NOW - timedelta(days=1))
    replay = [first[0] | {"occurred_at": (NOW - timedelta(days=40)).isoformat()}]  # October's partition
    assert push(api, first).json()["recorded"] == 1
    assert push(api, replay).json() == {"recorded": 0, "duplicates": 1, "fired": 0}
    assert Event.objects.count() == 1 and Event.objects.get().occurred_at == NOW - timedelta(days=1)


def test_an_event_older_than_the_retention_is_refused_and_a_missing_month_is_made(api, member, course_viewed):
    CampaignSettings.objects.update_or_create(pk=1, defaults={"event_retention_months": 2})
    r = push(api, views(member, 1, datetime(2026, 8, 31, tzinfo=UTC)))
    assert r.status_code == 422 and r.json()["error"]["code"] == "event_too_old"
    assert r.json()["error"]["fields"]["events"]["0"]["occurred_at"]
    CampaignSettings.objects.filter(pk=1).update(event_retention_months=60)
    long_ago = datetime(2022, 3, 5, tzinfo=UTC)  # before any partition the migration made
    assert push(api, views(member, 1, long_ago, prefix="old-")).json()["recorded"] == 1
    assert Event.objects.get(event_id__startswith="old-").occurred_at == long_ago
