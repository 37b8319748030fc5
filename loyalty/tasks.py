from celery import shared_task

from . import services


@shared_task(acks_late=True, reject_on_worker_lost=True)
def settle_due_points(batch_size: int | None = None) -> dict:
    """Post the expiry of due lots and release points past their return window. Idempotent: what is done is
    no longer due, so a rerun or a redelivered message does nothing twice. `batch_size`: members per batch (each
    batch commits on its own), the service's default when None."""
    return services.points_settle_due(**({"batch_size": batch_size} if batch_size else {}))


@shared_task(acks_late=True, reject_on_worker_lost=True)
def give_birthday_gifts(batch_size: int | None = None) -> dict:
    """Hourly, so each member's local midnight is met within the hour. Idempotent: a gift is unique per member
    and year, and a batch commits whole or not at all. `batch_size`: members per batch, the service's default
    when None."""
    return services.birthdays_gift_due(**({"batch_size": batch_size} if batch_size else {}))


@shared_task(acks_late=True, reject_on_worker_lost=True)
def send_expiry_reminders() -> dict:
    """Daily: tell members how many points expire when, per lead time. Idempotent (one message per member, lead
    time and expiry date)."""
    return services.expiry_reminders_send()


@shared_task(acks_late=True, reject_on_worker_lost=True)
def ledger_check() -> dict:
    """Nightly: prove the books for every member (reads only, records the run; a drift is an error for staff)."""
    check = services.ledger_check_record()
    return {"check": check.pk, "members": check.members_checked, "lots": check.lots_checked, "drifted": check.drifted}


@shared_task(acks_late=True, reject_on_worker_lost=True)
def run_bulk_adjustment(bulk_id: int) -> dict:
    """Make a bulk adjustment's pending adjustments. Idempotent: done members are no longer pending and each
    member's transaction has a key unique per bulk and member, so a redelivered message pays nobody twice."""
    bulk = services.bulk_adjustment_run(bulk_id=bulk_id)
    return {"bulk": bulk.pk, "done": bulk.done, "skipped": bulk.skipped}


@shared_task(acks_late=True, reject_on_worker_lost=True)
def resume_bulk_adjustments() -> dict:
    """Every few minutes: finish bulk adjustments whose job never started or stopped half way (a broker that was
    down when one was queued, a worker that died)."""
    return {"resumed": [services.bulk_adjustment_run(bulk_id=pk).pk for pk in services.bulk_adjustments_unfinished()]}
