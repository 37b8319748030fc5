from celery import shared_task

from . import services


@shared_task(acks_late=True, reject_on_worker_lost=True)
def release_lapsed_holds() -> int:
    """Give back the points of checkout holds that were not confirmed in time. Idempotent."""
    return services.holds_expire_due()
