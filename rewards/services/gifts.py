"""Birthday presents that are rewards (a voucher) rather than points, and reminders before vouchers expire.

The birthday job (loyalty) records each member's gift of the year once (a unique key) with the tier's reward
code; this job, above it, issues the voucher for such gifts, exactly once per gift (a one-to-one key).
"""

from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from loyalty.models import BirthdayGift
from members.services import Message, notifications_record_many

from ..models import RedemptionRules, Reward, Voucher

VOUCHER_KINDS = [Reward.Kind.PRODUCT_VOUCHER, Reward.Kind.FIXED_DISCOUNT, Reward.Kind.PERCENT_DISCOUNT]


def birthday_vouchers_issue(*, now: datetime | None = None, window_days: int = 30, batch_size: int = 500) -> int:
    """Issue the voucher of every recent birthday gift that names a voucher reward and has none yet. Batched by
    gift id, each batch committing on its own; a rerun issues nothing twice."""
    now = now or timezone.now()
    issued, last = 0, 0
    rewards = {r.code: r for r in Reward.objects.filter(kind__in=VOUCHER_KINDS, active=True)}
    days = RedemptionRules.current().voucher_valid_days
    while True:
        gifts = list(BirthdayGift.objects.filter(created_at__gte=now - timedelta(days=window_days), pk__gt=last,
                                                 voucher__isnull=True).exclude(reward_code="")
                     .select_related("member").order_by("pk")[:batch_size])
        if not gifts:
            return issued
        with transaction.atomic(durable=True):
            for gift in gifts:
                reward = rewards.get(gift.reward_code)
                if reward is None:
                    continue  # the tier names no (active) voucher reward: the points part was still given
                try:
                    with transaction.atomic():
                        voucher = Voucher.objects.create(
                            birthday_gift=gift, reward=reward, member=gift.member,
                            expires_at=now + timedelta(days=reward.voucher_valid_days or days))
                except IntegrityError:
                    continue  # a concurrent run issued it
                issued += 1
                notifications_record_many(messages=[Message(
                    member_id=gift.member_id, kind="birthday_voucher", dedupe_key=f"birthday-voucher:{gift.pk}",
                    payload={"code": voucher.code, "reward": reward.name, "date": voucher.expires_at.date().isoformat(),
                             "year": gift.year})])
        last = gifts[-1].pk


def voucher_reminders_send(*, now: datetime | None = None, batch_size: int = 1000) -> int:
    """Remind members of unused vouchers that expire within the rules' lead time: once per voucher. Selected
    through the index of issued vouchers by expiry date, so the cost follows the vouchers concerned."""
    now = now or timezone.now()
    lead = RedemptionRules.current().voucher_reminder_days
    if not lead:
        return 0
    recorded, last = 0, 0
    while True:
        vouchers = list(Voucher.objects.filter(status=Voucher.Status.ISSUED, expires_at__gt=now,
                                               expires_at__lte=now + timedelta(days=lead), pk__gt=last)
                        .select_related("reward").order_by("pk")[:batch_size])
        if not vouchers:
            return recorded
        with transaction.atomic(durable=True):
            recorded += notifications_record_many(messages=[Message(
                member_id=v.member_id, kind="voucher_expiry_reminder", dedupe_key=f"voucher-expiry:{v.pk}:{lead}",
                payload={"code": v.code, "reward": v.reward.name, "date": v.expires_at.date().isoformat(),
                         "days": (v.expires_at.date() - now.date()).days}) for v in vouchers])
        last = vouchers[-1].pk
