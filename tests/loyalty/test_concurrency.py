"""Invariants 2, 3 and 5 under real concurrency: threads with their own database connections and their own
API clients, released together by a barrier, against PostgreSQL. Nothing here is simulated with mocks."""

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from django.db import connection

from config import flows
from core.models import IdempotencyRecord
from loyalty.models import Account, Order, Transaction
from rewards import services as rewards
from rewards.models import Redemption
from tests.conftest import ShopClient
from tests.loyalty.invariants import assert_ledger_balanced

pytestmark = pytest.mark.django_db(transaction=True)


def run_together(count: int, work) -> list:
    """Run work(i) for i in range(count) in `count` threads that start at the same moment. Each thread
    closes its own database connection when it is done."""
    barrier = threading.Barrier(count)

    def worker(i):
        try:
            barrier.wait(timeout=15)
            return work(i)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(worker, range(count)))


def shop_client(api) -> ShopClient:
    """A client of its own for one thread, with the same shop key as `api`."""
    client = ShopClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {api.raw_key}")
    return client


def earn(member, channel, points: int, order_id: str) -> Order:
    """Give the member exactly `points` (the program pays 1 point per 10.00)."""
    return flows.order_place(member=member, channel_id=channel.pk, order_id=order_id,
                             amount=Decimal(points * 10), currency="EUR", idempotency_key=f"seed-{order_id}")[0]


def post(api, path, body, key):
    response = shop_client(api).post(path, body, idempotency_key=key)
    return response.status_code, response.json(), response.headers.get("Idempotent-Replayed")


def test_fifty_redemptions_at_once_never_spend_more_than_the_balance(api, channel, member):
    earn(member, channel, 100, "SEED-1")

    results = run_together(50, lambda i: post(api, "/api/v1/redemptions", {"member": member.external_id,
                                                                           "points": 10}, f"redeem-{i}"))

    statuses = Counter(status for status, _, _ in results)
    assert statuses == {201: 10, 422: 40}
    assert {body["error"]["code"] for status, body, _ in results if status == 422} == {"insufficient_points"}
    # The spends were taken one after the other: each saw the balance the previous one left.
    balances_after = sorted(body["transaction"]["balance_after"] for status, body, _ in results if status == 201)
    assert balances_after == list(range(0, 100, 10))
    account = Account.objects.get(member=member)
    assert (account.available, account.pending, account.lifetime_redeemed) == (0, 0, 100)
    assert Redemption.objects.filter(member=member).count() == 10
    assert Transaction.objects.filter(member=member, kind=Transaction.Kind.REDEEM).count() == 10
    # Refused writes roll their idempotency claim back, so the shop may retry them with the same key.
    assert IdempotencyRecord.objects.filter(key__startswith="redeem-").count() == 10
    assert_ledger_balanced(member.pk)


def test_twenty_identical_orders_at_once_earn_once_and_all_get_the_same_answer(api, member):
    body = {"member": member.external_id, "order_id": "RACE-1", "amount": "250.00", "currency": "EUR"}

    results = run_together(20, lambda i: post(api, "/api/v1/orders", body, "order-race-key"))

    assert [status for status, _, _ in results] == [201] * 20
    first = results[0][1]
    assert first["points"] == 25
    assert all(answer == first for _, answer, _ in results)
    assert sum(1 for _, _, replayed in results if replayed == "true") == 19
    assert Order.objects.filter(order_id="RACE-1").count() == 1
    assert Transaction.objects.filter(member=member, kind=Transaction.Kind.EARN).count() == 1
    assert Account.objects.get(member=member).available == 25
    assert_ledger_balanced(member.pk)


@pytest.mark.parametrize("same_member", [True, False], ids=["same-member", "another-member"])
def test_one_order_id_sent_twice_at_once_under_different_keys_earns_once(api, member, member_factory, same_member):
    members = [member, member if same_member else member_factory()]

    results = run_together(2, lambda i: post(api, "/api/v1/orders", {
        "member": members[i].external_id, "order_id": "DUP-1", "amount": "100.00", "currency": "EUR"}, f"dup-{i}"))

    assert sorted(status for status, _, _ in results) == [201, 409]
    assert [body["error"]["code"] for status, body, _ in results if status == 409] == ["duplicate_order"]
    assert Order.objects.filter(order_id="DUP-1").count() == 1
    assert Transaction.objects.filter(kind=Transaction.Kind.EARN).count() == 1
    assert sum(Account.objects.values_list("available", flat=True)) == 10
    assert_ledger_balanced()


