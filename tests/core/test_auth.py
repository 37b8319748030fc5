from django.core.management import call_command

from core.models import ApiKey
from core.services import api_key_revoke
from tests.conftest import make_client


def test_no_credentials_is_401_in_the_shape(client, member):
    r = client.get(f"/api/v1/members/{member.external_id}/balance")
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "not_authenticated"


def test_unknown_key_is_401(client, member):
    r = client.get(f"/api/v1/members/{member.external_id}/balance", HTTP_AUTHORIZATION="Api-Key lk_nope")
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "authentication_failed"


def test_keys_are_stored_hashed_and_revocable(api, member):
    key = ApiKey.objects.get()
    assert api.raw_key not in (key.key_hash, key.prefix)
    assert api.get(f"/api/v1/members/{member.external_id}").status_code == 200
    api_key_revoke(api_key=key)
    assert api.get(f"/api/v1/members/{member.external_id}").status_code == 401


def test_a_narrowed_key_cannot_write(channel, program, member):
    reader = make_client(channel, scopes=["members:read"])
    assert reader.get(f"/api/v1/members/{member.external_id}/balance").status_code == 200
    r = reader.post("/api/v1/orders", {"member": member.external_id, "order_id": "1", "amount": "1.00",
                                       "currency": "EUR"})
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "permission_denied"


def test_default_shop_keys_cannot_adjust(channel, program, member):
    shop = make_client(channel)
    r = shop.post("/api/v1/adjustments", {"member": member.external_id, "points": 5, "reason": "goodwill"})
    assert r.status_code == 403


def test_create_api_key_command_prints_a_working_key_once(member, program, capsys):
    call_command("create_api_key", "--channel", "pos", "--scopes", "members:read")
    raw = capsys.readouterr().out.strip()
    assert raw.startswith("lk_")
    key = ApiKey.objects.get(channel__name="pos")
    assert key.scopes == ["members:read"]
    from rest_framework.test import APIClient

    client = APIClient(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    assert client.get(f"/api/v1/members/{member.external_id}").status_code == 200


def test_member_token_sees_only_that_members_data(api, member_factory):
    alice, bob = member_factory(), member_factory()
    api.post("/api/v1/orders", {"member": alice.external_id, "order_id": "A", "amount": "50.00", "currency": "EUR"})
    api.post("/api/v1/orders", {"member": bob.external_id, "order_id": "B", "amount": "90.00", "currency": "EUR"})
    r = api.post(f"/api/v1/members/{alice.external_id}/tokens", {})
    assert r.status_code == 201
    from rest_framework.test import APIClient

    app = APIClient(HTTP_AUTHORIZATION=f"Bearer {r.json()['token']}")
    assert app.get("/api/v1/me").json()["external_id"] == alice.external_id
    assert app.get("/api/v1/me/balance").json()["available"] == 5
    statement = app.get("/api/v1/me/transactions").json()["results"]
    assert [t["reference"] for t in statement] == ["A"]
    # The token opens nothing of the shop's API, so not Bob's data either.
    assert app.get(f"/api/v1/members/{bob.external_id}/balance").status_code == 403
    assert app.get(f"/api/v1/members/{alice.external_id}/balance").status_code == 403
    assert app.post("/api/v1/redemptions", {"member": alice.external_id, "points": 1}).status_code == 403


def test_expired_member_token_is_refused(api, member):
    import time_machine
    from django.utils import timezone

    token = api.post(f"/api/v1/members/{member.external_id}/tokens", {}).json()["token"]
    from rest_framework.test import APIClient

    app = APIClient(HTTP_AUTHORIZATION=f"Bearer {token}")
    with time_machine.travel(timezone.now() + timezone.timedelta(hours=1)):
        assert app.get("/api/v1/me/balance").status_code == 401
