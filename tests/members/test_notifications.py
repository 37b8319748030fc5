"""The outbox: consent, e-mail in the member's language, signed webhooks with retries and a dead letter, and
delivery after a broker outage."""

import hashlib
import hmac
import json
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
import time_machine
from django.core import mail
from django.db import transaction

from config.celery import app as celery_app
from members import tasks
from members.models import Member, MembershipSettings, Notification, WebhookEndpoint
from members.services import notification_record, notifications_deliver_due

NOW = datetime(2030, 3, 1, 9, tzinfo=UTC)


class Shop:
    """A real HTTP server on 127.0.0.1 in a thread, answering 500 to the first `failures` calls."""

    def __init__(self, failures: int = 0):
        self.failures, self.calls = failures, []
        shop = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                shop.calls.append((dict(self.headers), body))
                self.send_response(500 if len(shop.calls) <= shop.failures else 204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/loyalty-hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def deliver_at(moment: datetime) -> dict:
    with time_machine.travel(moment, tick=False):
        return notifications_deliver_due()


def record(member, kind="points_expiring", key="k1", marketing=False, **payload):
    payload = payload or {"points": 12, "date": "2030-04-01", "days": 30}
    return notification_record(member=member, kind=kind, payload=payload, dedupe_key=key, marketing=marketing)


def test_a_message_is_recorded_once_per_key_and_channel(db, member):
    WebhookEndpoint.objects.create(name="shop", url="http://127.0.0.1:9/hook")
    assert record(member) is not None
    assert record(member) is None
    endpoint = WebhookEndpoint.objects.get()
    assert sorted(Notification.objects.values_list("target", flat=True)) == ["email", f"webhook:{endpoint.pk}"]


def test_webhook_is_signed_retried_with_backoff_and_sent(db, member, settings):
    settings.NOTIFICATION_RETRY_BASE_SECONDS = 60
    member.email = ""
    member.save()
    with Shop(failures=2) as shop:
        endpoint = WebhookEndpoint.objects.create(name="shop", url=shop.url, secret="s3cret")
        with time_machine.travel(NOW, tick=False):
            record(member)
        note = Notification.objects.get()
        assert deliver_at(NOW) == {"sent": 0, "retry": 1, "dead": 0, "skipped": 0}
        note.refresh_from_db()
        assert (note.attempts, note.next_attempt_at, note.status) == (1, NOW + timedelta(seconds=60), "pending")
        assert "HTTP 500" in note.last_error
        assert deliver_at(NOW + timedelta(seconds=30))["retry"] == 0  # not due yet: nothing sent
        assert deliver_at(NOW + timedelta(seconds=60))["retry"] == 1
        note.refresh_from_db()
        assert note.next_attempt_at == NOW + timedelta(seconds=60 + 120)  # the wait doubled
        assert deliver_at(NOW + timedelta(seconds=180))["sent"] == 1
    note.refresh_from_db()
    assert (note.status, note.attempts, note.last_error) == ("sent", 3, "")
    assert len(shop.calls) == 3
    headers, body = shop.calls[-1]
    expected = hmac.new(b"s3cret", headers["X-Loyalty-Timestamp"].encode() + b"." + body, hashlib.sha256).hexdigest()
    assert headers["X-Loyalty-Signature"] == f"sha256={expected}"
    assert {h["X-Loyalty-Delivery"] for h, _ in shop.calls} == {str(note.pk)}  # the shop can drop duplicates
    sent = json.loads(body)
    assert sent["kind"] == "points_expiring" and sent["payload"]["points"] == 12
    assert sent["member"]["external_id"] == member.external_id
    assert endpoint.secret not in body.decode()


def test_a_webhook_failing_every_try_is_dead_lettered_and_staff_can_send_it_again(db, member, settings):
    from members.services import notification_retry

    settings.NOTIFICATION_MAX_ATTEMPTS = 3
    member.email = ""
    member.save()
    with Shop(failures=100) as shop:
        WebhookEndpoint.objects.create(name="shop", url=shop.url)
        with time_machine.travel(NOW, tick=False):
            record(member)
        outcomes = [deliver_at(NOW + timedelta(hours=h)) for h in range(5)]
        assert [o["retry"] for o in outcomes] == [1, 1, 0, 0, 0] and outcomes[2]["dead"] == 1
        note = Notification.objects.get()
        assert (note.status, note.attempts) == ("dead", 3)
        assert len(shop.calls) == 3
        shop.failures = 0
        notification_retry(notification=note)
        assert deliver_at(NOW + timedelta(hours=6))["sent"] == 1
    assert Notification.objects.get().status == "sent"


def test_an_endpoint_gets_only_the_kinds_it_asked_for(db, member):
    WebhookEndpoint.objects.create(name="texts", url="http://127.0.0.1:9/", kinds=["birthday_gift"])
    record(member, kind="points_expiring", key="a")
    record(member, kind="birthday_gift", key="b", points=50)
    assert list(Notification.objects.filter(channel="webhook").values_list("kind", flat=True)) == ["birthday_gift"]


def test_marketing_needs_consent_and_service_messages_follow_the_setting(db, member, member_factory):
    agreed = member_factory(marketing_consent=True)
    record(member, kind="newsletter", key="m1", marketing=True, text="Sale")
    record(agreed, kind="newsletter", key="m2", marketing=True, text="Sale")
    record(member, key="s1")
    assert Notification.objects.get(dedupe_key="m1").status == "skipped"
    assert Notification.objects.get(dedupe_key="m1").last_error == "No marketing consent."
    assert Notification.objects.get(dedupe_key="m2").status == "pending"
    assert Notification.objects.get(dedupe_key="s1").status == "pending"  # by default service messages need none
    settings = MembershipSettings.current()
    settings.service_messages_need_consent = True
    settings.save()
    record(member, key="s2")
    assert Notification.objects.get(dedupe_key="s2").status == "skipped"
    # Consent withdrawn after the message was recorded: the delivery skips it.
    agreed.marketing_consent = False
    agreed.save()
    assert notifications_deliver_due()["skipped"] == 2  # m2 (marketing) and s1 (service, consent now needed)
    assert mail.outbox == []


def test_a_member_without_any_channel_is_recorded_as_skipped(db, member):
    member.email = ""
    member.save()
    record(member)
    note = Notification.objects.get()
    assert (note.channel, note.status) == ("none", "skipped")


@pytest.mark.parametrize("language, subject, phrases", [
    ("en", "Happy birthday, Ada!", ["you get 150 points as our gift", "A birthday present is waiting for you too."]),
    ("zh-hans", "Ada，生日快乐！", ["我们送您 150 积分作为生日礼物", "另有一份生日礼物等您领取。"]),
])
def test_the_birthday_email_in_the_members_language(db, member_factory, language, subject, phrases):
    member = member_factory(name="Ada", language=language)
    record(member, kind="birthday_gift", key="b", points=150, reward_code="cake", tier="gold", tier_name="Gold")
    assert notifications_deliver_due()["sent"] == 1
    message = mail.outbox[0]
    assert message.subject == subject and all(phrase in message.body for phrase in phrases)
    assert "cake" not in message.body  # the reward's code is not for members' eyes
    assert message.to == [member.email]


def test_every_kind_the_jobs_write_has_both_templates(db, member_factory):
    from members.channels import email_render

    kinds = {
        "membership_renewal_reminder": {"plan": "plus", "date": "2030-03-08", "price": "9.99", "currency": "EUR"},
        "membership_expiry_reminder": {"plan": "pass", "date": "2030-03-08", "price": "49.00", "currency": "EUR"},
        "membership_ended": {"plan": "pass", "ended_at": "2030-03-08T00:00:00+00:00"},
        "tier_downgrade_warning": {"tier": "gold", "downgrade_on": "2030-03-20", "needed": "120"},
    }
    for language in ("en", "zh-hans"):
        member = member_factory(language=language)
        for kind, payload in kinds.items():
            note = Notification(member=member, kind=kind, payload=payload)
            subject, body = email_render(note)
            assert "2030-03" in subject + body or "pass" in subject, (language, kind, subject, body)
            assert "{{" not in body and subject


@pytest.fixture
def broker_down(settings):
    """The broker is unreachable (a closed port) and tasks are really sent, not run in-process."""
    saved = dict(broker_url=celery_app.conf.broker_url, task_always_eager=celery_app.conf.task_always_eager)
    celery_app.conf.update(broker_url="redis://127.0.0.1:1/0", task_always_eager=False)
    celery_app._pool = None
    settings.NOTIFICATIONS_ENQUEUE_ON_COMMIT = True
    yield
    celery_app.conf.update(**saved)
    celery_app._pool = None


@pytest.mark.django_db(transaction=True)
def test_a_message_written_while_the_broker_is_down_is_sent_by_the_delivery_job(broker_down, member_factory, caplog):
    member = member_factory()
    with transaction.atomic():  # the event's transaction: the write must succeed whatever the broker does
        member.marketing_consent = True
        member.save()
        record(member, key="outage")
    note = Notification.objects.get()
    assert note.status == "pending" and mail.outbox == []
    assert "Could not enqueue" in caplog.text  # the enqueue after commit was tried, failed, and was swallowed
    result = tasks.deliver_pending_notifications.apply()  # the periodic job, once the broker is back
    assert result.get()["sent"] == 1
    assert Notification.objects.get().status == "sent"
    assert mail.outbox[0].subject == "12 of your points expire on 2030-04-01"


def test_language_is_part_of_the_member_api(api):
    r = api.post("/api/v1/members", {"external_id": "zh-1", "language": "zh-hans"})
    assert r.status_code == 201 and r.json()["language"] == "zh-hans"
    r = api.patch("/api/v1/members/zh-1", {"language": "en"})
    assert r.status_code == 200 and Member.objects.get(external_id="zh-1").language == "en"
    r = api.patch("/api/v1/members/zh-1", {"language": "fr"})
    assert r.status_code == 400 and "language" in r.json()["error"]["fields"]


def test_a_malformed_answer_is_one_failed_try_and_never_resends_the_others(db, member):
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)

    def garbage():  # answers every request with a line that is not HTTP
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            conn.recv(65536)
            conn.sendall(b"NOT-HTTP\r\n\r\n")
            conn.close()

    threading.Thread(target=garbage, daemon=True).start()
    try:
        WebhookEndpoint.objects.create(name="broken", url=f"http://127.0.0.1:{listener.getsockname()[1]}/hook")
        with time_machine.travel(NOW, tick=False):
            record(member)
        first = deliver_at(NOW)
        again = deliver_at(NOW)
    finally:
        listener.close()
    assert (first["sent"], first["retry"]) == (1, 1)
    assert again == {"sent": 0, "retry": 0, "dead": 0, "skipped": 0}  # the broken one waits for its backoff
    assert len(mail.outbox) == 1  # the e-mail went out once
    hook = Notification.objects.get(channel="webhook")
    assert (hook.status, hook.attempts) == ("pending", 1) and hook.last_error
