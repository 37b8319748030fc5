"""A shop's client times out and retries with the same Idempotency-Key while its first request still runs (slowed
here by a row lock the test holds): the retry waits up to IDEMPOTENCY_WAIT_SECONDS (2 s in these tests), then
answers 409 `idempotency_in_progress` with Retry-After; a retry that arrives while the first is finishing gets
the first one's answer replayed. The order is earned once."""

import threading

import pytest

from .services import wait_until

# The session's test database must exist: the stack copies its schema.
pytestmark = pytest.mark.django_db
ORDER = {"amount": "80.00", "currency": "EUR"}


def _lock_waiters(stack) -> int:
    return stack.scalar("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                        "AND datname = current_database()")


def test_a_retry_while_the_first_request_runs_is_told_to_wait_and_then_replayed(stack, app, new_id):
    member = new_id("IP")
    assert app.post("/api/v1/members", {"external_id": member}).status == 201
    assert app.post("/api/v1/orders", {"member": member, "order_id": f"{member}-0", **ORDER}).status == 201
    body, key = {"member": member, "order_id": f"{member}-1", **ORDER}, new_id("key")
    answers = {}

    def send(name):
        answers[name] = app.post("/api/v1/orders", body, key=key, timeout=60)

    with stack.db() as holder:
        holder.autocommit = False
        holder.execute("SELECT 1 FROM loyalty_account a JOIN members_member m ON m.id = a.member_id "
                       "WHERE m.external_id = %s FOR UPDATE OF a", [member])
        first = threading.Thread(target=send, args=("first",))
        first.start()
        wait_until(lambda: _lock_waiters(stack) == 1, what="the first request to wait on the account")

        retry = app.post("/api/v1/orders", body, key=key, timeout=60)  # the client gave up on the first
        assert retry.status == 409 and retry.code == "idempotency_in_progress", retry.body
        assert retry.headers.get("Retry-After") == "1"

        second = threading.Thread(target=send, args=("second",))
        second.start()
        wait_until(lambda: _lock_waiters(stack) == 2, what="the second retry to wait on the first")
        holder.rollback()  # the first request goes on and commits; the waiting retry then reads its answer
    first.join(30)
    second.join(30)

    assert answers["first"].status == 201 and answers["first"].body["points"] == 8
    assert answers["second"].status == 201 and answers["second"].body == answers["first"].body
    assert answers["second"].headers.get("Idempotent-Replayed") == "true"
    assert stack.scalar("SELECT count(*) FROM loyalty_transaction t JOIN members_member m ON m.id = t.member_id "
                        "WHERE m.external_id = %s AND t.kind = 'earn'", [member]) == 2  # order 0 and order 1, once
