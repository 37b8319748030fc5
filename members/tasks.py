from celery import shared_task

from . import services


@shared_task(acks_late=True, reject_on_worker_lost=True)
def evaluate_tiers() -> dict:
    """Nightly: members whose review date has come (grace periods, windows moving, pins ending). Idempotent."""
    return services.tiers_evaluate_due()


@shared_task(acks_late=True, reject_on_worker_lost=True)
def expire_subscriptions() -> int:
    """End paid memberships whose period is over. Idempotent: an ended one is no longer due."""
    return services.subscriptions_expire_due()


@shared_task(acks_late=True, reject_on_worker_lost=True)
def send_membership_reminders() -> int:
    """Remind before renewals and ends; a reminder is recorded once per member, kind and period end."""
    return services.membership_reminders_send()


@shared_task(acks_late=True, reject_on_worker_lost=True)
def deliver_pending_notifications() -> dict:
    """Every minute: send what the outbox holds that is due (new, or due for a retry). Rows are claimed with
    SKIP LOCKED, so overlapping runs share the work; a message lost with a worker is still pending."""
    return services.notifications_deliver_due()


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def deliver_notifications(notification_ids: list[int]) -> dict:
    """Enqueued after the commit that recorded these messages, to send them without waiting for the minute."""
    return services.notifications_deliver_due(ids=notification_ids)
