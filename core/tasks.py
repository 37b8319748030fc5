from celery import shared_task

from .idempotency import idempotency_records_purge


@shared_task(acks_late=True, reject_on_worker_lost=True)
def purge_idempotency_records(batch_size: int | None = None) -> dict:
    """Daily: forget stored answers older than IDEMPOTENCY_RETENTION_DAYS. Idempotent: what is gone stays gone."""
    return idempotency_records_purge(**({"batch_size": batch_size} if batch_size else {}))
