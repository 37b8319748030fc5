from members.models import Member


def test_register_read_and_update_a_member(api):
    r = api.post("/api/v1/members", {"external_id": "cust-42", "name": "Ada", "email": "Ada@Example.com",
                                     "phone": "+44 (0)20 7946-0958", "birth_date": "1990-02-28",
                                     "timezone": "Europe/London", "marketing_consent": True})
    assert r.status_code == 201, r.json()
    body = r.json()
    assert body["email"] == "ada@example.com" and body["phone"] == "+442079460958"
    assert body["status"] == "active"
    r = api.patch("/api/v1/members/cust-42", {"name": "Ada L.", "timezone": "Asia/Shanghai"})
    assert r.status_code == 200 and r.json()["name"] == "Ada L."
    assert api.get("/api/v1/members/cust-42").json()["timezone"] == "Asia/Shanghai"


def test_registering_an_existing_external_id_is_409(api, member):
    r = api.post("/api/v1/members", {"external_id": member.external_id})
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "member_exists"
    assert Member.objects.count() == 1


def test_registration_replay_returns_the_same_member(api):
    first = api.post("/api/v1/members", {"external_id": "c1"}, idempotency_key="reg-1")
    again = api.post("/api/v1/members", {"external_id": "c1"}, idempotency_key="reg-1")
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()


def test_unknown_member_is_404(api):
    r = api.get("/api/v1/members/ghost")
    assert r.status_code == 404 and r.json()["error"]["code"] == "member_not_found"


def test_balance_has_the_contract_fields(api, member):
    api.post("/api/v1/orders", {"member": member.external_id, "order_id": "1", "amount": "100.00", "currency": "EUR"})
    body = api.get(f"/api/v1/members/{member.external_id}/balance").json()
    assert {"available", "pending", "lifetime_earned", "expiring", "tier"} <= set(body)
    assert body["available"] == 10 and body["lifetime_earned"] == 10
    assert body["expiring"][0]["points"] == 10


def test_statement_is_newest_first_and_cursor_paginated(api, member):
    for n in range(5):
        api.post("/api/v1/orders", {"member": member.external_id, "order_id": f"o{n}", "amount": "10.00",
                                    "currency": "EUR"})
    page = api.get(f"/api/v1/members/{member.external_id}/transactions?limit=2").json()
    assert [t["reference"] for t in page["results"]] == ["o4", "o3"]
    assert {"id", "kind", "points", "balance_after", "reference", "created_at"} <= set(page["results"][0])
    seen = [t["reference"] for t in page["results"]]
    while page["next"]:
        page = api.get(page["next"]).json()
        seen += [t["reference"] for t in page["results"]]
    assert seen == ["o4", "o3", "o2", "o1", "o0"]
