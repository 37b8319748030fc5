"""The daily date job writes a batch of firings set-based: a rerun pays nothing more, the books still balance, and a
batch costs the same statements whatever its size (its cost does not grow per member)."""

from datetime import UTC, date, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from campaigns.models import Campaign, Firing
from campaigns.services import dates_evaluate
from loyalty.models import Account, Lot, Transaction
from loyalty.services import ledger_drift
from members.models import Notification
from rewards.models import Voucher

NOW = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


def _campaigns():
    Campaign.objects.create(code="bday", name="Birthday", active=True, trigger=Campaign.Trigger.BIRTHDAY,
                            bonus_points=30, once_per_member=False, budget_points=10_000,
                            message_subject={"en": "Happy birthday", "zh-hans": "生日快乐"},
                            message_text={"en": "30 points for you", "zh-hans": "送您 30 积分"})
    Campaign.objects.create(code="anniv", name="Anniversary", active=True, trigger=Campaign.Trigger.ANNIVERSARY,
                            bonus_points=10, once_per_member=False, holdout_percent=50)


def _books() -> tuple:
    return (Transaction.objects.count(), Lot.objects.count(), Firing.objects.count(), Notification.objects.count(),
            sorted(Account.objects.values_list("member_id", "available")))


def test_a_rerun_of_the_day_pays_nothing_more_and_the_books_balance(program, member_factory):
    _campaigns()
    born = [member_factory(birth_date=date(1990, 11, 20), language=lang) for lang in ("en", "zh-hans", "en")]
    joined = [member_factory(joined_at=datetime(2024, 11, 20, 9, 0, tzinfo=UTC)) for _ in range(6)]
    first = dates_evaluate(now=NOW, batch_size=2)
    held = Firing.objects.filter(campaign__code="anniv", held_out=True).count()
    assert first["fired"] == 9
    books = _books()
    assert dates_evaluate(now=NOW, batch_size=2)["fired"] == 0
    assert dates_evaluate(now=NOW, batch_size=500)["fired"] == 0
    assert _books() == books
    for member in born:
        assert Account.objects.get(member=member).available == 30
        txn = Transaction.objects.get(member=member)
        assert (txn.kind, txn.points, txn.balance_after, txn.reference) == ("bonus", 30, 30, "campaign:bday")
        assert Firing.objects.get(member=member).transaction == txn
    assert sum(Account.objects.get(member=m).available for m in joined) == 10 * (6 - held)
    assert Campaign.objects.get(code="bday").spent_points == 90
    assert Campaign.objects.get(code="anniv").spent_points == 10 * (6 - held)
    texts = dict(Notification.objects.filter(kind="campaign", channel="email")
                 .values_list("member__language", "payload__text"))
    assert texts == {"en": "30 points for you", "zh-hans": "送您 30 积分"}
    with connection.cursor() as cursor:  # the deferred checks (movements add up to each transaction) now
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    drift = ledger_drift()
    assert (drift["members_drifted"], drift["lots_drifted"]) == (0, 0)
    assert drift["entries_total"] == drift["balances_total"] == 90 + 10 * (6 - held)


def _statements(now: datetime) -> int:
    with CaptureQueriesContext(connection) as captured:
        result = dates_evaluate(now=now, batch_size=100)
    assert result["batches"] == 2  # one batch of each birthday campaign
    return len(captured.captured_queries)


def test_the_statements_of_a_batch_do_not_grow_with_its_size(program, member_factory, course_coupon):
    _campaigns()
    Campaign.objects.create(code="bday-coupon", name="Birthday coupon", active=True, reward=course_coupon,
                            trigger=Campaign.Trigger.BIRTHDAY, once_per_member=False,
                            message_text={"en": "A coupon for your birthday", "zh-hans": "生日优惠券"})
    member_factory(birth_date=date(1990, 11, 19))
    for _ in range(2):
        member_factory(birth_date=date(1990, 11, 20))
    for _ in range(12):
        member_factory(birth_date=date(1990, 11, 21))
    _statements(datetime(2026, 11, 19, 8, tzinfo=UTC))  # warms the per-process caches (settings, channels)
    small, large = _statements(NOW), _statements(datetime(2026, 11, 21, 8, tzinfo=UTC))
    assert Firing.objects.filter(occurrence_key="birthday:2026").count() == 30
    assert Voucher.objects.filter(reward=course_coupon).count() == 15
    assert Notification.objects.filter(kind="campaign", payload__voucher_code__isnull=False).count() == 15
    assert small == large
    assert large <= 55  # the whole day: three campaigns read, a batch of each birthday one (locks, reads, writes)


