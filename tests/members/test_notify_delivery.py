"""Webhook delivery against a real receiver on 127.0.0.1: redirects are failed tries, the time limit holds for the
whole call, and overlapping delivery runs send each message once."""

import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import time_machine
from django.db import connection

from members.models import Notification, WebhookEndpoint
from members.services import notification_record, notifications_deliver_due

NOW = datetime(2030, 3, 1, 9, tzinfo=UTC)


class Receiver:
    """A real HTTP server on 127.0.0.1 in a thread. `answer(handler, number)` answers the POST numbered `number`
    (from 1); every request (method, path, delivery id) is recorded in `calls`."""

    def __init__(self, answer):
        self.calls, self.lock = [], threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _record(self):
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                with receiver.lock:
                    receiver.calls.append((self.command, self.path, self.headers.get("X-Loyalty-Delivery")))
                    return len(receiver.calls)

            def do_POST(self):
                answer(self, self._record())

            def do_GET(self):
                self._record()
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads, self.server.block_on_close = True, False
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def answer_with(status: int, **headers):
    def answer(handler, number):
        handler.send_response(status)
        for name, value in {"Content-Length": "0", **headers}.items():
            handler.send_header(name, value)
        handler.end_headers()
    return answer


def webhook_only(member, url: str, count: int = 1) -> list[Notification]:
    member.email = ""
    member.save()
    WebhookEndpoint.objects.create(name="shop", url=url)
    with time_machine.travel(NOW, tick=False):
        for n in range(count):
            notification_record(member=member, kind="points_expiring", dedupe_key=f"m{n}",
                                payload={"points": 12, "date": "2030-04-01", "days": 30})
    return list(Notification.objects.order_by("pk"))


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_webhook_answered_with_a_redirect_is_a_failed_try_and_the_redirect_is_not_followed(db, member, status):
    with Receiver(answer_with(status, Location="/elsewhere")) as shop:
        webhook_only(member, shop.url)
        with time_machine.travel(NOW, tick=False):
            outcome = notifications_deliver_due()
    assert outcome == {"sent": 0, "retry": 1, "dead": 0, "skipped": 0}
    note = Notification.objects.get()
    assert (note.status, note.sent_at) == ("pending", None)
    assert f"HTTP {status}" in note.last_error and "redirect" in note.last_error and "/elsewhere" in note.last_error
    assert [(method, path) for method, path, _ in shop.calls] == [("POST", "/hook")]  # no GET to the new place


def trickle_headers(handler, number):
    """Starts a 200 answer at once, then sends its headers a byte every 0.1 s for about 3 s."""
    try:
        handler.wfile.write(b"HTTP/1.1 200 OK\r\nX-Slow: ")
        for _ in range(30):
            handler.wfile.write(b"z")
            handler.wfile.flush()
            time.sleep(0.1)
        handler.wfile.write(b"\r\nContent-Length: 0\r\n\r\n")
    except OSError:  # the caller gave up and hung up
        handler.close_connection = True


def test_the_webhook_time_limit_holds_for_the_whole_call_not_for_each_read(db, member, settings):
    settings.WEBHOOK_TIMEOUT_SECONDS = 0.5
    with Receiver(trickle_headers) as shop:
        webhook_only(member, shop.url)
        started = time.monotonic()
        with time_machine.travel(NOW, tick=False):
            outcome = notifications_deliver_due()
        took = time.monotonic() - started
    assert outcome["retry"] == 1 and outcome["sent"] == 0
    assert took < 2  # the headers would have taken 3 s: the call was cut off near its 0.5 s limit
    note = Notification.objects.get()
    assert note.status == "pending" and "no complete answer within 0.5 s" in note.last_error


@pytest.mark.django_db(transaction=True)
def test_overlapping_delivery_runs_send_each_message_once(member_factory, settings):
    """Run A starts at 09:00 and is still sending at 09:00:55 (a slow receiver), when it takes the second message;
    while that send is in flight, the next minute's run B starts. B must not send what A holds."""
    settings.WEBHOOK_TIMEOUT_SECONDS = 3
    settings.NOTIFICATIONS_ENQUEUE_ON_COMMIT = False  # only the two runs below send
    arrived = [threading.Event(), threading.Event()]
    release = [threading.Event(), threading.Event()]

    def slow(handler, number):
        if number <= 2:  # run A's two sends: held until the test lets them go
            arrived[number - 1].set()
            release[number - 1].wait(timeout=3)
        answer_with(204)(handler, number)

    with Receiver(slow) as shop:
        notes = webhook_only(member_factory(), shop.url, count=2)
        outcomes = {}

        def run_a():
            try:
                outcomes["a"] = notifications_deliver_due()
            finally:
                connection.close()

        with time_machine.travel(NOW, tick=False) as clock:
            a = threading.Thread(target=run_a)
            a.start()
            assert arrived[0].wait(timeout=3)
            clock.shift(timedelta(seconds=55))  # the first send was slow
            release[0].set()
            assert arrived[1].wait(timeout=3)  # A now sends the second message, claimed at 09:00:55
            clock.shift(timedelta(seconds=6))
            outcomes["b"] = notifications_deliver_due()  # the run of 09:01:01
            release[1].set()
            a.join(timeout=5)

    assert outcomes == {"a": {"sent": 2, "retry": 0, "dead": 0, "skipped": 0},
                        "b": {"sent": 0, "retry": 0, "dead": 0, "skipped": 0}}
    delivered = [delivery for _, _, delivery in shop.calls]
    assert sorted(delivered) == sorted(str(n.pk) for n in notes)  # each message reached the shop once
    assert set(Notification.objects.values_list("status", "attempts")) == {("sent", 1)}
