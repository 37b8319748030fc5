import pytest

pytestmark = pytest.mark.usefixtures("rules")


def test_a_refund_of_a_points_paid_order_takes_the_longest_idempotency_key(api, member, give):
    give(member, 3000)
    hold = api.post("/api/v1/checkout/holds", {"member": member.external_id, "order_id": "P-1", "points": 2000,
                                               "order_value": "100.00", "currency": "EUR"}).json()
    api.post(f"/api/v1/checkout/holds/{hold['id']}/confirm")
    api.post("/api/v1/orders", {"member": member.external_id, "order_id": "P-1", "amount": "80.00", "currency": "EUR"})
    key = "k" * 250
    r = api.post("/api/v1/orders/P-1/refunds", {"amount": "40.00"}, idempotency_key=key)
    assert r.status_code == 201, r.json()
    assert r.json()["points_returned"] == 1000
    again = api.post("/api/v1/orders/P-1/refunds", {"amount": "40.00"}, idempotency_key=key)
    assert again.json() == r.json() and again.headers["Idempotent-Replayed"] == "true"
