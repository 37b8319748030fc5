"""POST /api/v1/orders/batch: up to 1,000 orders, each exactly once by its own key, a result per order, partial
success reported; a malformed batch writes nothing."""

import pytest

from core.models import Scope
from loyalty.models import Account, Order, Transaction
from tests.conftest import make_client
from tests.loyalty.invariants import assert_ledger_balanced

BATCH = "/api/v1/orders/batch"


def order(member, order_id, amount="100.00", key=None, **extra):
    return {"idempotency_key": key or f"k-{order_id}", "member": getattr(member, "external_id", member),
            "order_id": order_id, "amount": amount, "currency": "EUR", **extra}


def batch(api, *orders):
    return api.post(BATCH, {"orders": list(orders)}, idempotency_key=False)


def test_each_order_gets_its_result_in_request_order_and_a_refused_one_stops_nothing(api, member_factory):
    a, b = member_factory(), member_factory()
    r = batch(api, order(a, "O-1"), order("nobody", "O-2"), order(b, "O-3", amount="55.00"),
              order(a, "O-4", currency="USD"))
    assert r.status_code == 200, r.json()
    body = r.json()
    assert (body["created"], body["replayed"], body["failed"]) == (2, 0, 2)
    assert [x["index"] for x in body["results"]] == [0, 1, 2, 3]
    assert [x["status"] for x in body["results"]] == [201, 404, 201, 422]
    assert body["results"][0]["order"]["points"] == 10 and body["results"][2]["order"]["points"] == 5
    assert body["results"][1]["error"]["code"] == "member_not_found"
    assert body["results"][3]["error"]["code"] == "currency_not_supported"
    assert sorted(Order.objects.values_list("order_id", flat=True)) == ["O-1", "O-3"]
    assert_ledger_balanced()


def test_a_refused_order_after_a_placed_one_of_the_same_member_leaves_the_balance_right(api, member):
    # The duplicate order fails after the ledger moved the member's balance in memory: the savepoint rolls it
    # back, and the next order of the same member must start from the database's balance, not the stale one.
    r = batch(api, order(member, "O-1"), order(member, "O-1", key="other", amount="70.00"),
              order(member, "O-2", amount="50.00"))
    assert [x["status"] for x in r.json()["results"]] == [201, 409, 201]
    assert r.json()["results"][1]["error"]["code"] == "duplicate_order"
    account = Account.objects.get(member=member)
    assert account.available + account.pending == 15
    assert list(Transaction.objects.filter(member=member).order_by("id").values_list("balance_after", flat=True)) \
        == [10, 15]
    assert_ledger_balanced()


def test_every_order_is_idempotent_by_its_own_key_across_batches_and_the_single_path(api, member):
    single = api.post("/api/v1/orders", {k: v for k, v in order(member, "O-1").items() if k != "idempotency_key"},
                      idempotency_key="k-O-1")
    assert single.status_code == 201
    first = batch(api, order(member, "O-1"), order(member, "O-2"))
    assert [(x["status"], x["replayed"]) for x in first.json()["results"]] == [(201, True), (201, False)]
    assert first.json()["results"][0]["order"] == single.json()
    again = batch(api, order(member, "O-1"), order(member, "O-2", amount="99.00"), order(member, "O-3"))
    assert [x["status"] for x in again.json()["results"]] == [201, 409, 201]
    assert again.json()["results"][1]["error"]["code"] == "idempotency_key_reused"
    assert (again.json()["created"], again.json()["replayed"], again.json()["failed"]) == (1, 1, 1)
    assert Order.objects.count() == 3
    assert_ledger_balanced()


def test_the_same_key_twice_in_one_batch_is_one_write(api, member):
    r = batch(api, order(member, "O-1"), order(member, "O-1"))
    assert [(x["status"], x["replayed"]) for x in r.json()["results"]] == [(201, False), (201, True)]
    assert Order.objects.count() == 1


@pytest.mark.parametrize("orders", [
    [],
    "not a list",
    [{"member": "M-1", "order_id": "O-1", "amount": "1.00", "currency": "EUR"}],  # no idempotency_key
    [{"idempotency_key": "k", "member": "M-1", "order_id": "O-1", "amount": "abc", "currency": "EUR"}],
    [{"idempotency_key": "k" * 256, "member": "M-1", "order_id": "O-1", "amount": "1.00", "currency": "EUR"}],
])
def test_a_malformed_batch_is_a_400_and_writes_nothing(api, member, orders):
    good = order(member, "O-ok")
    r = batch(api, good, *orders) if isinstance(orders, list) and orders else \
        api.post(BATCH, {"orders": orders}, idempotency_key=False)
    assert r.status_code == 400, r.json()
    assert r.json()["error"]["code"] == "invalid"
    assert not Order.objects.exists()


def test_more_than_1000_orders_are_refused_whole(api, member):
    r = batch(api, *[order(member, f"O-{n}") for n in range(1001)])
    assert r.status_code == 400
    assert "orders" in r.json()["error"]["fields"]
    assert not Order.objects.exists()


