from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from loyalty.models import Account, Lot, Transaction
from loyalty.services import points_settle_due


def earn_at(api, member, when, order_id, amount):
    with time_machine.travel(when, tick=False):
        r = api.post("/api/v1/orders", {"member": member.external_id, "order_id": order_id, "amount": amount,
                                        "currency": "EUR"})
    assert r.status_code == 201, r.json()


def test_expiry_takes_exactly_the_due_lots(api, member_factory):
    now = timezone.now()
    a, b = member_factory(), member_factory()
    earn_at(api, a, now - timedelta(days=400), "A-old", "100.00")   # due
    earn_at(api, a, now - timedelta(days=100), "A-new", "50.00")    # not due
    earn_at(api, b, now - timedelta(days=366), "B-old", "30.00")    # due
    stats = points_settle_due()
    assert stats["lots"] == 2
    assert Account.objects.get(member=a).available == 5
    assert Account.objects.get(member=b).available == 0
    assert Account.objects.get(member=a).lifetime_expired == 10
    assert list(Lot.objects.filter(remaining__gt=0).values_list("order__order_id", flat=True)) == ["A-new"]
    assert points_settle_due()["lots"] == 0  # a rerun does nothing twice
    assert Transaction.objects.filter(kind="expire").count() == 2


def test_redemption_consumes_first_expiring_lots_first(api, member):
    now = timezone.now()
    earn_at(api, member, now - timedelta(days=30), "late", "100.00")    # expires in ~11 months
    earn_at(api, member, now - timedelta(days=300), "early", "100.00")  # expires in ~2 months
    r = api.post("/api/v1/redemptions", {"member": member.external_id, "points": 12})
    assert r.status_code == 201
    early, late = Lot.objects.get(order__order_id="early"), Lot.objects.get(order__order_id="late")
    assert (early.remaining, late.remaining) == (0, 8)


def test_an_expired_lot_is_never_spent_even_before_the_job_ran(api, member):
    earn_at(api, member, timezone.now() - timedelta(days=400), "old", "100.00")
    # The expiry job has not run yet, but the member is not shown points they cannot spend.
    assert api.get(f"/api/v1/members/{member.external_id}/balance").json()["available"] == 0
    r = api.post("/api/v1/redemptions", {"member": member.external_id, "points": 5})
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "insufficient_points"
    assert r.json()["error"]["available"] == 0
    assert not Transaction.objects.filter(kind="redeem").exists()


def test_cancelled_redemption_returns_points_to_their_lots(api, member):
    earn_at(api, member, timezone.now() - timedelta(days=10), "O", "100.00")
    red = api.post("/api/v1/redemptions", {"member": member.external_id, "points": 7}).json()
    r = api.post(f"/api/v1/redemptions/{red['id']}/cancel", {})
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    assert Lot.objects.get().remaining == 10
    assert Account.objects.get(member=member).available == 10
    again = api.post(f"/api/v1/redemptions/{red['id']}/cancel", {})
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "redemption_not_cancellable"


def test_points_given_back_to_an_expired_lot_expire_again(api, member):
    earn_at(api, member, timezone.now() - timedelta(days=360), "O", "100.00")
    red = api.post("/api/v1/redemptions", {"member": member.external_id, "points": 7}).json()
    with time_machine.travel(timezone.now() + timedelta(days=10)):
        api.post(f"/api/v1/redemptions/{red['id']}/cancel", {})
        assert Account.objects.get(member=member).available == 0
    kinds = list(Transaction.objects.order_by("id").values_list("kind", flat=True))
    # What was due expired first (the 93 left), then the 7 given back to the expired lot expired again.
    assert kinds == ["earn", "redeem", "expire", "redeem_cancel", "expire"]


@pytest.mark.django_db(transaction=True)
def test_large_runs_expire_on_two_connections_at_once_and_stay_balanced(program, channel, member_factory):
    from decimal import Decimal

    from config.flows import order_place as order_earn
    from tests.loyalty.invariants import assert_ledger_balanced

    members = [member_factory() for _ in range(12)]
    with time_machine.travel(timezone.now() - timedelta(days=400), tick=False):
        for n, m in enumerate(members):
            order_earn(member=m, channel_id=channel.pk, order_id=f"old-{n}", amount=Decimal("100.00"),
                       currency="EUR", idempotency_key=f"old-{n}")
    order_earn(member=members[0], channel_id=channel.pk, order_id="new", amount=Decimal("50.00"), currency="EUR",
               idempotency_key="new")
    stats = points_settle_due(batch_size=5, workers=2)
    assert stats == {"batches": 3, "lots": 12}
    assert sum(Account.objects.values_list("available", flat=True)) == 5
    assert Transaction.objects.filter(kind="expire").count() == 12
    assert points_settle_due(batch_size=5, workers=2)["lots"] == 0
    assert_ledger_balanced()
