"""Bonuses paid by apps above loyalty (referral rewards): a pending lot, and taking it back.

A bonus is a lot of its own, pending until `available_at` (for a referral: the end of the qualifying order's
return window), so it is released by the settling job like any earned lot. Taking a bonus back mirrors a
refund (`refunds.py`): what remains of the bonus lot first; what of it expired is written off (the member
never kept it); what was spent comes out of the member's other spendable points; what they cannot cover is
the shortfall, recorded in the transaction's details.
"""

from datetime import datetime

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from core.errors import BadRequest
from members.models import Member

from ..models import Lot, LotMovement, ProgramSettings, Transaction
from .earning import credit
from .ledger import lock_account, lock_accounts, post, spendable_lots, take_from_lots
from .settling import settle_locked


@transaction.atomic(savepoint=False)
def points_bonus(*, member: Member, points: int, channel_id: int, idempotency_key: str, reason: str,
                 reference: str = "", available_at: datetime | None = None,
                 details: dict | None = None) -> Transaction:
    """Credit `points` as a bonus lot, pending until `available_at` (available at once when it has passed)."""
    if points <= 0:
        raise BadRequest("A bonus must be positive.", fields={"points": ["Must be positive."]})
    account = lock_account(member.pk)
    now = timezone.now()
    txn, _ = credit(account=account, points=points, kind=Transaction.Kind.BONUS, channel_id=channel_id,
                    idempotency_key=idempotency_key, now=now, earned_at=now, available_at=available_at or now,
                    program=ProgramSettings.current(), reference=reference, reason=reason, details=details,
                    member_timezone=member.timezone)
    return txn


def members_lock(*, member_ids) -> None:
    """Take several members' ledger locks at once, in member-id order (callers above loyalty that will touch
    several accounts in one transaction take them all first, so the fixed lock order holds)."""
    lock_accounts(member_ids)


def _expired(lot: Lot) -> int:
    return -(LotMovement.objects.filter(lot=lot, transaction__kind=Transaction.Kind.EXPIRE)
             .aggregate(total=Sum("points"))["total"] or 0)


@transaction.atomic(savepoint=False)
def points_bonus_revoke(*, transaction_id: int, channel_id: int, idempotency_key: str,
                        reason: str = "") -> Transaction:
    """Take back a bonus, once. Returns the taking transaction (its details say what was due, what had expired
    and the shortfall; it may move 0 points when nothing could be covered). A second call for the same bonus
    returns the first taking."""
    bonus = Transaction.objects.get(pk=transaction_id, kind=Transaction.Kind.BONUS)
    account = lock_account(bonus.member_id)
    earlier = bonus.reversals.filter(kind=Transaction.Kind.REFUND).order_by("id").first()
    if earlier is not None:
        return earlier
    now = timezone.now()
    settle_locked({bonus.member_id: account}, now)
    lot = Lot.objects.get(source=bonus)
    due = lot.amount
    moved = take_from_lots([lot], lot.remaining)
    taken = -sum(p for _, p in moved)
    expired = min(due - taken, _expired(lot))
    if taken + expired < due:
        moved += take_from_lots(spendable_lots(bonus.member_id, now).exclude(pk=lot.pk), due - taken - expired)
        taken = -sum(p for _, p in moved)
    shortfall = due - taken - expired
    from_pending = -sum(p for moved_lot, p in moved if not moved_lot.released)
    return post(
        account=account, kind=Transaction.Kind.REFUND, available_delta=-(taken - from_pending),
        pending_delta=-from_pending, channel_id=channel_id, idempotency_key=idempotency_key, now=now,
        movements=moved, reference=bonus.reference, reason=reason or f"Taken back: {bonus.reason}",
        reverses=bonus, details={"bonus": bonus.pk, "points_due": due, "expired": expired, "shortfall": shortfall},
    )
