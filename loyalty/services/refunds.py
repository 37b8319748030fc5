"""Taking points back (a refunded order, a revoked bonus), and what happens when spent points come back.

One take-back algorithm (`_take_back`) for both, and one record of it (`Refund`):
1. what remains of the lots that earned the points (the order's lot, the bonus lot) is taken first;
2. what of them expired is written off (the member never kept it: nothing to take);
3. what was spent is taken from the member's other spendable points, first-expiring first (`substituted`);
4. what they cannot cover is the `shortfall`, for staff to review.

Points that later come back to a lot a take-back is owed from (a cancelled redemption, a lapsed hold, a
refunded order paid with points) settle that debt first (`points_returned_land`): they cover the shortfall
(`recovered`; `written_off` when the lot has expired meanwhile), then go back to the other lots the
take-back had to use (`restored`), with those lots' own expiry dates; only the rest lands on the lot itself.

Every function here writes under the member's ledger lock, which its caller holds (loyalty.locks).
"""

import math
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from django.db.models import F, Q, Sum
from django.utils import timezone

from core.db import one_or_none
from core.errors import BadRequest, BusinessRuleError, ErrorCode, NotFound
from members.services import tier_activity_record

from ..exceptions import LoyaltyErrorCode
from ..locks import account_locked
from ..models import Lot, LotMovement, Order, OrderLine, Refund, Transaction
from . import rules
from .ledger import post, spendable_lots, take_from_lots
from .settling import settle_locked


def order_get(*, channel_id: int, order_id: str) -> Order:
    order = one_or_none(Order.objects.filter(channel_id=channel_id, order_id=order_id))
    if order is None:
        raise NotFound(f"No order {order_id!r} on this channel.", code=LoyaltyErrorCode.ORDER_NOT_FOUND)
    return order


def order_lock(*, order: Order) -> Order:
    """The order's row, locked, re-read after its member's ledger lock (which the caller holds)."""
    account_locked(order.member_id)
    return Order.objects.select_for_update(of=("self",)).select_related("earn_transaction").get(pk=order.pk)


def refund_amount_validate(*, order: Order, amount: Decimal | None, lines: list[tuple[str, Decimal]] = ()) -> Decimal:
    """The amount a refund of `order` takes (all that is left when None), or a refusal. Writes nothing.

    An order paid entirely with points was recorded with amount 0.00: its one full refund has amount 0."""
    left = order.amount - order.refunded_amount
    if amount is None:
        amount = left
    if sum((a for _, a in lines), Decimal(0)) > amount:
        raise BadRequest("The refunded lines add up to more than the refund amount.",
                         fields={"lines": ["Add up to more than the amount."]})
    nothing_left = left == 0 and (order.amount > 0 or order.refunds.exists())
    if amount > left or nothing_left:
        raise BusinessRuleError(
            f"Only {left} of this order is left to refund; {amount} was asked."
            if not nothing_left else "This order was already refunded in full.",
            code=LoyaltyErrorCode.REFUND_EXCEEDS_ORDER, extra={"refundable": str(left), "requested": str(amount)},
        )
    if amount == 0 and order.amount > 0:
        raise BadRequest("A refund amount must be positive.", fields={"amount": ["Must be positive."]})
    return amount


def _points_due(order: Order, amount: Decimal, line_amounts: list[tuple[OrderLine, Decimal]]) -> int:
    left = order.points_earned - order.points_reversed
    if order.refunded_amount + amount >= order.amount:
        return left  # fully refunded: everything the order earned goes back, whatever the rounding did
    if not line_amounts:
        target = math.floor(Fraction(order.points_earned) * Fraction(order.refunded_amount + amount)
                            / Fraction(order.amount))
        return max(0, min(left, target - order.points_reversed))
    # The rate the order earned at (not today's), its lines' multipliers and the member's multiplier then.
    member_multiplier = order.earn_transaction.multiplier if order.earn_transaction else Decimal(1)
    lines_total = sum((a for _, a in line_amounts), Decimal(0))
    parts = [(a, line.multiplier) for line, a in line_amounts] + [(amount - lines_total, Decimal(1))]
    exact = rules.points_exact(rate_points=order.rate_points, rate_amount=order.rate_amount, parts=parts,
                               member_multiplier=member_multiplier)
    return max(0, min(left, math.floor(exact)))


def _qualifying_due(order: Order, due: int, amount: Decimal) -> int:
    """The part of the order's qualifying points that this refund reverses, in step with the points; a full
    refund reverses exactly what is left, so partial refunds never leave tier credit behind."""
    left = order.qualifying_points - order.qualifying_reversed
    if order.refunded_amount + amount >= order.amount or order.points_earned == 0:
        return left
    return min(left, order.qualifying_points * (order.points_reversed + due) // order.points_earned
               - order.qualifying_reversed)


