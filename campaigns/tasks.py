from celery import shared_task

from . import services


@shared_task(acks_late=True, reject_on_worker_lost=True)
def evaluate_changes() -> dict:
    """Every few minutes: the campaigns of the stage and tier changes recorded since the last run. Idempotent: a
    firing is unique per (campaign, member, change)."""
    return services.changes_evaluate()
