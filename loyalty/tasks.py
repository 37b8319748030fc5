from celery import shared_task

from . import services


@shared_task(acks_late=True, reject_on_worker_lost=True)
def settle_due_points() -> dict:
    """Post the expiry of due lots and release points past their return window. Idempotent: what is done is
    no longer due, so a rerun or a redelivered message does nothing twice."""
    return services.points_settle_due()
