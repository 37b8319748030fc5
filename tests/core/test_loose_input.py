"""Input a shop might send by mistake is refused with a 400 that names the field, instead of being read some
other way: a cursor that is not one, a page size or filter value the listing does not know, a date before the
program could have existed, null for a field that cannot be empty, a number where text is expected, and
amounts that are not plain digit strings."""

import pytest

from loyalty.models import Account, Order
from tests.core.test_api_errors import assert_error, nothing_written


def statement(api, member, query):
    return api.get(f"/api/v1/members/{member.external_id}/transactions?{query}")


@pytest.mark.parametrize("query", ["cursor=bm90LWEtY3Vyc29y", "cursor=%%%", "cursor=cD0x%21", "limit=-5", "limit=abc",
                                   "limit=0", "limit=201", "limit=1e2", "kind=earnn", "kind=earn&kind=nope"])
def test_a_listing_refuses_what_it_cannot_read(api, member, query):
    name = query.split("=")[0]
    error = assert_error(statement(api, member, query), 400, "invalid")
    assert name in error["fields"]


def test_a_listing_still_pages_and_filters(api, member):
    for n in range(3):
        api.post("/api/v1/adjustments", {"member": member.external_id, "points": 10 + n, "reason": "goodwill"})
    page = statement(api, member, "limit=2&kind=adjust").json()
    assert [t["points"] for t in page["results"]] == [12, 11]
    rest = api.get(page["next"]).json()
    assert [t["points"] for t in rest["results"]] == [10]


def test_vouchers_listing_refuses_an_unknown_status(api, member):
    r = api.get(f"/api/v1/members/{member.external_id}/vouchers?status=isued")
    assert "status" in assert_error(r, 400, "invalid")["fields"]


def order(api, member, **body):
    return api.post("/api/v1/orders", {"member": member.external_id, "order_id": "O-1", "amount": "100.00",
                                       "currency": "EUR", **body})


@pytest.mark.parametrize("when", ["0001-01-01T00:00:00Z", "1999-12-31T23:59:59Z"])
def test_an_order_from_before_the_program_is_refused_and_earns_nothing(api, member, when):
    before = nothing_written()
    assert "occurred_at" in assert_error(order(api, member, occurred_at=when), 400, "invalid")["fields"]
    assert nothing_written() == before


@pytest.mark.parametrize("amount", ["1e5", "1E5", " 5", "5 ", "+5", "-5", "", ".", "5.", ".5", "1.234", 5, 5.5, True])
def test_amounts_that_are_not_plain_digit_strings_are_refused(api, member, amount):
    before = nothing_written()
    assert "amount" in assert_error(order(api, member, amount=amount), 400, "invalid")["fields"]
    assert nothing_written() == before


def test_a_plain_amount_earns(api, member):
    assert order(api, member, amount="0100.5").status_code == 201
    assert Order.objects.get().amount == 100.5
    assert Account.objects.get(member=member).available == 10


@pytest.mark.parametrize("field", ["name", "email", "phone", "timezone", "marketing_consent", "language", "status"])
def test_patch_with_null_for_a_field_that_cannot_be_empty_is_400(api, member, field):
    r = api.patch(f"/api/v1/members/{member.external_id}", {field: None})
    assert field in assert_error(r, 400, "invalid")["fields"]


@pytest.mark.parametrize(("field", "value"), [("name", 42), ("email", 7), ("phone", 4412345678),
                                              ("marketing_consent", "yes"), ("marketing_consent", 1)])
def test_a_value_of_the_wrong_json_type_is_refused(api, member, field, value):
    r = api.patch(f"/api/v1/members/{member.external_id}", {field: value})
    assert field in assert_error(r, 400, "invalid")["fields"]
    r = api.post("/api/v1/members", {"external_id": "new-1", field: value})
    assert field in assert_error(r, 400, "invalid")["fields"]


def test_a_number_for_an_order_id_is_refused(api, member):
    assert "order_id" in assert_error(order(api, member, order_id=1001), 400, "invalid")["fields"]


def test_lines_per_order_and_page_sizes_are_bounded(api, member):
    lines = [{"sku": f"S-{n}", "amount": "0.10"} for n in range(1001)]
    assert "lines" in assert_error(order(api, member, lines=lines), 400, "invalid")["fields"]
    assert "limit" in assert_error(statement(api, member, "limit=100000"), 400, "invalid")["fields"]
