"""Stored idempotency answers are forgotten after IDEMPOTENCY_RETENTION_DAYS (a daily job), found by id; a key
retried after that still cannot post twice: the ledger's own unique keys answer it."""

from datetime import timedelta

from django.utils import timezone

from core.idempotency import idempotency_records_purge
from core.models import IdempotencyRecord
from loyalty.models import Account, Transaction


def _order(api, member, order_id, key):
    return api.post("/api/v1/orders", {"member": member.external_id, "order_id": order_id, "amount": "100.00",
                                       "currency": "EUR"}, idempotency_key=key)


def test_an_old_answer_is_forgotten_a_recent_one_replays_and_a_late_retry_posts_nothing(api, member, settings):
    settings.IDEMPOTENCY_RETENTION_DAYS = 30
    assert _order(api, member, "O-old", "k-old").status_code == 201
    assert _order(api, member, "O-new", "k-new").status_code == 201
    IdempotencyRecord.objects.filter(key="k-old").update(created_at=timezone.now() - timedelta(days=31))

    assert idempotency_records_purge() == {"deleted": 1, "batches": 1}

    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["k-new"]
    again = _order(api, member, "O-new", "k-new")
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    late = _order(api, member, "O-old", "k-old")  # its answer is gone: a new request, which the ledger refuses
    assert late.status_code == 409 and late.json()["error"]["code"] == "idempotency_key_reused"
    # The same in a batch, under a new order id (the set-based earn would take it): refused alone, the other placed.
    r = api.post("/api/v1/orders/batch", {"orders": [
        {"idempotency_key": "k-old", "member": member.external_id, "order_id": "O-other", "amount": "100.00",
         "currency": "EUR"},
        {"idempotency_key": "k-3", "member": member.external_id, "order_id": "O-3", "amount": "100.00",
         "currency": "EUR"}]}, idempotency_key=False)
    assert r.status_code == 200, r.json()
    assert [x["status"] for x in r.json()["results"]] == [409, 201]
    assert r.json()["results"][0]["error"]["code"] == "idempotency_key_reused"
    assert Transaction.objects.filter(member=member).count() == 3
    assert Account.objects.get(member=member).lifetime_earned == 30


def test_the_boundary_is_found_by_id_and_the_old_ones_go_in_batches(db, channel, settings):
    settings.IDEMPOTENCY_RETENTION_DAYS = 7
    now = timezone.now()
    ages = [40, 30, 20, 10, 9, 8, 7.5, 6, 3, 1, 0]  # days, oldest first: ids follow time
    records = IdempotencyRecord.objects.bulk_create(
        [IdempotencyRecord(channel=channel, key=f"k{n}", fingerprint="f") for n in range(len(ages))])
    for record, days in zip(records, ages, strict=True):
        IdempotencyRecord.objects.filter(pk=record.pk).update(created_at=now - timedelta(days=days))

    assert idempotency_records_purge(now=now, batch_size=2) == {"deleted": 7, "batches": 4}
    assert list(IdempotencyRecord.objects.order_by("id").values_list("key", flat=True)) == ["k7", "k8", "k9", "k10"]
    assert idempotency_records_purge(now=now) == {"deleted": 0, "batches": 1}  # re-runnable


def test_a_retention_of_zero_keeps_every_answer(db, channel, settings):
    settings.IDEMPOTENCY_RETENTION_DAYS = 0
    IdempotencyRecord.objects.create(channel=channel, key="k", fingerprint="f")
    IdempotencyRecord.objects.update(created_at=timezone.now() - timedelta(days=3650))
    assert idempotency_records_purge() == {"deleted": 0, "batches": 0}
    assert IdempotencyRecord.objects.count() == 1


def test_the_purge_is_scheduled_daily(db):
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.get(task="core.tasks.purge_idempotency_records")
    assert task.enabled and task.crontab is not None
