from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from loyalty.models import Account, Lot
from rewards.models import Redemption
from rewards.services import holds_expire_due

pytestmark = pytest.mark.usefixtures("rules")


def hold(api, member, order_id="W-1", points=1000, order_value="100.00", **kw):
    return api.post("/api/v1/checkout/holds", {"member": member.external_id, "order_id": order_id, "points": points,
                                               "order_value": order_value, "currency": "EUR"}, **kw)


def available(member):
    return Account.objects.get(member=member).available


def test_hold_lowers_the_balance_and_confirm_keeps_it_spent(api, member, give):
    give(member, 3000)
    r = hold(api, member)
    assert r.status_code == 201, r.json()
    assert r.json()["status"] == "held" and r.json()["discount"] == "10.00"
    assert available(member) == 2000
    c = api.post(f"/api/v1/checkout/holds/{r.json()['id']}/confirm")
    assert c.status_code == 200 and c.json()["status"] == "completed"
    assert available(member) == 2000


def test_release_gives_the_points_back_to_their_lots(api, member, give):
    give(member, 3000)
    r = hold(api, member)
    rel = api.post(f"/api/v1/checkout/holds/{r.json()['id']}/release")
    assert rel.status_code == 200 and rel.json()["status"] == "released"
    assert available(member) == 3000
    assert Lot.objects.get().remaining == 3000
    assert api.post(f"/api/v1/checkout/holds/{r.json()['id']}/confirm").status_code == 409


def test_a_hold_lapses_on_its_own(api, member, give):
    give(member, 3000)
    hold_id = hold(api, member).json()["id"]
    assert holds_expire_due(now=timezone.now() + timedelta(minutes=10)) == 0
    assert holds_expire_due(now=timezone.now() + timedelta(minutes=31)) == 1
    assert holds_expire_due(now=timezone.now() + timedelta(minutes=31)) == 0
    assert Redemption.objects.get(pk=hold_id).status == "expired"
    assert available(member) == 3000


def test_confirm_after_the_hold_time_is_refused(api, member, give):
    give(member, 3000)
    hold_id = hold(api, member).json()["id"]
    with time_machine.travel(timezone.now() + timedelta(minutes=40)):
        r = api.post(f"/api/v1/checkout/holds/{hold_id}/confirm")
    assert r.status_code == 409 and r.json()["error"]["code"] == "hold_expired"


def test_checkout_rules(api, member, give, rules):
    give(member, 10000)
    r = hold(api, member, points=6000, order_value="100.00")
    error = r.json()["error"]
    assert (error["code"], error["needed"], error["got"]) == ("max_order_share", 5000, 6000)
    error = hold(api, member, points=100, order_value="19.99").json()["error"]
    assert (error["code"], error["needed"], error["got"]) == ("min_order_value", "20.00", "19.99")
    assert available(member) == 10000
    assert hold(api, member, order_id="A").status_code == 201
    r = hold(api, member, order_id="A")
    assert r.status_code == 409 and r.json()["error"]["code"] == "hold_exists"


def test_refund_of_an_order_paid_partly_with_points_gives_them_back_in_proportion(api, member, give, program):
    give(member, 3000)
    hold_id = hold(api, member, order_id="P-1", points=2000, order_value="100.00").json()["id"]
    api.post(f"/api/v1/checkout/holds/{hold_id}/confirm")
    # The customer paid 80.00 in money, 20.00 in points; the order earns on the 80.00 paid.
    api.post("/api/v1/orders", {"member": member.external_id, "order_id": "P-1", "amount": "80.00", "currency": "EUR"})
    assert available(member) == 1008
    r = api.post("/api/v1/orders/P-1/refunds", {"amount": "40.00"})
    assert r.status_code == 201, r.json()
    assert r.json()["points_taken"] == 4 and r.json()["points_returned"] == 1000
    assert available(member) == 1008 - 4 + 1000
    r = api.post("/api/v1/orders/P-1/refunds", {"amount": "40.00"})
    assert r.json()["points_returned"] == 1000
    assert Redemption.objects.get(pk=hold_id).points_returned == 2000
    assert available(member) == 3000
    assert sum(Lot.objects.values_list("remaining", flat=True)) == 3000


@pytest.mark.parametrize(("body", "status"), [
    ({"member": "ghost", "order_id": "x", "points": 10, "order_value": "50.00", "currency": "EUR"}, 404),
    ({"points": 10, "order_value": "50.00", "currency": "EUR"}, 400),
    ({"order_id": "x", "points": -1, "order_value": "50.00", "currency": "EUR"}, 400),
    ({"order_id": "x", "points": 10, "order_value": "lots", "currency": "EUR"}, 400),
    ({"order_id": "x", "points": 10, "order_value": "50.00", "currency": "USD"}, 422),
])
def test_bad_holds(api, member, give, body, status):
    give(member, 1000)
    body = {"member": member.external_id, **body}
    r = api.post("/api/v1/checkout/holds", body)
    assert r.status_code == status, r.json()
    assert not Redemption.objects.exists()
    assert available(member) == 1000


def test_unknown_hold_is_404(api):
    assert api.post("/api/v1/checkout/holds/999/confirm").status_code == 404
    assert api.post("/api/v1/checkout/holds/999/release").status_code == 404


def test_refund_of_an_order_whose_hold_was_never_confirmed_gives_the_points_back(api, member, give):
    give(member, 3000)
    hold_id = hold(api, member, order_id="N-1", points=1000).json()["id"]
    api.post("/api/v1/orders", {"member": member.external_id, "order_id": "N-1", "amount": "90.00", "currency": "EUR"})
    r = api.post("/api/v1/orders/N-1/refunds", {"amount": "90.00"})
    assert r.json()["points_returned"] == 1000
    assert api.post(f"/api/v1/checkout/holds/{hold_id}/confirm").json()["status"] == "completed"
    assert available(member) == 3000


def test_a_paid_hold_without_a_recorded_order_can_be_cancelled(api, member, give):
    give(member, 3000)
    hold_id = hold(api, member, order_id="Q-1").json()["id"]
    api.post(f"/api/v1/checkout/holds/{hold_id}/confirm")
    r = api.post(f"/api/v1/redemptions/{hold_id}/cancel", {})
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    assert available(member) == 3000
