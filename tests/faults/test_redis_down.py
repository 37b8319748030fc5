"""Redis (the broker and the cache) killed while the shop keeps sending requests: earning and redemption go on
(201), member tokens are still issued (the rate limits fail open, README: Operations), a birthday greeting
written meanwhile waits in the outbox, and leaves once Redis is back and the outbox is dispatched."""

import pytest

# The session's test database must exist: the stack copies its schema.
pytestmark = pytest.mark.django_db


def test_with_redis_down_points_move_messages_wait_and_leave_when_it_is_back(stack, app, new_id):
    member = new_id("RD")
    assert app.post("/api/v1/members", {"external_id": member, "email": f"{member.lower()}@example.com"}).status == 201
    assert app.post("/api/v1/orders", {"member": member, "order_id": f"{member}-1", "amount": "100.00",
                                       "currency": "EUR"}).status == 201

    stack.redis.kill()
    try:
        earned = app.post("/api/v1/orders", {"member": member, "order_id": f"{member}-2", "amount": "50.00",
                                             "currency": "EUR"})
        assert earned.status == 201 and earned.body["points"] == 5
        redeemed = app.post("/api/v1/redemptions", {"member": member, "points": 12})
        assert redeemed.status == 201, redeemed.body
        token = app.post(f"/api/v1/members/{member}/tokens", {})
        assert token.status == 201 and token.body["token"], token.body  # the limit could not count: fails open
        balance = app.get(f"/api/v1/members/{member}/balance")
        assert balance.status == 200 and balance.body["available"] == 10 + 5 - 12

        # A job records a greeting while the broker is down: the "deliver now" request fails quietly.
        seeded, run = stack.driver(("seed_birthdays", new_id("RB"), 1), "birthdays")
        birthday = seeded["members"]
        assert run["gifts"] >= 1
        waiting = "SELECT string_agg(DISTINCT status, ',') FROM members_notification WHERE member_id = ANY(%s)"
        assert stack.scalar(waiting, [birthday]) == "pending"
    finally:
        stack.redis.start()

    delivered, checked = stack.driver("deliver", "ledger_check")  # the outbox dispatch (the minute job)
    assert delivered["sent"] >= 1 and stack.scalar(waiting, [birthday]) == "sent"
    assert checked["drifted"] == 0