def test_a_worker_killed_mid_job_resumes_paying_the_rest_once(program, member_factory, monkeypatch):
    from campaigns.services import evaluation

    _campaigns()
    born = [member_factory(birth_date=date(1990, 11, 20)) for _ in range(5)]
    real, calls = evaluation.firings_write_many, []

    def dying(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise SystemExit("worker killed")
        return real(*args, **kwargs)

    monkeypatch.setattr(evaluation, "firings_write_many", dying)
    with pytest.raises(SystemExit):
        dates_evaluate(now=NOW, batch_size=2)
    assert sorted(Account.objects.filter(member__in=born).values_list("available", flat=True)) == [30, 30]
    assert Transaction.objects.count() == Firing.objects.count() == 2  # the second batch rolled back whole
    monkeypatch.setattr(evaluation, "firings_write_many", real)
    assert dates_evaluate(now=NOW, batch_size=2)["fired"] == 3
    assert [Account.objects.get(member=m).available for m in born] == [30] * 5
    assert Notification.objects.filter(kind="campaign").values("dedupe_key").distinct().count() == 5


def test_a_member_the_ledger_cannot_credit_is_skipped_and_the_rest_of_the_batch_is_paid(program, member_factory):
    """The ledger refuses a credit past MAX_BALANCE. One such member in a batch of the date job must not stop it (the
    job would fail every day, and nobody in that batch would get their gift): their firing records the skipped
    points, and everyone else is paid as usual."""
    from core.fields import MAX_BALANCE

    _campaigns()
    full, other = (member_factory(birth_date=date(1990, 11, 20)) for _ in range(2))
    Account.objects.update_or_create(member=full, defaults={"available": MAX_BALANCE - 10})
    assert dates_evaluate(now=NOW, batch_size=500)["fired"] == 2
    assert Account.objects.get(member=other).available == 30
    assert Account.objects.get(member=full).available == MAX_BALANCE - 10
    skipped = Firing.objects.get(member=full)
    assert (skipped.transaction, skipped.points) == (None, 0)
    assert "more than" in skipped.details["points_skipped"]
    assert Firing.objects.get(member=other).transaction.points == 30
    assert Campaign.objects.get(code="bday").spent_points == 30
    # "30 points for you" goes to the member who got them, not to the one who did not
    assert set(Notification.objects.filter(kind="campaign").values_list("member_id", flat=True)) == {other.pk}
    assert skipped.details["message_skipped"] == "points_skipped" and not skipped.messaged
    assert dates_evaluate(now=NOW, batch_size=500)["fired"] == 0  # the day is done: a rerun changes nothing


def test_an_order_campaign_skips_a_bonus_the_ledger_refuses_and_the_order_still_earns(api, program, member):
    """The one-firing writer (an order's campaigns) skips a refused bonus the same way."""
    from core.fields import MAX_BALANCE

    Campaign.objects.create(code="big-order", name="Big order", active=True, trigger=Campaign.Trigger.ORDER,
                            bonus_points=50, once_per_member=False)
    Account.objects.update_or_create(member=member, defaults={"available": MAX_BALANCE - 20})
    r = api.post("/api/v1/orders", {"member": member.external_id, "order_id": "CAP-1", "amount": "100.00",
                                    "currency": "EUR"})
    assert r.status_code == 201, r.json()
    assert Account.objects.get(member=member).available == MAX_BALANCE - 20 + 10
    firing = Firing.objects.get(member=member)
    assert (firing.transaction, firing.points) == (None, 0) and "points_skipped" in firing.details
    assert Campaign.objects.get(code="big-order").spent_points == 0