def _expired_of(lots: Q, counted: int) -> int:
    """Points of these lots that expired and that no earlier take-back has counted yet."""
    expired = -(LotMovement.objects.filter(lots, transaction__kind=Transaction.Kind.EXPIRE)
                .aggregate(total=Sum("points"))["total"] or 0)
    return max(0, expired - counted)


@dataclass
class _TakeBack:
    moved: list[tuple[Lot, int]]
    due: int
    taken: int
    expired: int
    substituted: int

    @property
    def shortfall(self) -> int:
        return self.due - self.taken - self.expired

    @property
    def from_pending(self) -> int:
        return -sum(p for lot, p in self.moved if not lot.released)


def _take_back(*, member_id: int, own_lots: list[Lot], due: int, expired_unclaimed: int, now) -> _TakeBack:
    moved = take_from_lots(own_lots, due)
    own = -sum(p for _, p in moved)
    expired = min(due - own, expired_unclaimed)
    substituted = 0
    if own + expired < due:
        other = take_from_lots(spendable_lots(member_id, now).exclude(pk__in=[lot.pk for lot in own_lots]),
                               due - own - expired)
        substituted = -sum(p for _, p in other)
        moved += other
    return _TakeBack(moved=moved, due=due, taken=own + substituted, expired=expired, substituted=substituted)


def _match_lines(order: Order, requested: list[tuple[str, Decimal]]) -> list[tuple[OrderLine, Decimal]]:
    lines = list(order.lines.select_for_update().order_by("id")) if requested else []
    matched: list[tuple[OrderLine, Decimal]] = []
    for index, (sku, amount) in enumerate(requested):
        line = next((ln for ln in lines if ln.sku == sku and ln.amount - ln.refunded_amount >= amount), None)
        if line is None:
            known = any(ln.sku == sku for ln in lines)
            raise BusinessRuleError(
                f"Line {sku!r}: " + ("refund exceeds what is left of it." if known else "not in this order."),
                code=LoyaltyErrorCode.REFUND_EXCEEDS_ORDER if known else ErrorCode.INVALID,
                fields={"lines": {str(index): ["Exceeds the line." if known else "Unknown sku for this order."]}},
            )
        line.refunded_amount += amount
        matched.append((line, amount))
    return matched


def order_points_take_back(*, order: Order, amount: Decimal, channel_id: int, idempotency_key: str,
                           lines: list[tuple[str, Decimal]] = (), reason: str = "") -> Refund:
    """Take back what the refunded part of an order earned (see the module's steps). `order` is locked
    (`order_lock`) and `amount` validated (`refund_amount_validate`); the points that paid for the order, if
    any, were given back first by the caller, so they can cover what the member spent."""
    account = account_locked(order.member_id)
    now = timezone.now()
    matched = _match_lines(order, list(lines))
    settle_locked({order.member_id: account}, now)

    due = _points_due(order, amount, matched)
    counted = order.refunds.aggregate(total=Sum("points_expired"))["total"] or 0
    take = _take_back(member_id=order.member_id, own_lots=list(Lot.objects.filter(order=order).order_by("id")),
                      due=due, expired_unclaimed=_expired_of(Q(lot__order=order), counted) if due else 0, now=now)
    lifetime = -min(due, account.lifetime_earned)
    txn = None
    if take.taken:
        txn = post(
            account=account, kind=Transaction.Kind.REFUND, available_delta=-(take.taken - take.from_pending),
            pending_delta=-take.from_pending, channel_id=channel_id, idempotency_key=idempotency_key, now=now,
            movements=take.moved, reference=order.order_id, reason=reason or f"Refund on order {order.order_id}",
            reverses=order.earn_transaction,
            details={"refund_amount": str(amount), "points_due": due, "shortfall": take.shortfall,
                     "expired": take.expired, "substituted": take.substituted},
            counters={"lifetime_earned": lifetime},
        )
    elif lifetime:
        account.lifetime_earned += lifetime
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
        order=order, amount=amount, points_due=due, points_taken=take.taken, shortfall=take.shortfall,
        points_expired=take.expired, substituted=take.substituted, transaction=txn,
        details={"lines": [{"sku": ln.sku, "amount": str(a)} for ln, a in matched], "reason": reason},
    )


