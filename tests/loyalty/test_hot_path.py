"""The earn's hot path: one statement writes the ledger rows of a credit, the channel is guarded by Django instead of a
database lock, and the benchmark's floor view is not among the public URLs."""

from decimal import Decimal

import pytest
from django.db.models import ProtectedError
from rest_framework.test import APIRequestFactory, force_authenticate

from config.floor import FloorApi
from core.models import Channel
from loyalty.models import Account, Lot, LotMovement, Order, Transaction


def test_an_earn_writes_the_order_its_transaction_lot_and_movement_linked(api, member):
    r = api.post("/api/v1/orders", {"member": member.external_id, "order_id": "HP-1", "amount": "123.45",
                                    "currency": "EUR"})
    assert r.status_code == 201 and r.json()["points"] == 12
    order = Order.objects.get(order_id="HP-1")
    txn = Transaction.objects.get(pk=order.earn_transaction_id)
    lot = Lot.objects.get(order=order)
    assert (txn.kind, txn.points, txn.balance_after, txn.channel_id) == ("earn", 12, 12, order.channel_id)
    assert (lot.source_id, lot.amount, lot.remaining, lot.released) == (txn.pk, 12, 12, True)
    assert list(LotMovement.objects.filter(lot=lot).values_list("transaction_id", "points")) == [(txn.pk, 12)]
    account = Account.objects.get(member=member)
    assert (account.available, account.pending, account.lifetime_earned) == (12, 0, 12)
    assert r.json()["transaction"]["id"] == txn.pk


def test_the_same_order_id_again_is_a_conflict_and_writes_nothing(api, member):
    body = {"member": member.external_id, "order_id": "HP-2", "amount": "50.00", "currency": "EUR"}
    assert api.post("/api/v1/orders", body).status_code == 201
    again = api.post("/api/v1/orders", {**body, "amount": "60.00"})
    assert again.status_code == 409 and again.json()["error"]["code"] == "duplicate_order"
    assert Transaction.objects.filter(member=member).count() == 1
    assert Account.objects.get(member=member).available == 5


def test_a_channel_with_ledger_entries_cannot_be_deleted(api, member, channel):
    """The ledger's channel columns have no database constraint (it would lock the channel row on every write);
    Django's PROTECT still refuses to delete a channel that has orders and transactions."""
    assert api.post("/api/v1/orders", {"member": member.external_id, "order_id": "HP-3", "amount": "20.00",
                                       "currency": "EUR"}).status_code == 201
    with pytest.raises(ProtectedError):
        Channel.objects.filter(pk=channel.pk).delete()
    assert Order.objects.filter(order_id="HP-3", channel=channel).exists()


def test_the_floor_view_is_not_a_public_url(api):
    assert api.get("/bench/floor").status_code == 404


def test_the_floor_view_answers_a_select_1(api, channel):
    request = APIRequestFactory().get("/bench/floor")
    force_authenticate(request, user=type("Key", (), {"is_authenticated": True, "channel_id": channel.pk})())
    response = FloorApi.as_view()(request)
    assert (response.status_code, response.data) == (200, {"ok": 1})


def test_credits_other_than_orders_share_the_one_writer(member, program):
    """An adjustment goes through the same one-statement credit: its lot and movement point at its transaction."""
    from loyalty.services import points_adjust
    from loyalty.services.ledger import channel_id

    points_adjust(member=member, points=40, reason="goodwill", channel_id=channel_id("admin"),
                  idempotency_key="hp-adjust", actor=None)
    txn = Transaction.objects.get(member=member, kind="adjust")
    lot = Lot.objects.get(source=txn)
    assert (lot.amount, lot.order_id, txn.balance_after) == (40, None, 40)
    assert LotMovement.objects.get(transaction=txn).lot_id == lot.pk
    assert Decimal(Account.objects.get(member=member).available) == 40


