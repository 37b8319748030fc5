"""Spending points and giving them back. Used by rewards (redemptions) and any other spender above us.

The caller holds the member's ledger lock (loyalty.locks): these assert it.
"""

from django.utils import timezone

from core.errors import BadRequest, Conflict
from members.models import Member

from ..exceptions import LoyaltyErrorCode
from ..locks import account_locked
from ..models import LotMovement, Transaction
from .earning import ensure_active
from .ledger import post, spend
from .refunds import points_returned_land
from .settling import settle_locked


def points_spend(*, member: Member, points: int, channel_id: int, idempotency_key: str, reference: str = "",
                 reason: str = "", kind: str = Transaction.Kind.REDEEM, actor=None,
                 details: dict | None = None) -> Transaction:
    """Spend `points` from the member's first-expiring lots, or refuse (422 insufficient_points)."""
    if points <= 0:
        raise BadRequest("Points to spend must be positive.", fields={"points": ["Must be positive."]})
    ensure_active(member)
    account = account_locked(member.pk)
    now = timezone.now()
    settle_locked({member.pk: account}, now)
    moved = spend(account=account, points=points, now=now)
    return post(
        account=account, kind=kind, available_delta=-points, pending_delta=0, channel_id=channel_id,
        idempotency_key=idempotency_key, now=now, movements=moved, reference=reference, reason=reason,
        actor=actor, details=details, counters={"lifetime_redeemed": points},
    )


def _returned_by_lot(original: Transaction) -> dict[int, int]:
    """What earlier returns of this spend gave back, by the lot the points had come from (where they landed
    may differ: see refunds.points_returned_land)."""
    returned: dict[int, int] = {}
    for txn_id, details in original.reversals.filter(kind__in=[Transaction.Kind.REDEEM_RETURN,
                                                               Transaction.Kind.REDEEM_CANCEL]).values_list("id", "details"):
        by_lot = (details or {}).get("lots")
        if by_lot is None:  # written before returns recorded it: they all landed where they came from
            by_lot = dict(LotMovement.objects.filter(transaction_id=txn_id).values_list("lot_id", "points"))
        for lot_id, points in by_lot.items():
            returned[int(lot_id)] = returned.get(int(lot_id), 0) + points
    return returned


def points_spend_reverse(*, spend_transaction_id: int, channel_id: int, idempotency_key: str, reason: str = "",
                         actor=None, points: int | None = None) -> Transaction | None:
    """Give a spend's points back: all that is left of it (a cancellation, once), or `points` of it (a partial
    return, e.g. for a refunded part of an order paid with points; the last lots taken get theirs back first).

    What is due is settled first. Points that come back to a lot a refund or a bonus revocation is owed from
    cover that debt first (refunds.points_returned_land); the rest land on their lots, and those that expired
    meanwhile expire again at once, so giving points back never revives expired ones. Returns None when
    nothing is left to give back."""
    original = Transaction.objects.get(pk=spend_transaction_id)
    account = account_locked(original.member_id)
    if original.reversals.filter(kind=Transaction.Kind.REDEEM_CANCEL).exists():
        raise Conflict("These points were already given back.", code=LoyaltyErrorCode.REDEMPTION_NOT_CANCELLABLE)
    now = timezone.now()
    settle_locked({original.member_id: account}, now)
    returned = _returned_by_lot(original)
    movements = list(LotMovement.objects.filter(transaction=original).select_related("lot").order_by("-id"))
    left = {m.lot_id: -m.points - returned.get(m.lot_id, 0) for m in movements}
    remaining = sum(left.values())
    kind = Transaction.Kind.REDEEM_CANCEL if points is None or points >= remaining else Transaction.Kind.REDEEM_RETURN
    wanted = remaining if points is None else min(points, remaining)
    if wanted <= 0:
        return None
    back: list[tuple] = []
    for movement in movements:
        give = min(left[movement.lot_id], wanted - sum(p for _, p in back))
        if give > 0:
            back.append((movement.lot, give))
    landing, kept = points_returned_land(back=back, now=now)
    landed = sum(p for _, p in landing)
    note = "; ".join(f"{n} {what.replace('_', ' ')}" for what, n in kept.items() if n)
    txn = post(
        account=account, kind=kind, available_delta=landed, pending_delta=0,
        channel_id=channel_id, idempotency_key=idempotency_key, now=now, movements=landing,
        reference=original.reference,
        reason=(reason or f"{'Cancelled' if kind == Transaction.Kind.REDEEM_CANCEL else 'Returned'}: "
                          f"{original.reason or original.reference}".strip()) + (f" ({note} for refunds)" if note else ""),
        actor=actor, reverses=original, counters={"lifetime_redeemed": -wanted},
        details={"lots": {str(lot.pk): p for lot, p in back}, "points": wanted, **{k: v for k, v in kept.items() if v}},
    )
    settle_locked({original.member_id: account}, now)
    return txn
