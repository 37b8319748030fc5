from decimal import ROUND_FLOOR, Decimal

from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone

from core.db import one_or_none
from core.errors import BadRequest, BusinessRuleError, ErrorCode, NotFound
from members.services import tier_activity_record

from ..models import Lot, LotMovement, Order, OrderLine, ProgramSettings, Refund, Transaction
from .ledger import channel_id as our_channel
from .ledger import lock_account, post, spendable_lots, take_from_lots
from .settling import settle_locked


def order_get(*, channel_id: int, order_id: str) -> Order:
    order = one_or_none(Order.objects.filter(channel_id=channel_id, order_id=order_id))
    if order is None:
        raise NotFound(f"No order {order_id!r} on this channel.", code="order_not_found")
    return order


def _floor(value: Decimal) -> int:
    return int(value.to_integral_value(rounding=ROUND_FLOOR))


def _points_due(order: Order, amount: Decimal, line_amounts: list[tuple[OrderLine, Decimal]],
                program: ProgramSettings) -> int:
    left = order.points_earned - order.points_reversed
    if order.refunded_amount + amount >= order.amount:
        return left  # fully refunded: everything the order earned goes back, whatever the rounding did
    if not line_amounts:
        target = _floor(Decimal(order.points_earned) * (order.refunded_amount + amount) / order.amount)
        return max(0, min(left, target - order.points_reversed))
    base = Decimal(order.rate_points) / order.rate_amount  # the rate the order earned at, not today's
    member_multiplier = order.earn_transaction.multiplier if order.earn_transaction else Decimal(1)
    lines_total = sum((a for _, a in line_amounts), Decimal(0))
    exact = sum((a * base * line.multiplier for line, a in line_amounts), Decimal(0)) + (amount - lines_total) * base
    return max(0, min(left, _floor(exact * member_multiplier)))


def _qualifying_due(order: Order, due: int, amount: Decimal) -> int:
    """The part of the order's qualifying points that this refund reverses, in step with the points; a full
    refund reverses exactly what is left, so partial refunds never leave tier credit behind."""
    left = order.qualifying_points - order.qualifying_reversed
    if order.refunded_amount + amount >= order.amount or order.points_earned == 0:
        return left
    return min(left, _floor(Decimal(order.qualifying_points) * (order.points_reversed + due) / order.points_earned)
               - order.qualifying_reversed)


def _expired_unclaimed(order: Order) -> int:
    """Points of the order's lots that expired and that no earlier refund has counted yet."""
    expired = -(LotMovement.objects.filter(lot__order=order, transaction__kind=Transaction.Kind.EXPIRE)
                .aggregate(total=Sum("points"))["total"] or 0)
    counted = order.refunds.aggregate(total=Sum("points_expired"))["total"] or 0
    return max(0, expired - counted)


def shortfall_recover(*, account, lot: Lot, points: int, channel_id: int, idempotency_key: str, now) -> int:
    """Points just given back to `lot` (a cancelled redemption) first cover what refunds of its order could not
    take back. Returns the points recovered. The caller holds the account's lock. Posted on our system channel
    under a key derived from the request's, which no shop can send there."""
    if lot.order_id is None or points <= 0:
        return 0
    refunds = list(Refund.objects.select_for_update().filter(order_id=lot.order_id, shortfall__gt=F("recovered"))
                   .order_by("id"))
    recover = min(points, sum(r.shortfall - r.recovered for r in refunds), lot.remaining)
    if recover <= 0:
        return 0
    moved = take_from_lots([lot], recover)
    order = Order.objects.get(pk=lot.order_id)
    post(account=account, kind=Transaction.Kind.REFUND, available_delta=-recover, pending_delta=0,
         channel_id=our_channel("system"), idempotency_key=f"recover:{channel_id}:{idempotency_key}:{lot.pk}",
         now=now, movements=moved,
         reference=order.order_id, reason=f"Recovered shortfall of refunds on order {order.order_id}",
         reverses=order.earn_transaction, details={"recovered": recover, "refunds": [r.pk for r in refunds]})
    left = recover
    for refund in refunds:
        part = min(left, refund.shortfall - refund.recovered)
        Refund.objects.filter(pk=refund.pk).update(recovered=F("recovered") + part)
        left -= part
    return recover


