"""A member's vouchers and redemptions, for the shop and for the member's own app, paged like the statement."""

import pytest

pytestmark = pytest.mark.usefixtures("rules")


@pytest.fixture
def ada_with_three_coffees(api, member_factory, give, coffee):
    ada, bob = member_factory(name="Ada"), member_factory(name="Bob")
    give(ada, 900)
    give(bob, 300)
    ids = [api.post("/api/v1/redemptions", {"member": ada.external_id, "reward": "coffee"}).json()["id"]
           for _ in range(3)]
    api.post("/api/v1/redemptions", {"member": bob.external_id, "reward": "coffee"})
    return ada, ids


def test_the_shop_pages_through_a_members_vouchers_newest_first(api, ada_with_three_coffees):
    ada, ids = ada_with_three_coffees
    first = api.get(f"/api/v1/members/{ada.external_id}/vouchers?limit=2").json()
    assert len(first["results"]) == 2 and first["next"]
    rest = api.get(first["next"]).json()
    assert len(rest["results"]) == 1 and rest["next"] is None
    vouchers = first["results"] + rest["results"]
    assert {v["member"] for v in vouchers} == {ada.external_id}
    assert [v["reward"] for v in vouchers] == ["coffee"] * 3 and all(v["status"] == "issued" for v in vouchers)
    assert api.post(f"/api/v1/vouchers/{vouchers[0]['code']}/redeem", {}).status_code == 200
    issued = api.get(f"/api/v1/members/{ada.external_id}/vouchers?status=issued").json()["results"]
    assert [v["code"] for v in issued] == [v["code"] for v in vouchers[1:]]


def test_the_shop_pages_through_a_members_redemptions(api, ada_with_three_coffees):
    ada, ids = ada_with_three_coffees
    body = api.get(f"/api/v1/members/{ada.external_id}/redemptions?limit=2").json()
    assert [r["id"] for r in body["results"]] == ids[::-1][:2]
    assert [r["id"] for r in api.get(body["next"]).json()["results"]] == ids[:1]
    assert body["results"][0]["vouchers"][0]["reward"] == "coffee" and body["results"][0]["points"] == 300


def test_a_member_sees_only_their_own_vouchers_and_redemptions(api, ada_with_three_coffees):
    ada, ids = ada_with_three_coffees
    token = api.post(f"/api/v1/members/{ada.external_id}/tokens", idempotency_key=False).json()["token"]
    from rest_framework.test import APIClient

    app = APIClient()
    app.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    vouchers = app.get("/api/v1/me/vouchers").json()["results"]
    assert len(vouchers) == 3 and {v["member"] for v in vouchers} == {ada.external_id}
    assert [r["id"] for r in app.get("/api/v1/me/redemptions").json()["results"]] == ids[::-1]
    # The member's token reads no other member's listing; the shop's own listing needs a shop key.
    assert app.get("/api/v1/members/someone-else/vouchers").status_code in (401, 403)


def test_unknown_member_and_no_credentials_are_refused(api, client):
    r = api.get("/api/v1/members/nobody/vouchers")
    assert r.status_code == 404 and r.json()["error"]["code"] == "member_not_found"
    assert client.get("/api/v1/me/redemptions").status_code == 401
