from datetime import timedelta

import time_machine
from django.utils import timezone

from referrals.services import referral_code_ensure


def test_a_member_sees_their_own_page_through_the_link(api, client, member_factory):
    ada, bob = member_factory(name="Ada"), member_factory(name="Bob")
    code = referral_code_ensure(member=ada)  # as registering gives her
    api.post("/api/v1/orders", {"member": ada.external_id, "order_id": "A1", "amount": "120.00", "currency": "EUR"})
    api.post("/api/v1/orders", {"member": bob.external_id, "order_id": "B1", "amount": "990.00", "currency": "EUR"})
    token = api.post(f"/api/v1/members/{ada.external_id}/tokens", idempotency_key=False).json()["token"]

    r = client.get(f"/account/?token={token}")
    assert r.status_code == 302 and r.url == "/account/"  # the token leaves the address bar
    page = client.get("/account/").content.decode()
    assert "Hello, Ada" in page
    assert '<div class="big" id="available">12</div>' in page
    assert "A1" in page and "B1" not in page and "Bob" not in page
    assert f'id="referral-code">{code.code}<' in page


def test_an_expired_link_says_so(api, client, member):
    token = api.post(f"/api/v1/members/{member.external_id}/tokens", idempotency_key=False).json()["token"]
    client.get(f"/account/?token={token}")
    with time_machine.travel(timezone.now() + timedelta(hours=1)):
        r = client.get("/account/")
    assert r.status_code == 401 and "expired" in r.content.decode()
    assert client.get("/account/?token=mt_forged").status_code == 302
    assert client.get("/account/").status_code == 401
