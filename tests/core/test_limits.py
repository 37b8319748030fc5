"""Limits on what a request may carry, each answered in the API's error shape and writing nothing."""

import io

from loyalty.models import Order


def test_a_body_over_the_limit_is_refused_with_413_before_it_is_read(api, member, settings):
    settings.API_MAX_BODY_BYTES = 2048
    padding = "x" * 4096
    r = api.post("/api/v1/orders", {"member": member.external_id, "order_id": "BIG", "amount": "10.00",
                                    "currency": "EUR", "store": padding})
    assert r.status_code == 413
    assert r.json()["error"]["code"] == "request_too_large" and r.json()["error"]["limit_bytes"] == 2048
    assert not Order.objects.exists()


def test_a_body_without_a_declared_length_is_cut_off_at_the_limit(member, settings):
    from rest_framework.test import APIRequestFactory

    from core.parsers import RequestTooLarge, SafeJSONParser

    settings.API_MAX_BODY_BYTES = 100
    request = APIRequestFactory().post("/x", data=b"{}", content_type="application/json")
    request.META.pop("CONTENT_LENGTH", None)
    stream = io.BytesIO(b'{"a": "' + b"y" * 10_000 + b'"}')
    try:
        SafeJSONParser().parse(stream, parser_context={"request": request})
    except RequestTooLarge:
        pass
    else:
        raise AssertionError("an over-long undeclared body was parsed")
    assert stream.tell() == 101  # read no further than the limit and one byte


def test_a_body_under_the_limit_is_parsed_as_before(api, member):
    r = api.post("/api/v1/orders", {"member": member.external_id, "order_id": "OK", "amount": "10.00",
                                    "currency": "EUR"})
    assert r.status_code == 201


def test_an_idempotency_key_too_long_says_so(api, member):
    r = api.post("/api/v1/orders", {"member": member.external_id, "order_id": "K", "amount": "10.00",
                                    "currency": "EUR"}, idempotency_key="k" * 256)
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "idempotency_key_too_long" and r.json()["error"]["max_length"] == 255
    assert not Order.objects.exists()
