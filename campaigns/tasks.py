from celery import shared_task

from . import services


@shared_task(acks_late=True, reject_on_worker_lost=True)
def evaluate_changes() -> dict:
    """Every few minutes: the campaigns of the stage and tier changes recorded since the last run. Idempotent: a
    firing is unique per (campaign, member, change)."""
    return services.changes_evaluate()


@shared_task(acks_late=True, reject_on_worker_lost=True)
def evaluate_dates() -> dict:
    """Daily, just after midnight in the program's time zone: birthday, anniversary and fixed-date campaigns.
    Idempotent: a firing is unique per (campaign, member, year or date)."""
    return services.dates_evaluate()


@shared_task(acks_late=True, reject_on_worker_lost=True)
def maintain_event_partitions() -> dict:
    """Nightly: the events table's partitions for the coming months created, those older than the retention
    staff set dropped (with their dedupe keys). Idempotent."""
    from django.utils import timezone

    return services.event_partitions_maintain(now=timezone.now())
