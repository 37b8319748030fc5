"""The database itself guards the ledger (invariants 1 and 3): history cannot be rewritten, balances cannot
go negative, a lot cannot hold more than it was given -- even by code that bypasses the services."""

from contextlib import contextmanager
from decimal import Decimal

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import F

from config import flows
from loyalty import services
from loyalty.models import Account, Lot, LotMovement, Transaction
from tests.loyalty.invariants import assert_ledger_balanced


@pytest.fixture
def earned(program, channel, member):
    """A member with 50 points earned on one order: one earn transaction, one lot, one movement."""
    order, _ = flows.order_place(member=member, channel_id=channel.pk, order_id="AO-1", amount=Decimal("500.00"),
                                 currency="EUR", idempotency_key="ao-earn-1")
    txn = order.earn_transaction
    return txn, txn.lots.get(), txn.movements.get()


@contextmanager
def refused(exc_type=DatabaseError):
    """Expect the database to refuse; the savepoint keeps the test's transaction usable afterwards."""
    with pytest.raises(exc_type) as info, transaction.atomic():
        yield info


def test_a_transaction_cannot_be_updated(earned):
    txn, _, _ = earned
    with refused() as info:
        Transaction.objects.filter(pk=txn.pk).update(points=5000, available_delta=5000)
    assert "append-only" in str(info.value)
    with refused():
        txn.reason = "rewritten"
        txn.save()
    assert Transaction.objects.get(pk=txn.pk).points == 50
    assert_ledger_balanced(txn.member_id)


def test_a_transaction_cannot_be_deleted_even_with_raw_sql(earned):
    txn, _, _ = earned
    with refused() as info, connection.cursor() as cursor:
        cursor.execute("DELETE FROM loyalty_transaction WHERE id = %s", [txn.pk])
    assert "append-only" in str(info.value)
    assert Transaction.objects.filter(pk=txn.pk).exists()


def test_a_lot_movement_cannot_be_updated_or_deleted(earned):
    _, _, movement = earned
    with refused() as info:
        LotMovement.objects.filter(pk=movement.pk).update(points=1)
    assert "append-only" in str(info.value)
    with refused() as info:
        LotMovement.objects.filter(pk=movement.pk).delete()
    assert "append-only" in str(info.value)
    assert LotMovement.objects.get(pk=movement.pk).points == 50
    assert_ledger_balanced(movement.transaction.member_id)


def test_an_account_cannot_go_negative_even_when_written_directly(earned):
    txn, _, _ = earned
    with refused(IntegrityError):
        Account.objects.filter(member_id=txn.member_id).update(available=-1)
    with refused(IntegrityError):
        Account.objects.filter(member_id=txn.member_id).update(pending=-1)
    assert Account.objects.get(member_id=txn.member_id).available == 50


def test_a_lot_cannot_hold_more_than_its_amount_nor_less_than_nothing(earned):
    _, lot, _ = earned
    with refused(IntegrityError):
        Lot.objects.filter(pk=lot.pk).update(remaining=F("amount") + 1)
    with refused(IntegrityError):
        Lot.objects.filter(pk=lot.pk).update(remaining=-1)
    assert Lot.objects.get(pk=lot.pk).remaining == 50


def test_a_transaction_whose_deltas_do_not_add_up_is_refused(earned, channel):
    txn, _, _ = earned
    with refused(IntegrityError):
        Transaction.objects.create(
            member_id=txn.member_id, kind=Transaction.Kind.ADJUST, points=10, available_delta=5, pending_delta=0,
            balance_after=55, pending_after=0, channel=channel, idempotency_key="deltas-off", created_at=txn.created_at,
        )
    assert_ledger_balanced(txn.member_id)


def test_an_idempotency_key_is_used_once_per_channel_at_the_database(earned, channel, member):
    with refused(IntegrityError):
        services.points_adjust(member=member, points=10, reason="goodwill", channel_id=channel.pk,
                               idempotency_key="ao-earn-1")
    assert Account.objects.get(member=member).available == 50
    assert_ledger_balanced(member.pk)
