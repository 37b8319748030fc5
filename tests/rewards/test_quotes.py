import pytest

from loyalty.models import Transaction

pytestmark = pytest.mark.usefixtures("rules")


def quote(api, member, **body):
    return api.post("/api/v1/quotes", {"member": member.external_id, "order_value": "80.00", **body},
                    idempotency_key=False)


def test_a_quote_in_a_currency_the_program_does_not_run_in_is_refused_as_a_hold_would_be(api, member, give):
    give(member, 1500)
    before = Transaction.objects.count()
    r = quote(api, member, currency="USD", points=500)
    assert r.status_code == 422, r.json()
    assert r.json()["error"]["code"] == "currency_not_supported"
    assert r.json()["error"]["fields"] == {"currency": ["Expected EUR."]}
    hold = api.post("/api/v1/checkout/holds", {"member": member.external_id, "order_id": "O-1", "points": 500,
                                               "order_value": "80.00", "currency": "USD"})
    assert (hold.status_code, hold.json()["error"]["code"]) == (422, r.json()["error"]["code"])
    assert Transaction.objects.count() == before


def test_a_quote_in_the_program_currency_or_none_answers_the_figures(api, member, give):
    give(member, 1500)
    for extra in ({"currency": "EUR"}, {}):
        body = quote(api, member, **extra).json()
        assert body["currency"] == "EUR" and body["checkout"]["max_points"] == 1500