def points_bonus_revoke(*, transaction_id: int, channel_id: int, idempotency_key: str, reason: str = "") -> Refund:
    """Take back a bonus (see the module's steps), once: a second call returns the first take-back. Its
    transaction is always posted (it may move 0 points when nothing could be covered)."""
    bonus = Transaction.objects.get(pk=transaction_id, kind=Transaction.Kind.BONUS)
    account = account_locked(bonus.member_id)
    earlier = one_or_none(Refund.objects.filter(bonus=bonus))
    if earlier is not None:
        return earlier
    now = timezone.now()
    settle_locked({bonus.member_id: account}, now)
    lot = Lot.objects.get(source=bonus)
    take = _take_back(member_id=bonus.member_id, own_lots=[lot], due=lot.amount,
                      expired_unclaimed=_expired_of(Q(lot=lot), 0), now=now)
    txn = post(
        account=account, kind=Transaction.Kind.REFUND, available_delta=-(take.taken - take.from_pending),
        pending_delta=-take.from_pending, channel_id=channel_id, idempotency_key=idempotency_key, now=now,
        movements=take.moved, reference=bonus.reference, reason=reason or f"Taken back: {bonus.reason}",
        reverses=bonus, details={"bonus": bonus.pk, "points_due": take.due, "expired": take.expired,
                                 "shortfall": take.shortfall, "substituted": take.substituted},
    )
    return Refund.objects.create(
        bonus=bonus, points_due=take.due, points_taken=take.taken, shortfall=take.shortfall,
        points_expired=take.expired, substituted=take.substituted, transaction=txn, details={"reason": reason},
    )


def _owed(lot: Lot, seen: dict[int, Refund]) -> list[Refund]:
    """The take-backs still owed by this lot (open shortfall or points to restore), oldest first. `seen` keeps one
    object per take-back across the lots of one return, so each sees what the others already settled."""
    own = Q(order_id=lot.order_id) if lot.order_id else Q(bonus_id=lot.source_id)
    owed = []
    for refund in (Refund.objects.select_for_update().filter(own)
                   .filter(Q(shortfall__gt=F("recovered") + F("written_off")) | Q(substituted__gt=F("restored")))
                   .order_by("id")):
        owed.append(seen.setdefault(refund.pk, refund))
    return owed


def _restore_to(refund: Refund, points: int) -> list[tuple[Lot, int]]:
    """The other lots `refund` took from, given back `points` in the order it took them (skipping what earlier
    returns restored)."""
    own = Q(lot__order_id=refund.order_id) if refund.order_id else Q(lot__source_id=refund.bonus_id)
    skip, left, back = refund.restored, points, []
    for movement in (LotMovement.objects.filter(transaction_id=refund.transaction_id).exclude(own)
                     .select_related("lot").order_by("id")):
        took = -movement.points
        already = min(skip, took)
        skip -= already
        give = min(took - already, left)
        if give > 0:
            back.append((movement.lot, give))
            left -= give
        if left == 0:
            break
    return back


def points_returned_land(*, back: list[tuple[Lot, int]], now) -> tuple[list[tuple[Lot, int]], dict[str, int]]:
    """Where points coming back to `back`'s lots land (see the module): returns the lot movements to post (the
    lots are updated) and how many points covered shortfalls (`recovered`), were written off because their lot
    had expired (`written_off`) or went back to the lots a take-back used (`restored`).

    Points restored to another lot come back to that lot in turn, so a debt it owes (the refund of its own
    order) is settled before they land: a chain of refunds is followed to its end."""
    seen: dict[int, Refund] = {}
    touched: set[int] = set()
    landing: dict[int, tuple[Lot, int]] = {}
    summary = {"recovered": 0, "written_off": 0, "restored": 0}
    queue = list(back)
    while queue:
        lot, give = queue.pop(0)
        left = give
        expired = lot.expires_at is not None and lot.expires_at <= now
        owed = _owed(lot, seen)
        for refund in owed:
            part = min(left, refund.shortfall - refund.recovered - refund.written_off)
            if part <= 0:
                continue
            if expired:  # they would have expired with the lot: the debt is written off, not paid with them
                refund.written_off += part
                summary["written_off"] += part
            else:
                refund.recovered += part
                summary["recovered"] += part
            touched.add(refund.pk)
            left -= part
        for refund in owed:
            part = min(left, refund.substituted - refund.restored)
            if part <= 0:
                continue
            queue += _restore_to(refund, part)  # each restore lowers what is left to restore: the chain ends
            refund.restored += part
            summary["restored"] += part
            touched.add(refund.pk)
            left -= part
        if left:
            landed = landing.get(lot.pk, (lot, 0))[1]
            landing[lot.pk] = (lot, landed + left)
    for pk in sorted(touched):
        seen[pk].save(update_fields=["recovered", "written_off", "restored"])
    for lot, points in landing.values():
        lot.remaining += points
        Lot.objects.filter(pk=lot.pk).update(remaining=F("remaining") + points)
    return list(landing.values()), summary
