"""Bad input gets a clear error in the one shape, with the right status, and writes nothing."""

import pytest

from core.models import IdempotencyRecord
from loyalty.models import Account, Lot, LotMovement, Order, Transaction
from members.models import Member
from rewards.models import Redemption


def nothing_written():
    return (Transaction.objects.count(), LotMovement.objects.count(), Lot.objects.count(), Order.objects.count(),
            Redemption.objects.count(), IdempotencyRecord.objects.count())


def assert_error(response, status, code=None):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    assert {"code", "message", "fields"} <= set(body["error"])
    assert body["error"]["message"]
    if code:
        assert body["error"]["code"] == code
    return body["error"]


@pytest.fixture
def before(member):
    return nothing_written()


ORDER = {"order_id": "O-1", "amount": "10.00", "currency": "EUR"}


@pytest.mark.parametrize(("change", "field"), [
    ({"amount": "ten"}, "amount"),
    ({"amount": -5}, "amount"),
    ({"amount": "1e30"}, "amount"),
    ({"amount": "99999999999.00"}, "amount"),
    ({"amount": "1.001"}, "amount"),
    ({"currency": "eur"}, "currency"),
    ({"currency": 978}, "currency"),
    ({"order_id": ""}, "order_id"),
    ({"order_id": None}, "order_id"),
    ({"order_id": "x" * 101}, "order_id"),
    ({"lines": "nope"}, "lines"),
    ({"lines": [{"sku": "A", "amount": "-1"}]}, "lines"),
    ({"lines": [{"sku": "A", "amount": "1.00", "colour": "red"}]}, "lines"),
    ({"occurred_at": "yesterday"}, "occurred_at"),
    ({"discount": "5"}, "discount"),
])
def test_malformed_orders_are_400_with_the_field(api, member, before, change, field):
    r = api.post("/api/v1/orders", {"member": member.external_id, **ORDER, **change})
    error = assert_error(r, 400, "invalid")
    assert field in error["fields"]
    assert nothing_written() == before


def test_unknown_member_is_404(api, before):
    r = api.post("/api/v1/orders", {"member": "nobody", **ORDER})
    assert_error(r, 404, "member_not_found")
    assert nothing_written() == before


def test_unsupported_currency_is_422(api, member, before):
    r = api.post("/api/v1/orders", {"member": member.external_id, **ORDER, "currency": "USD"})
    assert_error(r, 422, "currency_not_supported")
    assert nothing_written() == before


def test_lines_above_the_order_amount_are_refused(api, member, before):
    r = api.post("/api/v1/orders", {"member": member.external_id, **ORDER, "lines": [{"sku": "A", "amount": "11.00"}]})
    assert_error(r, 400, "invalid")
    assert nothing_written() == before


@pytest.mark.parametrize("body", ["not json", "[1, 2]", '"a string"', "{"])
def test_bodies_that_are_not_an_object_are_400(api, member, before, body):
    r = api.generic("POST", "/api/v1/orders", body, content_type="application/json",
                    headers={"Idempotency-Key": "x"})
    assert_error(r, 400)
    assert nothing_written() == before


@pytest.mark.parametrize(("payload", "status", "code"), [
    ({"points": 0}, 400, "invalid"),
    ({"points": -3}, 400, "invalid"),
    ({"points": "many"}, 400, "invalid"),
    ({"points": 10**12}, 400, "invalid"),
    ({"points": 1.5}, 400, "invalid"),
    ({"points": 5}, 422, "insufficient_points"),
])
def test_bad_redemptions(api, member, before, payload, status, code):
    r = api.post("/api/v1/redemptions", {"member": member.external_id, **payload})
    assert_error(r, status, code)
    assert nothing_written() == before
    assert not Account.objects.filter(member=member, available__gt=0).exists()


@pytest.mark.parametrize(("payload", "field"), [
    ({"points": 5}, "reason"),
    ({"points": 5, "reason": ""}, "reason"),
    ({"points": "x", "reason": "r"}, "points"),
])
def test_bad_adjustments(api, member, before, payload, field):
    r = api.post("/api/v1/adjustments", {"member": member.external_id, **payload})
    assert field in assert_error(r, 400)["fields"]
    assert nothing_written() == before


def test_unknown_redemption_and_unknown_url_are_404(api):
    assert_error(api.post("/api/v1/redemptions/999/cancel", {}), 404)
    assert_error(api.get("/api/v1/redemptions/999"), 404)
    assert_error(api.get("/api/v1/nothing-here"), 404)


def test_wrong_method_is_405_in_the_shape(api):
    assert_error(api.delete("/api/v1/orders"), 405, "method_not_allowed")


def test_bad_member_registrations(api):
    cases = [
        ({"external_id": "a b"}, "external_id"),
        ({"external_id": "ok", "email": "not-an-email"}, "email"),
        ({"external_id": "ok", "timezone": "Mars/Olympus"}, "timezone"),
        ({"external_id": "ok", "birth_date": "2999-01-01"}, "birth_date"),
        ({"external_id": "ok", "birth_date": "31/12/1990"}, "birth_date"),
        ({"external_id": "ok", "marketing_consent": "perhaps"}, "marketing_consent"),
        ({"external_id": "ok", "tier": "gold"}, "tier"),
    ]
    for payload, field in cases:
        r = api.post("/api/v1/members", payload)
        assert field in assert_error(r, 400)["fields"], payload
    # A string that is no phone number of the program's country: a rule the schema cannot state (422).
    r = api.post("/api/v1/members", {"external_id": "ok", "phone": "call me"})
    assert "phone" in assert_error(r, 422, "phone_invalid")["fields"]
    assert not Member.objects.filter(external_id="ok").exists()


@pytest.mark.parametrize("amount", ["NaN", "Infinity", "-Infinity", " ", True, [], {}])
def test_amounts_that_are_not_numbers_are_400(api, member, before, amount):
    r = api.post("/api/v1/orders", {"member": member.external_id, **ORDER, "amount": amount})
    assert "amount" in assert_error(r, 400, "invalid")["fields"]
    assert nothing_written() == before


def test_control_characters_in_a_path_are_404_not_500(api):
    assert_error(api.get("/api/v1/members/%00/balance"), 404)
    assert_error(api.post("/api/v1/orders/a%00b/refunds", {"amount": "1.00"}), 404)


def test_nul_in_a_body_string_is_400(api, member, before):
    r = api.post("/api/v1/orders", {"member": member.external_id, **ORDER, "order_id": "A\x00"})
    assert_error(r, 400)
    assert nothing_written() == before


def test_deeply_nested_json_is_400_not_500(api, member, before):
    body = "[" * 5000 + "]" * 5000
    r = api.generic("POST", "/api/v1/orders", body, content_type="application/json", headers={"Idempotency-Key": "n"})
    assert_error(r, 400)
    assert nothing_written() == before


def test_member_update_needs_an_idempotency_key(api, member):
    r = api.patch(f"/api/v1/members/{member.external_id}", {"name": "X"}, idempotency_key=False)
    assert_error(r, 400, "idempotency_key_missing")
