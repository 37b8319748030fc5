"""Points and money are plain, bounded numbers everywhere they are typed: in the API and in the admin.

A points or money input beyond what the columns and the business allow, or written with digits other than
0-9 ("１００", which Python's int() reads as 100), is refused with a clear error, never a 500, and writes nothing;
no member's balance can grow past the bound that keeps every later order of theirs working."""

import pytest
from django.contrib.auth.models import Group, User

from core.fields import MAX_POINTS
from loyalty.models import Account, Transaction
from loyalty.services import ledger
from rewards.models import Reward
from tests.core.test_api_errors import assert_error, nothing_written

FULL_WIDTH_100 = "\uff11\uff10\uff10"  # "１００"
ARABIC_INDIC_10 = "\u0661\u0660"  # "١٠"


@pytest.fixture
def manager(db, program):
    user = User.objects.create_user("manager", password="pw", is_staff=True, is_superuser=True)
    user.groups.add(Group.objects.get(name="Manager"))
    return user


@pytest.fixture
def before(member):
    return nothing_written()


def give(api, member, points):
    return api.post("/api/v1/adjustments", {"member": member.external_id, "points": points, "reason": "goodwill"})


@pytest.mark.parametrize("points", [10**19, -(10**19), MAX_POINTS + 1, 9 * 10**18])
def test_adjustments_beyond_the_bound_are_400(api, member, before, points):
    error = assert_error(give(api, member, points), 400, "invalid")
    assert "points" in error["fields"]
    assert nothing_written() == before


@pytest.mark.parametrize(("path", "body", "field"), [
    ("/api/v1/adjustments", {"points": FULL_WIDTH_100, "reason": "r"}, "points"),
    ("/api/v1/adjustments", {"points": "1_000", "reason": "r"}, "points"),
    ("/api/v1/orders", {"order_id": "O-1", "amount": FULL_WIDTH_100, "currency": "EUR"}, "amount"),
    ("/api/v1/orders", {"order_id": "O-1", "amount": f"{ARABIC_INDIC_10}.00", "currency": "EUR"}, "amount"),
    ("/api/v1/orders", {"order_id": "O-1", "amount": "1000.00", "currency": "EUR",
                        "lines": [{"sku": "A", "amount": FULL_WIDTH_100}]}, "lines"),
    ("/api/v1/redemptions", {"points": FULL_WIDTH_100}, "points"),
    ("/api/v1/checkout/holds", {"order_id": "O-1", "points": FULL_WIDTH_100, "order_value": "50.00",
                                "currency": "EUR"}, "points"),
    ("/api/v1/checkout/holds", {"order_id": "O-1", "points": 100, "order_value": FULL_WIDTH_100,
                                "currency": "EUR"}, "order_value"),
])
def test_numbers_written_with_other_digits_are_400(api, member, before, path, body, field):
    r = api.post(path, {"member": member.external_id, **body})
    assert field in assert_error(r, 400, "invalid")["fields"]
    assert nothing_written() == before


def test_a_quote_and_a_refund_refuse_other_digits_too(api, member):
    assert api.post("/api/v1/orders", {"member": member.external_id, "order_id": "O-1", "amount": "100.00",
                                       "currency": "EUR"}).status_code == 201
    quote = api.post("/api/v1/quotes", {"member": member.external_id, "points": FULL_WIDTH_100},
                     idempotency_key=False)
    assert "points" in assert_error(quote, 400, "invalid")["fields"]
    refund = api.post("/api/v1/orders/O-1/refunds", {"amount": FULL_WIDTH_100})
    assert "amount" in assert_error(refund, 400, "invalid")["fields"]
    assert not Transaction.objects.filter(kind="refund").exists()


def test_plain_numbers_still_pass(api, member):
    assert give(api, member, "100").status_code == 201
    assert give(api, member, 100).status_code == 201
    r = api.post("/api/v1/orders", {"member": member.external_id, "order_id": "O-1", "amount": "100.5",
                                    "currency": "EUR"})
    assert r.status_code == 201, r.json()
    assert Account.objects.get(member=member).available == 210


def admin_adjust(client, member, points):
    return client.post(f"/admin/members/member/{member.pk}/adjust/",
                       {"points": points, "reason": "Goodwill", "key": f"k-{points}"})


@pytest.mark.parametrize("points", [10**19, 9 * 10**18, MAX_POINTS + 1, FULL_WIDTH_100])
def test_the_admin_adjust_form_refuses_what_the_api_refuses(client, manager, member, points):
    client.force_login(manager)
    r = admin_adjust(client, member, points)
    assert r.status_code == 200
    assert r.context["form"].errors["points"]
    assert not Transaction.objects.exists()


def test_a_reward_costing_more_than_the_bound_is_a_form_error(client, manager):
    client.force_login(manager)
    form = {"code": "big", "name": "Big", "kind": "physical", "points_cost": MAX_POINTS + 1, "active": "on"}
    r = client.post("/admin/rewards/reward/add/", form)
    assert r.status_code == 200
    assert r.context["adminform"].form.errors["points_cost"]
    r = client.post("/admin/rewards/reward/add/", {**form, "points_cost": FULL_WIDTH_100})
    assert r.context["adminform"].form.errors["points_cost"]
    assert not Reward.objects.exists()
    assert client.post("/admin/rewards/reward/add/", {**form, "points_cost": MAX_POINTS}).status_code == 302


def test_the_earning_rate_in_the_admin_is_bounded(client, manager, program):
    client.force_login(manager)
    page = client.get(f"/admin/loyalty/programsettings/{program.pk}/change/")
    form = {k: v for k, v in page.context["adminform"].form.initial.items() if v is not None}
    form.update(earn_points=1001, earn_amount="0.01", expiry_reminder_days="[30, 7]")
    r = client.post(f"/admin/loyalty/programsettings/{program.pk}/change/", form)
    assert r.status_code == 200
    assert r.context["adminform"].form.errors["earn_points"]


def test_no_balance_grows_past_the_bound(api, member, monkeypatch, client, manager):
    monkeypatch.setattr(ledger, "MAX_BALANCE", 1000)
    assert give(api, member, 900).status_code == 201
    error = assert_error(give(api, member, 101), 422, "balance_limit_exceeded")
    assert (error["limit"], error["balance"], error["requested"]) == (1000, 900, 101)
    order = api.post("/api/v1/orders", {"member": member.external_id, "order_id": "O-1", "amount": "5000.00",
                                        "currency": "EUR"})
    assert_error(order, 422, "balance_limit_exceeded")
    client.force_login(manager)
    r = admin_adjust(client, member, 500)
    assert r.status_code == 200 and "more than 1,000 points" in r.content.decode()
    assert give(api, member, 100).status_code == 201  # up to the bound itself
    assert give(api, member, -1000).status_code == 201  # debits are never refused by it
    assert Account.objects.get(member=member).available == 0


def test_a_member_token_on_a_shop_endpoint_is_told_what_it_is(api, member):
    from rest_framework.test import APIClient

    token = api.post(f"/api/v1/members/{member.external_id}/tokens", {}).json()["token"]
    app = APIClient(HTTP_AUTHORIZATION=f"Bearer {token}")
    for r in (app.get(f"/api/v1/members/{member.external_id}/balance"),
              app.post("/api/v1/redemptions", {"member": member.external_id, "points": 1}, format="json")):
        error = assert_error(r, 403, "permission_denied")
        assert "member token" in error["message"] and "/api/v1/me" in error["message"]
        assert "API key lacks" not in error["message"]