def test_the_batch_needs_the_earn_scope(channel, program, member):
    reader = make_client(channel, scopes=[Scope.MEMBERS_READ])
    r = reader.post(BATCH, {"orders": [order(member, "O-1")]}, idempotency_key=False)
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "permission_denied"


def test_an_order_whose_id_is_batch_can_still_be_read(api, member):
    assert batch(api, order(member, "batch")).json()["created"] == 1
    r = api.get("/api/v1/orders/batch")
    assert r.status_code == 200
    assert (r.json()["order_id"], r.json()["points"]) == ("batch", 10)


def test_a_batch_costs_its_orders_statements_and_a_few_more(api, member_factory):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    members = [member_factory() for _ in range(4)]
    batch(api, *[order(m, f"W-{n}") for n, m in enumerate(members)])  # warm: caches, accounts
    with CaptureQueriesContext(connection) as five:
        batch(api, *[order(m, f"A-{n}") for n, m in enumerate(members + members[:1])])
    with CaptureQueriesContext(connection) as ten:
        batch(api, *[order(m, f"B-{n}") for n, m in enumerate(members * 2 + members[:2])])
    per_order = (len(ten) - len(five)) / 5
    # The set-based earn (config.earn_set): the orders it covers are read and written together, at most one
    # statement more per order here (23 each when the batch placed them one by one). The tests cache nothing
    # (SETTINGS_CACHE_SECONDS=0), so the batch's own count includes the reads of program settings, tiers, plans
    # and the API key; besides them: the members, the locks, the one read, the referral parties, the claim of every
    # key (in a savepoint), the one write.
    assert per_order <= 1, per_order
    assert len(five) <= 22, len(five)


def test_a_replayed_key_leaves_the_batchs_lock_wait_as_it_was(channel, program):
    """The claim bounds its wait with lock_timeout and puts it back; on a replay it must put it back too, or every
    later order of the batch would give up on a lock after IDEMPOTENCY_WAIT_SECONDS."""
    from django.db import connection, transaction

    from core.idempotency import idempotent_item

    def lock_timeout():
        with connection.cursor() as cursor:
            cursor.execute("SHOW lock_timeout")
            return cursor.fetchone()[0]

    with transaction.atomic():
        before = lock_timeout()
        answers = [idempotent_item(channel_id=channel.pk, key="k-1", digest="d", perform=lambda: (201, {"ok": 1}))
                   for _ in range(2)]
        assert [replayed for _, _, replayed in answers] == [False, True]
        assert lock_timeout() == before


def test_a_referral_attached_after_the_batch_locked_its_members_refuses_that_order_only(program, member_factory):
    """The batch locks its members and their referral parties up front; a referral attached since names a member
    it did not lock (below one it holds): that order is a 409 referral_changed, never a broken lock order."""
    from django.db import transaction
    from django.utils import timezone

    from config.flows import order_place
    from core.errors import Conflict
    from loyalty import locks
    from referrals.models import Program, Referral

    referrer, referred = member_factory(), member_factory()
    assert referrer.pk < referred.pk
    with transaction.atomic():
        with locks.members_locked([referred.pk]):  # what the batch locked before the referral existed
            prog = Program.objects.create(name="Friends", active=True)
            Referral.objects.create(program=prog, referrer=referrer, referred=referred, code="FRIEND1",
                                    created_at=timezone.now())
            with pytest.raises(Conflict) as refused:
                order_place(member=referred, channel_id=1, order_id="o-1", amount=100, currency="EUR",
                            idempotency_key="k-o-1")
            assert refused.value.code == "referral_changed"


@pytest.mark.parametrize("fingerprints", [("", "card-1"), ("card-1", "card-2")], ids=["mixed", "all-general"])
def test_the_orders_a_batch_hands_to_the_general_flow_run_on_the_sessions_plans(channel, program, member_factory,
                                                                                fingerprints):
    """The set-based earn's generic plans (config.earn_set._GENERIC_PLANS) end before the batch's general orders run."""
    from django.db import connection

    from config.api import OrderEarnSerializer
    from config.flows import BatchItem, orders_place_batch

    def plan_mode():
        with connection.cursor() as cursor:
            cursor.execute("SHOW plan_cache_mode")
            return cursor.fetchone()[0]

    items, seen = [], []
    for n, fingerprint in enumerate(fingerprints):
        member = member_factory()
        serializer = OrderEarnSerializer(data={"member": member.external_id, "order_id": f"GP-{n}", "amount": "10.00",
                                               "currency": "EUR", "payment_fingerprint": fingerprint})
        assert serializer.is_valid(), serializer.errors
        items.append(BatchItem(key=f"k-{n}", digest="d", member=member, data=serializer.validated_data,
                               perform=lambda: (seen.append(plan_mode()), (201, {}))[1]))
    before = plan_mode()
    results = orders_place_batch(channel_id=channel.pk, items=items)
    assert [status for status, _, _ in results] == [201, 201]
    assert seen == [before] * sum(bool(f) for f in fingerprints)
