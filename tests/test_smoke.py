def test_order_earns_points_and_shows_in_balance(api, member):
    r = api.post("/api/v1/orders", {"member": member.external_id, "order_id": "A1", "amount": "125.00",
                                    "currency": "EUR"})
    assert r.status_code == 201, r.json()
    assert r.json()["points"] == 12
    balance = api.get(f"/api/v1/members/{member.external_id}/balance").json()
    assert balance["available"] == 12
