"""The books proven by the database at commit (lot movements add up to their transaction) and every night
(`ledger_check`, invariant 4 for every member, set-based)."""

from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from config import flows
from loyalty import tasks
from loyalty.models import Account, LedgerCheck, Lot, LotMovement, Transaction

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def earned(program, channel, member):
    order, _ = flows.order_place(member=member, channel_id=channel.pk, order_id="LC-1", amount=Decimal("500.00"),
                                 currency="EUR", idempotency_key="lc-earn-1")
    return order.earn_transaction


def test_a_transaction_whose_lot_movements_do_not_add_up_is_refused_at_commit(earned, channel):
    lot = earned.lots.get()
    with pytest.raises(IntegrityError, match="ledger unbalanced"):
        with transaction.atomic():
            txn = Transaction.objects.create(
                member_id=earned.member_id, kind=Transaction.Kind.ADJUST, points=-10, available_delta=-10,
                pending_delta=0, balance_after=40, pending_after=0, channel=channel, idempotency_key="hand-made",
                created_at=timezone.now())
            LotMovement.objects.create(transaction=txn, lot=lot, points=-7)  # 7 of the 10 points explained
    assert not Transaction.objects.filter(idempotency_key="hand-made").exists()


def test_a_movement_added_later_to_a_balanced_transaction_is_refused(earned):
    lot = earned.lots.get()
    with pytest.raises(IntegrityError, match="ledger unbalanced"):
        with transaction.atomic():
            LotMovement.objects.create(transaction=earned, lot=lot, points=5)
    assert LotMovement.objects.filter(transaction=earned).count() == 1


def test_ledger_check_passes_on_sound_books_and_records_the_run(earned):
    result = tasks.ledger_check.delay().get()
    check = LedgerCheck.objects.get(pk=result["check"])
    assert (check.members_checked, check.lots_checked, check.drifted) == (1, 1, 0)
    assert check.details["entries_total"] == check.details["balances_total"] == 50
    call_command("ledger_check")  # exits 0


def test_ledger_check_finds_a_balance_that_drifted_from_its_entries(earned):
    member_id = earned.member_id
    Account.objects.filter(member_id=member_id).update(available=45)  # written behind the services' back
    with connection.cursor() as cursor:  # and a lot that disagrees with its movements
        cursor.execute("UPDATE loyalty_lot SET remaining = 44 WHERE source_id = %s", [earned.pk])

    with pytest.raises(CommandError, match="drifted"):
        call_command("ledger_check")

    check = LedgerCheck.objects.latest("started_at")
    assert check.drifted == 3  # the member, the lot, and the global totals
    row = check.details["members"][0]
    assert (row["member_id"], row["account_available"], row["entries_available"], row["lots_available"],
            row["last_available"]) == (member_id, 45, 50, 44, 50)
    assert check.details["lots"][0]["lot"] == Lot.objects.get(source=earned).pk
