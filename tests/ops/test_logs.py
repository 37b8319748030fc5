"""Structured logs: JSON lines carrying the request id, into the tasks a request enqueued; nothing personal or
secret in them, even at DEBUG."""

import io
import json
import logging
import uuid
from urllib.parse import unquote

import pytest
import redis
import structlog
from django.conf import settings
from django.core.cache import cache

from core.models import Scope
from loyalty import tasks as loyalty_tasks
from members import tasks as members_tasks
from members.models import Member, Notification
from tests.conftest import make_client

pytestmark = pytest.mark.django_db(transaction=True)  # on_commit enqueues the tasks, as in production


@pytest.fixture
def log_lines():
    """Everything logged from here on, at DEBUG, as the production handler writes it (parsed JSON lines)."""
    root = logging.getLogger()
    formatter = next(h.formatter for h in root.handlers
                     if isinstance(h.formatter, structlog.stdlib.ProcessorFormatter))
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    lines = lambda: [json.loads(line) for line in stream.getvalue().splitlines()]  # noqa: E731
    lines.text = stream.getvalue
    yield lines
    root.removeHandler(handler)
    root.setLevel(level)


@pytest.fixture(autouse=True)
def _fresh_throttle_counts():
    cache.clear()
    yield
    cache.clear()


def test_an_incoming_request_id_is_echoed_and_on_the_requests_log_line(client, log_lines):
    response = client.get("/health/live", HTTP_X_REQUEST_ID="shop-req-0042")
    assert response["X-Request-ID"] == "shop-req-0042"
    finished = [line for line in log_lines() if line["event"] == "request_finished"]
    assert len(finished) == 1
    assert {k: finished[0][k] for k in ("request_id", "method", "route", "status", "level")} == {
        "request_id": "shop-req-0042", "method": "GET", "route": "health/live", "status": 200, "level": "info"}


@pytest.mark.parametrize("given", [None, "has spaces", "x" * 200, "new\nline"])
def test_a_missing_or_unsafe_request_id_is_replaced_by_a_fresh_one(client, log_lines, given):
    headers = {} if given is None else {"HTTP_X_REQUEST_ID": given}
    response = client.get("/health/live", **headers)
    made = response["X-Request-ID"]
    assert made != given and len(made) == 32
    assert [line["request_id"] for line in log_lines() if line["event"] == "request_finished"] == [made]


def test_the_tasks_a_request_enqueued_log_its_request_id(admin_client, member, log_lines):
    dead = Notification.objects.create(member=member, kind="points_expiring", dedupe_key="dead-1",
                                       status=Notification.Status.DEAD, payload={"points": 5})
    response = admin_client.post("/admin/members/notification/", {"action": "retry", "_selected_action": [dead.pk]},
                                 HTTP_X_REQUEST_ID="retry-req-7")
    assert response.status_code == 302
    assert Notification.objects.get(pk=dead.pk).status == Notification.Status.SENT  # the task ran
    task_lines = [line for line in log_lines() if line.get("task") == "members.tasks.deliver_notifications"]
    assert {line["event"] for line in task_lines} >= {"task_started", "task_finished"}
    assert {line["request_id"] for line in task_lines} == {"retry-req-7"}


def test_the_request_id_travels_in_the_task_message_to_the_worker(log_lines):
    """Through the real broker: the id is in the message's headers, and the task run from that message logs it."""
    queue = f"ops-test-{uuid.uuid4().hex}"
    app = members_tasks.deliver_notifications.app
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    app.conf.task_always_eager = False
    structlog.contextvars.bind_contextvars(request_id="sent-req-9")
    try:
        members_tasks.deliver_notifications.apply_async(args=[[]], queue=queue)
        message = json.loads(broker.lpop(queue))
    finally:
        app.conf.task_always_eager = True
        structlog.contextvars.clear_contextvars()
        broker.delete(queue)
    assert message["headers"]["request_id"] == "sent-req-9"

    members_tasks.deliver_notifications.apply(args=[[]], headers=message["headers"])  # as a worker runs it
    started = [line for line in log_lines() if line["event"] == "task_started"]
    assert [line["request_id"] for line in started] == ["sent-req-9"]


def test_no_personal_data_or_secrets_reach_the_logs(channel, program, log_lines, client):
    email, phone, name = "zelda.secret@example.net", "+442079460555", "Zelda Quuxworth"
    api = make_client(channel, scopes=list(Scope.values))
    assert api.post("/api/v1/members", {"external_id": "z-1", "name": name, "email": email, "phone": phone,
                                        "birth_date": "1985-07-01", "marketing_consent": True}).status_code == 201
    assert api.get("/api/v1/members/z-1").status_code == 200
    assert api.patch("/api/v1/members/z-1", {"email": "not an e-mail"}).status_code == 400
    assert api.post("/api/v1/members", {"external_id": "z-1", "email": email}).status_code == 409
    assert api.post("/api/v1/orders", {"member": "z-1", "order_id": "Z-1", "amount": "120.00",
                                       "currency": "EUR"}).status_code == 201
    token = api.post("/api/v1/members/z-1/tokens").json()["token"]
    app = make_client(channel)
    app.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert app.get("/api/v1/me").status_code == 200
    link = api.post("/api/v1/members/z-1/page-links").json()["url"]
    assert client.get(link, follow=True).status_code == 200
    wrong = make_client(channel)
    wrong.credentials(HTTP_AUTHORIZATION=f"Api-Key {api.raw_key}x")
    assert wrong.get("/api/v1/members/z-1").status_code == 401
    member = Member.objects.get(external_id="z-1")
    Notification.objects.create(member=member, kind="points_expiring", dedupe_key="z-n-1",
                                payload={"points": 12, "name": name})
    members_tasks.deliver_pending_notifications.delay().get()
    loyalty_tasks.settle_due_points.delay().get()
    loyalty_tasks.give_birthday_gifts.delay().get()
    assert api.get("/api/v1/members/z-1/export").status_code == 200
    assert api.post("/api/v1/members/z-1/erase", {"reason": "asked"}).status_code == 200

    text = log_lines.text()
    assert "request_finished" in text and "task_started" in text  # the run was logged
    page_token = link.split("link=")[1]
    for secret in (email, phone, name, "Zelda", api.raw_key, token, page_token, unquote(page_token), "1985-07-01"):
        assert secret not in text, secret


def test_a_library_logging_a_secret_or_an_address_is_masked(log_lines):
    """The safety net for what we do not write ourselves (a library's error message, a traceback)."""
    logging.getLogger("some.library").warning(
        "refused Authorization: Api-Key lk_ab12cd34_S3cretS3cretS3cret for ada@example.org at /account/?link=abc.def")
    line = log_lines()[-1]["event"]
    assert "S3cret" not in line and "ada@example.org" not in line and "abc.def" not in line
    assert "Api-Key [redacted]" in line and "[email]" in line