def test_a_redemption_cancelled_by_many_requests_at_once_gives_its_points_back_once(api, channel, member):
    earn(member, channel, 100, "SEED-2")
    redemption = rewards.redemption_create(member=member, points=60, channel_id=channel.pk, idempotency_key="r-1")

    results = run_together(10, lambda i: post(api, f"/api/v1/redemptions/{redemption.pk}/cancel", {},
                                              f"cancel-{i}"))

    statuses = Counter(status for status, _, _ in results)
    assert statuses == {200: 1, 409: 9}
    assert {body["error"]["code"] for status, body, _ in results if status == 409} == {"redemption_not_cancellable"}
    assert [body["status"] for status, body, _ in results if status == 200] == ["cancelled"]
    assert Transaction.objects.filter(member=member, kind=Transaction.Kind.REDEEM_CANCEL).count() == 1
    account = Account.objects.get(member=member)
    assert (account.available, account.lifetime_redeemed) == (100, 0)
    assert_ledger_balanced(member.pk)


def test_a_cancel_retried_at_once_with_one_key_gives_the_points_back_once(api, channel, member):
    earn(member, channel, 100, "SEED-3")
    redemption = rewards.redemption_create(member=member, points=30, channel_id=channel.pk, idempotency_key="r-2")

    results = run_together(10, lambda i: post(api, f"/api/v1/redemptions/{redemption.pk}/cancel", {}, "cancel"))

    assert [status for status, _, _ in results] == [200] * 10
    assert all(body == results[0][1] for _, body, _ in results)
    assert Transaction.objects.filter(member=member, kind=Transaction.Kind.REDEEM_CANCEL).count() == 1
    assert Account.objects.get(member=member).available == 100
    assert_ledger_balanced(member.pk)


def test_ten_partial_refunds_at_once_never_refund_more_than_the_order(api, channel, member):
    earn(member, channel, 100, "REF-1")  # an order of 1000.00 that earned 100 points

    results = run_together(10, lambda i: post(api, "/api/v1/orders/REF-1/refunds", {"amount": "300.00"},
                                              f"refund-{i}"))

    statuses = Counter(status for status, _, _ in results)
    assert statuses == {201: 3, 422: 7}
    assert {body["error"]["code"] for status, body, _ in results if status == 422} == {"refund_exceeds_order"}
    assert sorted(body["points_taken"] for status, body, _ in results if status == 201) == [30, 30, 30]
    order = Order.objects.get(order_id="REF-1")
    assert (order.refunded_amount, order.points_reversed) == (Decimal("900.00"), 90)
    assert Account.objects.get(member=member).available == 10
    assert_ledger_balanced(member.pk)


def test_earning_and_spending_at_once_for_two_members_neither_deadlocks_nor_loses_points(api, channel, member_factory):
    """Orders, redemptions and adjustments for two members interleave; each request locks only its own
    member's account, so all of them finish, and every point is accounted for."""
    alice, bob = member_factory(), member_factory()
    earn(alice, channel, 50, "SEED-A")
    earn(bob, channel, 50, "SEED-B")
    people = [alice, bob]

    def work(i):
        who = people[i % 2]
        if i % 3 == 0:
            return post(api, "/api/v1/orders", {"member": who.external_id, "order_id": f"MIX-{i}", "amount": "30.00",
                                                "currency": "EUR"}, f"mix-{i}")
        return post(api, "/api/v1/redemptions", {"member": who.external_id, "points": 5}, f"mix-{i}")

    results = run_together(24, work)

    assert {status for status, _, _ in results} <= {201, 422}
    for who in people:
        earned = 50 + 3 * Order.objects.filter(member=who, order_id__startswith="MIX-").count()
        redeemed = 5 * Redemption.objects.filter(member=who).count()
        assert Account.objects.get(member=who).available == earned - redeemed >= 0
    assert_ledger_balanced()


