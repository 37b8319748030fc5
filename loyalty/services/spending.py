"""Spending points and giving them back. Used by rewards (redemptions) and any other spender above us."""

from django.db import transaction
from django.db.models import Sum
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
                         actor=None, points: int | None = None) -> Transaction | None:
    """Give a spend's points back to the lots they came from: all that is left of it (a cancellation, once), or
    `points` of it (a partial return, e.g. for a refunded part of an order paid with points; the last lots taken
    get theirs back first). Lots that expired meanwhile expire again at once, so giving points back never
    revives expired ones. Returns None when nothing is left to give back."""
    original = Transaction.objects.get(pk=spend_transaction_id)
    account = lock_account(original.member_id)
    if original.reversals.filter(kind=Transaction.Kind.REDEEM_CANCEL).exists():
        raise Conflict("These points were already given back.", code=ErrorCode.REDEMPTION_NOT_CANCELLABLE)
    returned = dict(LotMovement.objects.filter(transaction__reverses=original, transaction__kind__in=[
        Transaction.Kind.REDEEM_RETURN, Transaction.Kind.REDEEM_CANCEL]).values_list("lot_id").annotate(p=Sum("points"))
        .order_by())
    movements = list(LotMovement.objects.filter(transaction=original).select_related("lot").order_by("-id"))
    left = {m.lot_id: -m.points - returned.get(m.lot_id, 0) for m in movements}
    remaining = sum(left.values())
    kind = Transaction.Kind.REDEEM_CANCEL if points is None or points >= remaining else Transaction.Kind.REDEEM_RETURN
    wanted = remaining if points is None else min(points, remaining)
    if wanted <= 0:
        return None
    now = timezone.now()
    back: list[tuple] = []
    for movement in movements:
        give = min(left[movement.lot_id], wanted - sum(p for _, p in back))
        if give <= 0:
            continue
        movement.lot.remaining += give
        movement.lot.save(update_fields=["remaining"])
        back.append((movement.lot, give))
    txn = post(
        account=account, kind=kind, available_delta=wanted, pending_delta=0,
        channel_id=channel_id, idempotency_key=idempotency_key, now=now, movements=back,
        reference=original.reference,
        reason=reason or f"{'Cancelled' if kind == Transaction.Kind.REDEEM_CANCEL else 'Returned'}: "
                         f"{original.reason or original.reference}".strip(),
        actor=actor, reverses=original, counters={"lifetime_redeemed": -wanted},
    )
    # Points that return to a refunded order's lot cover that refund's shortfall before the member has them.
    for lot, give in back:
        shortfall_recover(account=account, lot=lot, points=give, channel_id=channel_id,
                          idempotency_key=idempotency_key, now=now)
    settle_locked({original.member_id: account}, now)
    return txn


def member_lock(*, member_id: int) -> None:
    """Take the member's ledger lock first, for callers that lock rows of their own after it (lock order)."""
    lock_account(member_id)
