import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from rewards.models import Redemption, Reward
from tests.conftest import ShopClient
from tests.loyalty.invariants import assert_ledger_balanced


@pytest.mark.django_db(transaction=True)
def test_thirty_members_racing_for_the_last_five_items_get_exactly_five(api, member_factory, give, mug, rules):
    members = [member_factory() for _ in range(30)]
    for m in members:
        give(m, 500)
    barrier = threading.Barrier(30)

    def attempt(member):
        client = ShopClient()
        client.credentials(HTTP_AUTHORIZATION=f"Api-Key {api.raw_key}")
        try:
            barrier.wait()
            return client.post("/api/v1/redemptions", {"member": member.external_id, "reward": "mug"}).status_code
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=30) as pool:
        codes = list(pool.map(attempt, members))
    assert codes.count(201) == 5 and codes.count(422) == 25
    assert Reward.objects.get(code="mug").stock == 0
    assert Redemption.objects.count() == 5
    assert_ledger_balanced()
