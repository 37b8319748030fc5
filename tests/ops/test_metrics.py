"""Prometheus metrics at /metrics: requests by view and status, latency histograms, ledger writes by kind, jobs
run and failed, the outbox's depth; closed to the public in production."""

import pytest
from prometheus_client import REGISTRY

from members import tasks as members_tasks
from members.models import Notification


def sample(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def scrape(client) -> str:
    response = client.get("/metrics")
    assert response.status_code == 200
    return response.content.decode()


def test_requests_latencies_and_ledger_writes_are_counted(api, member, client, django_capture_on_commit_callbacks):
    earned_before = sample("loyalty_ledger_writes_total", kind="earn")
    created_before = sample("django_http_responses_total_by_status_view_method_total",
                            status="201", view="orders", method="POST")
    with django_capture_on_commit_callbacks(execute=True):
        assert api.post("/api/v1/orders", {"member": member.external_id, "order_id": "M-1", "amount": "100.00",
                                           "currency": "EUR"}).status_code == 201
    with django_capture_on_commit_callbacks(execute=True):
        assert api.post("/api/v1/redemptions", {"member": member.external_id, "points": 3}).status_code == 201

    assert sample("loyalty_ledger_writes_total", kind="earn") == earned_before + 1
    assert sample("django_http_responses_total_by_status_view_method_total",
                  status="201", view="orders", method="POST") == created_before + 1
    text = scrape(client)
    assert 'loyalty_ledger_writes_total{kind="redeem"}' in text
    assert 'django_http_requests_latency_seconds_by_view_method_bucket{le="0.1",method="POST",view="orders"}' in text


def test_a_write_rolled_back_is_not_counted(api, member, django_capture_on_commit_callbacks):
    before = sample("loyalty_ledger_writes_total", kind="redeem")
    with django_capture_on_commit_callbacks(execute=True):
        refused = api.post("/api/v1/redemptions", {"member": member.external_id, "points": 10_000})
    assert refused.status_code == 422
    assert sample("loyalty_ledger_writes_total", kind="redeem") == before


def test_jobs_run_and_failed_are_counted(member):
    task = "members.tasks.deliver_notifications"
    ok, failed = sample("loyalty_jobs_run_total", task=task, outcome="success"), \
        sample("loyalty_jobs_run_total", task=task, outcome="failure")
    members_tasks.deliver_notifications.apply(args=[[]])
    members_tasks.deliver_notifications.apply(kwargs={"no_such_argument": 1}, throw=False)  # a job that fails
    assert sample("loyalty_jobs_run_total", task=task, outcome="success") == ok + 1
    assert sample("loyalty_jobs_run_total", task=task, outcome="failure") == failed + 1


def test_the_outbox_depth_is_read_at_each_scrape(member, client):
    for n in range(3):
        Notification.objects.create(member=member, kind="points_expiring", dedupe_key=f"depth-{n}")
    Notification.objects.create(member=member, kind="points_expiring", dedupe_key="sent", status="sent")
    assert 'loyalty_outbox_depth{channel="email"} 3.0' in scrape(client)
    Notification.objects.filter(dedupe_key="depth-0").update(status="sent")
    assert 'loyalty_outbox_depth{channel="email"} 2.0' in scrape(client)


@pytest.mark.django_db
def test_in_production_only_staff_and_the_scraper_token_read_metrics(client, settings, admin_user):
    settings.METRICS_PUBLIC, settings.METRICS_TOKEN = False, "scrape-token-0123456789"
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 404
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-token-0123456789").status_code == 200
    client.force_login(admin_user)
    assert client.get("/metrics").status_code == 200
