"""Spending points and giving them back. Used by rewards (redemptions) and any other spender above us."""

from django.db import transaction
from django.utils import timezone

from core.errors import BadRequest, Conflict, ErrorCode
from members.models import Member

from ..models import LotMovement, Transaction
from .earning import ensure_active
from .ledger import lock_account, post, spend
from .refunds import shortfall_recover
from .settling import settle_locked


@transaction.atomic(savepoint=False)
def points_spend(*, member: Member, points: int, channel_id: int, idempotency_key: str, reference: str = "",
                 reason: str = "", kind: str = Transaction.Kind.REDEEM, actor=None,
                 details: dict | None = None) -> Transaction:
    """Spend `points` from the member's first-expiring lots, or refuse (422 insufficient_points)."""
    if points <= 0:
        raise BadRequest("Points to spend must be positive.", fields={"points": ["Must be positive."]})
    ensure_active(member)
    account = lock_account(member.pk)
    now = timezone.now()
    settle_locked({member.pk: account}, now)
    moved = spend(account=account, points=points, now=now)
    return post(
        account=account, kind=kind, available_delta=-points, pending_delta=0, channel_id=channel_id,
        idempotency_key=idempotency_key, now=now, movements=moved, reference=reference, reason=reason,
        actor=actor, details=details, counters={"lifetime_redeemed": points},
    )


@transaction.atomic(savepoint=False)
def points_spend_reverse(*, spend_transaction_id: int, channel_id: int, idempotency_key: str, reason: str = "",
                         actor=None) -> Transaction:
    """Give a spend's points back to the lots they came from (once). Lots that expired meanwhile expire again
    at once, so a cancelled redemption never revives expired points."""
    original = Transaction.objects.get(pk=spend_transaction_id)
    account = lock_account(original.member_id)
    if original.reversals.filter(kind=Transaction.Kind.REDEEM_CANCEL).exists():
        raise Conflict("These points were already given back.", code=ErrorCode.REDEMPTION_NOT_CANCELLABLE)
    now = timezone.now()
    taken = list(LotMovement.objects.filter(transaction=original).select_related("lot").order_by("id"))
    for movement in taken:
        movement.lot.remaining -= movement.points  # movement.points is negative
        movement.lot.save(update_fields=["remaining"])
    points = -original.points
    txn = post(
        account=account, kind=Transaction.Kind.REDEEM_CANCEL, available_delta=points, pending_delta=0,
        channel_id=channel_id, idempotency_key=idempotency_key, now=now,
        movements=[(m.lot, -m.points) for m in taken], reference=original.reference,
        reason=reason or f"Cancelled: {original.reason or original.reference}".strip(), actor=actor,
        reverses=original, counters={"lifetime_redeemed": -points},
    )
    # Points that return to a refunded order's lot cover that refund's shortfall before the member has them.
    for movement in taken:
        shortfall_recover(account=account, lot=movement.lot, points=-movement.points, channel_id=channel_id,
                          idempotency_key=idempotency_key, now=now)
    settle_locked({original.member_id: account}, now)
    return txn


def member_lock(*, member_id: int) -> None:
    """Take the member's ledger lock first, for callers that lock rows of their own after it (lock order)."""
    lock_account(member_id)
