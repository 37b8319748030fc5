"""Health endpoints: liveness touches nothing, readiness fails (503, naming the check) when a dependency or the
workers fall behind."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from members.models import Notification

pytestmark = pytest.mark.django_db(transaction=True)  # the checks run in threads of their own


@pytest.fixture
def beat_ran_now(db):
    every_minute, _ = IntervalSchedule.objects.get_or_create(every=1, period="minutes")
    PeriodicTask.objects.update_or_create(name="Deliver notifications", defaults={
        "task": "members.tasks.deliver_notifications", "interval": every_minute, "last_run_at": timezone.now()})


def ready(client):
    return client.get("/health/ready", HTTP_ACCEPT="application/json")


def test_liveness_answers_without_touching_the_database(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/health/live")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_the_old_health_path_still_answers(client):
    assert client.get("/health").json() == {"status": "ok"}


def test_ready_when_database_cache_broker_beat_and_jobs_are_fine(client, beat_ran_now):
    response = ready(client)
    assert response.status_code == 200, response.content
    body = response.json()
    assert {"Database", "Cache", "Broker", "BeatHeartbeat", "DueJobs"} <= {name.split("(")[0] for name in body}
    assert set(body.values()) == {"OK"}


def test_not_ready_when_beat_has_stopped(client, beat_ran_now, settings):
    PeriodicTask.objects.update(last_run_at=timezone.now() - timedelta(seconds=settings.HEALTH_BEAT_MAX_AGE_SECONDS + 60))
    response = ready(client)
    assert response.status_code == 503
    failing = {name: text for name, text in response.json().items() if text != "OK"}
    assert list(failing) == ["BeatHeartbeat()"]
    assert "Beat's last run was" in failing["BeatHeartbeat()"]


def test_not_ready_when_a_notification_has_waited_too_long(client, beat_ran_now, member, settings):
    late = timezone.now() - timedelta(seconds=settings.HEALTH_OUTBOX_MAX_AGE_SECONDS + 60)
    Notification.objects.create(member=member, kind="points_expiring", dedupe_key="late-1", next_attempt_at=late)
    response = ready(client)
    assert response.status_code == 503
    assert "oldest pending notification" in response.json()["DueJobs()"]
    assert member.email not in response.content.decode()


def test_a_notification_due_just_now_does_not_fail_readiness(client, beat_ran_now, member):
    Notification.objects.create(member=member, kind="points_expiring", dedupe_key="fresh-1")
    assert ready(client).status_code == 200


def test_not_ready_when_the_broker_is_unreachable(client, beat_ran_now, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    response = ready(client)
    assert response.status_code == 503
    assert response.json()["Broker()"].startswith("Unavailable")
