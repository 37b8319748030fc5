import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from loyalty.models import Account
from rewards.models import Voucher
from tests.conftest import ShopClient


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("round_", range(3))
def test_a_voucher_is_either_used_or_refunded_never_both(api, member, give, coffee, rules, round_):
    give(member, 300)
    red = api.post("/api/v1/redemptions", {"member": member.external_id, "reward": "coffee"}).json()
    code = red["vouchers"][0]["code"]
    barrier = threading.Barrier(2)

    def call(path):
        client = ShopClient()
        client.credentials(HTTP_AUTHORIZATION=f"Api-Key {api.raw_key}")
        try:
            barrier.wait()
            return client.post(path, {}).status_code
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=2) as pool:
        used, cancelled = pool.map(call, [f"/api/v1/vouchers/{code}/redeem", f"/api/v1/redemptions/{red['id']}/cancel"])
    voucher = Voucher.objects.get()
    balance = Account.objects.get(member=member).available
    if voucher.status == "redeemed":
        assert (used, cancelled, balance) == (200, 409, 0)
    else:
        assert (voucher.status, cancelled, balance) == ("void", 200, 300)
        assert used == 422