def test_an_earn_that_waited_for_a_lock_decides_the_tier_on_what_the_holder_committed(api, channel, member):
    """The set-based earn locks in one statement and reads in the next: a read that began before the wait would see
    the locked rows as the holder left them but the qualifying activity as it was before (here: a refund's take-back
    of 25 points, committed while the earn waits), and lift the member to silver on points they no longer have."""
    from members.models import MembershipSettings, QualifyingActivity, Tier, TierChange, TierStatus
    from members.services import tier_activity_prepare

    for rank, (code, threshold) in enumerate([("bronze", 0), ("silver", 30)], start=1):
        Tier.objects.create(code=code, name=code.title(), rank=rank, threshold=Decimal(threshold))
    settings_ = MembershipSettings.current()
    settings_.basis = MembershipSettings.Basis.POINTS
    settings_.save()
    earn(member, channel, 25, "SEED-1")  # bronze, 25 qualifying points: 5 short of silver
    assert TierStatus.objects.get(member=member).tier.code == "bronze"

    holding, release = threading.Event(), threading.Event()

    def holder(_):
        from django.db import transaction

        with transaction.atomic():
            Account.objects.select_for_update().get(member=member)
            tier_activity_prepare(member_id=member.pk)  # and the tier status, as a refund holds them
            QualifyingActivity.objects.filter(member=member).update(points=0)
            holding.set()
            release.wait(timeout=15)
        return None

    def earner(_):
        holding.wait(timeout=15)
        return post(api, "/api/v1/orders", {"member": member.external_id, "order_id": "AFTER-1", "amount": "100.00",
                                            "currency": "EUR"}, "after-1")

    with ThreadPoolExecutor(max_workers=2) as pool:
        held = pool.submit(lambda: (holder(0), connection.close()))
        earned = pool.submit(lambda: (earner(0), connection.close()))
        holding.wait(timeout=15)
        with connection.cursor() as cursor:  # the earn is waiting for the holder's lock
            for _ in range(150):
                cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                               "AND wait_event_type = 'Lock'")
                if cursor.fetchone()[0]:
                    break
                threading.Event().wait(0.02)
            else:
                pytest.fail("the earn never waited for the lock")
        release.set()
        held.result(timeout=15)
        status, body, _ = earned.result(timeout=15)[0]

    assert status == 201, body
    assert body["points"] == 10 and body["tier_upgrade"] is None  # 0 + 10 points: still bronze
    assert TierStatus.objects.get(member=member).tier.code == "bronze"
    assert not TierChange.objects.filter(member=member, to_tier__code="silver").exists()


def test_a_referral_attached_between_the_locks_and_the_read_is_refused_not_locked_out_of_order(
        api, channel, member_factory, monkeypatch):
    """The set-based earn's read reads only the accounts its lock statement locked: a referrer who appears between
    the two statements (attached by another request, which locks no account) would be locked out of member-id order,
    and could deadlock against a batch holding them. The order is refused (409 referral_changed); sent again, it
    locks the referrer first and pays the referral."""
    from config import earn_set
    from referrals.models import Program, Referral
    from referrals.services import referral_attach, referral_code_ensure

    Program.objects.create(name="Refer a friend", active=True, kind=Program.Kind.SINGLE_TIER, referrer_points=100,
                           welcome_points=0, min_order_amount=Decimal("20.00"), qualify_days=30, attach_days=7)
    referrer, member = member_factory(), member_factory()  # the referrer's id is the lower one
    earn(referrer, channel, 1, "SEED-R")
    earn(member, channel, 1, "SEED-1")  # both accounts exist: only the referral is new
    code = referral_code_ensure(member=referrer).code
    execute, attached = earn_set._execute, []

    free = []

    def referrer_lock_free() -> bool:
        from django.db import OperationalError, transaction

        try:
            with transaction.atomic():
                Account.objects.select_for_update(nowait=True).get(member=referrer)
            return True
        except OperationalError:
            return False
        finally:
            connection.close()

    def between(sql, params):
        cursor = execute(sql, params)
        with ThreadPoolExecutor(max_workers=1) as pool:
            if sql == earn_set._lock_sql() and not attached:  # another request attaches the referral, and commits
                attached.append(pool.submit(lambda: (referral_attach(member=member, code=code),
                                                     connection.close())[0]).result(timeout=15))
            elif sql == earn_set._read_sql() and not free:  # the read took no lock of the referrer's
                free.append(pool.submit(referrer_lock_free).result(timeout=15))
        return cursor

    monkeypatch.setattr(earn_set, "_execute", between)
    body = {"member": member.external_id, "order_id": "LATE-1", "amount": "100.00", "currency": "EUR"}
    status, answer, _ = post(api, "/api/v1/orders", body, "late-1")
    assert attached and free == [True]
    assert (status, answer["error"]["code"]) == (409, "referral_changed")
    assert not Order.objects.filter(order_id="LATE-1").exists()

    status, answer, _ = post(api, "/api/v1/orders", body, "late-1")  # sent again
    assert status == 201, answer
    assert answer["referral"]["status"] == Referral.Status.REWARDED
    assert_ledger_balanced()
