"""PostgreSQL restarted (`pg_ctl restart -m fast`) while shops send a stream of earns: every answer is 201 or 503
with Retry-After in the API's error shape (never a 500), a 503 retried with the same Idempotency-Key then
succeeds, no order is lost or doubled, the books balance, and the app recovered by itself (same process)."""

import threading
import time
import uuid

import pytest

# The session's test database must exist: the stack copies its schema.
pytestmark = pytest.mark.django_db

ORDERS, CLIENTS = 48, 4


def test_a_database_restart_during_a_stream_of_earns_loses_and_doubles_nothing(stack, app, new_id):
    member = new_id("PG")
    assert app.post("/api/v1/members", {"external_id": member, "email": f"{member.lower()}@example.com"}).status == 201
    orders = [(f"{member}-{i:03d}", uuid.uuid4().hex) for i in range(ORDERS)]
    seen: dict[str, list] = {order_id: [] for order_id, _ in orders}
    created = threading.Semaphore(0)

    def shop(chunk):
        for order_id, key in chunk:
            for _ in range(100):
                answer = app.post("/api/v1/orders", {"member": member, "order_id": order_id, "amount": "100.00",
                                                     "currency": "EUR"}, key=key)
                seen[order_id].append(answer)
                if answer.status != 503:
                    created.release()
                    break
                time.sleep(0.2)  # a shop waits Retry-After (1 s); shorter here, the answer is the same

    clients = [threading.Thread(target=shop, args=(orders[i::CLIENTS],)) for i in range(CLIENTS)]
    for client in clients:
        client.start()
    for _ in range(ORDERS // 3):  # a third of the orders are in; the stream goes on while the database restarts
        assert created.acquire(timeout=60)
    stack.postgres.restart()
    for client in clients:
        client.join(timeout=120)

    answers = [a for tries in seen.values() for a in tries]
    assert {a.status for a in answers} <= {201, 503}, [(a.status, a.body) for a in answers if a.status not in (201, 503)]
    unavailable = [a for a in answers if a.status == 503]
    assert unavailable, "the restart cut kept connections: some requests must have met it"
    for answer in unavailable:
        assert answer.headers.get("Retry-After") == "1"
        assert answer.code == "service_unavailable" and set(answer.body["error"]) >= {"message", "fields"}
    assert all(tries[-1].status == 201 for tries in seen.values())  # every order, once retried, went through
    points = {tries[-1].body["points"] for tries in seen.values()}
    assert points == {10}

    # Exactly once: one order and one earn per order id, and the balance is their sum.
    assert stack.scalar("SELECT count(*) FROM loyalty_order o JOIN members_member m ON m.id = o.member_id "
                        "WHERE m.external_id = %s", [member]) == ORDERS
    assert stack.scalar("SELECT count(*) FROM loyalty_transaction t JOIN members_member m ON m.id = t.member_id "
                        "WHERE m.external_id = %s AND t.kind = 'earn'", [member]) == ORDERS
    balance = app.get(f"/api/v1/members/{member}/balance")
    assert balance.status == 200 and balance.body["available"] == 10 * ORDERS
    assert stack.driver("ledger_check")["drifted"] == 0
    assert app.server.alive()  # recovered without a restart of the app