@pytest.mark.parametrize("fingerprint", ["", "card-1"], ids=["set-based", "general"])
def test_the_set_based_earns_generic_plans_end_with_it(member, channel, program, fingerprint):
    """The set-based earn runs its read and write on generic plans (config.earn_set._GENERIC_PLANS); the rest of the
    transaction must not: after its write, or in the general flow when it hands an order over (a payment fingerprint
    takes that way), the session's own plan choice is back (a generic plan cannot use a partial index for a value)."""
    from django.db import connection, transaction

    from config import earn_set
    from config.api import OrderEarnSerializer

    def plan_mode():
        with connection.cursor() as cursor:
            cursor.execute("SHOW plan_cache_mode")
            return cursor.fetchone()[0]

    serializer = OrderEarnSerializer(data={"member": member.external_id, "order_id": "GP-1", "amount": "10.00",
                                           "currency": "EUR", "payment_fingerprint": fingerprint})
    assert serializer.is_valid(), serializer.errors
    seen = []
    with transaction.atomic():
        before = plan_mode()
        answer = earn_set.order_earn_answer(serializer.validated_data, channel_id=channel.pk, key="GP-1",
                                            general=lambda: (seen.append(plan_mode()), (201, {}))[1])
        assert plan_mode() == before
    assert seen == ([before] if fingerprint else [])
    assert (len(answer) == 3) is not bool(fingerprint)  # the set-based earn stored its answer itself


@pytest.mark.parametrize("fingerprint", ["", "card-1"], ids=["set-based", "general"])
def test_an_earn_through_the_api_plans_once_and_hands_the_general_flow_its_own_plans(api, member, monkeypatch,
                                                                                     fingerprint):
    """POST /api/v1/orders claims its key with generic plans on (the set-based statements are not planned again on
    every earn); the write, or the hand-over to the general flow, turns them off."""
    from django.db import connection

    from config import api as views
    from config import earn_set

    def plan_mode():
        with connection.cursor() as cursor:
            cursor.execute("SHOW plan_cache_mode")
            return cursor.fetchone()[0]

    seen = []
    write, general = earn_set.earn_write, views.order_place_answer

    def observed_write(*args, **kwargs):
        seen.append(("write", plan_mode()))
        write(*args, **kwargs)
        seen.append(("after the write", plan_mode()))

    def observed_general(*args, **kwargs):
        seen.append(("general", plan_mode()))
        return general(*args, **kwargs)

    monkeypatch.setattr(earn_set, "earn_write", observed_write)
    monkeypatch.setattr(views, "order_place_answer", observed_general)
    session = plan_mode()
    r = api.post("/api/v1/orders", {"member": member.external_id, "order_id": "GP-API", "amount": "20.00",
                                    "currency": "EUR", "payment_fingerprint": fingerprint})
    assert r.status_code == 201 and r.json()["points"] == 2
    assert session == "auto"
    assert seen == ([("general", "auto")] if fingerprint else
                    [("write", "force_generic_plan"), ("after the write", "auto")])


def test_the_set_based_statements_read_list_parameters_back_exactly(db):
    """The set-based earn sends list parameters as array text (config.earn_set._array_text): whatever a key, an order
    id or an external id holds (quotes, backslashes, commas, braces, spaces, "NULL", nothing, Chinese), PostgreSQL
    reads back the very list, and numbers, dates, moments and NULL too."""
    from datetime import UTC, date, datetime

    from django.db import connection

    from config.earn_set import _array_text

    texts = ['plain', 'a"b', 'back\\slash', 'comma,brace{}', ' spaced ', 'NULL', '', '会员-001', '\\"', None]
    moments = [datetime(2026, 11, 25, 3, 49, 51, 656603, tzinfo=UTC), None]
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s::text[], %s::bigint[], %s::numeric[], %s::date[], %s::timestamptz[], %s::bigint[]",
                       [_array_text(texts), _array_text([1, -2, 9_007_199_254_740_993]),
                        _array_text([Decimal("0.10"), Decimal("-12345.67")]),
                        _array_text([date.min, date(2026, 2, 28)]), _array_text(moments), _array_text([])])
        row = cursor.fetchone()
    assert row == (texts, [1, -2, 9_007_199_254_740_993], [Decimal("0.10"), Decimal("-12345.67")],
                   [date.min, date(2026, 2, 28)], moments, [])
