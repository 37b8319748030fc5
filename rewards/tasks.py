from celery import shared_task

from . import services


@shared_task(acks_late=True, reject_on_worker_lost=True)
def release_lapsed_holds() -> int:
    """Give back the points of checkout holds that were not confirmed in time. Idempotent."""
    return services.holds_expire_due()


@shared_task(acks_late=True, reject_on_worker_lost=True)
def issue_birthday_vouchers() -> int:
    """Vouchers for the birthday gifts whose tier gives a reward. Idempotent (one voucher per gift)."""
    return services.birthday_vouchers_issue()


@shared_task(acks_late=True, reject_on_worker_lost=True)
def send_voucher_reminders() -> int:
    """Remind members before their unused vouchers expire. Idempotent (one reminder per voucher)."""
    return services.voucher_reminders_send()