def _match_lines(order: Order, requested: list[tuple[str, Decimal]]) -> list[tuple[OrderLine, Decimal]]:
    lines = list(order.lines.select_for_update().order_by("id"))
    matched: list[tuple[OrderLine, Decimal]] = []
    for index, (sku, amount) in enumerate(requested):
        line = next((ln for ln in lines if ln.sku == sku and ln.amount - ln.refunded_amount >= amount), None)
        if line is None:
            known = any(ln.sku == sku for ln in lines)
            raise BusinessRuleError(
                f"Line {sku!r}: " + ("refund exceeds what is left of it." if known else "not in this order."),
                code=ErrorCode.REFUND_EXCEEDS_ORDER if known else ErrorCode.INVALID,
                fields={"lines": {str(index): ["Exceeds the line." if known else "Unknown sku for this order."]}},
            )
        line.refunded_amount += amount
        matched.append((line, amount))
    return matched


@transaction.atomic(savepoint=False)
def order_refund(*, channel_id: int, order_id: str, amount: Decimal, idempotency_key: str,
                 lines: list[tuple[str, Decimal]] = (), reason: str = "") -> Refund:
    """Take back what the refunded part of an order earned: from the order's own lot first, then from the
    member's other spendable points; what was already spent is recorded as the refund's shortfall."""
    order = order_get(channel_id=channel_id, order_id=order_id)
    account = lock_account(order.member_id)
    order = Order.objects.select_for_update().get(pk=order.pk)
    lines = list(lines)
    if sum((a for _, a in lines), Decimal(0)) > amount:
        raise BadRequest("The refunded lines add up to more than the refund amount.",
                         fields={"lines": ["Add up to more than the amount."]})
    left = order.amount - order.refunded_amount
    if amount > left:
        raise BusinessRuleError(
            f"Only {left} of this order is left to refund; {amount} was asked.", code=ErrorCode.REFUND_EXCEEDS_ORDER,
            extra={"refundable": str(left), "requested": str(amount)},
        )
    now = timezone.now()
    program = ProgramSettings.current()
    matched = _match_lines(order, lines)
    settle_locked({order.member_id: account}, now)

    due = _points_due(order, amount, matched, program)
    own_lots = Lot.objects.filter(order=order, remaining__gt=0).order_by("id")
    moved = take_from_lots(own_lots, due)
    taken = -sum(p for _, p in moved)
    # What the order's lot no longer holds either expired (the member never kept it: nothing to take) or was
    # spent (taken from the member's other points, and what they cannot cover is the shortfall).
    expired = min(due - taken, _expired_unclaimed(order))
    if taken + expired < due:
        moved += take_from_lots(spendable_lots(order.member_id, now).exclude(order=order), due - taken - expired)
        taken = -sum(p for _, p in moved)
    shortfall = due - taken - expired

    txn = None
    if taken:
        from_pending = -sum(p for lot, p in moved if not lot.released)
        txn = post(
            account=account, kind=Transaction.Kind.REFUND, available_delta=-(taken - from_pending),
            pending_delta=-from_pending, channel_id=channel_id, idempotency_key=idempotency_key, now=now,
            movements=moved, reference=order.order_id, reason=reason or f"Refund on order {order.order_id}",
            reverses=order.earn_transaction,
            details={"refund_amount": str(amount), "points_due": due, "shortfall": shortfall, "expired": expired},
            counters={"lifetime_earned": -min(due, account.lifetime_earned)},
        )
    elif due:
        account.lifetime_earned -= min(due, account.lifetime_earned)
        account.save(update_fields=["lifetime_earned", "updated_at"])
    qualifying = _qualifying_due(order, due, amount)
    order.qualifying_reversed += qualifying
    tier_activity_record(member_id=order.member_id, points=-qualifying, spend=-amount, at=order.occurred_at, now=now)
    for line, _ in matched:
        line.save(update_fields=["refunded_amount"])
    order.refunded_amount += amount
    order.points_reversed += due
    order.save(update_fields=["refunded_amount", "points_reversed", "qualifying_reversed"])
    return Refund.objects.create(
        order=order, amount=amount, points_due=due, points_taken=taken, shortfall=shortfall, points_expired=expired,
        transaction=txn,
        details={"lines": [{"sku": ln.sku, "amount": str(a)} for ln, a in matched], "reason": reason},
    )
