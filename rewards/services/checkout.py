"""Points as payment at checkout: hold, confirm, release; lapsed holds; refunds of orders paid with points."""

import math
from datetime import datetime, timedelta
from decimal import Decimal
from fractions import Fraction

from django.db import IntegrityError, transaction
from django.utils import timezone

from core.errors import BusinessRuleError, Conflict, ErrorCode
from core.idempotency import derived_key
from loyalty import locks
from loyalty import services as loyalty
from loyalty.models import Order, ProgramSettings, Transaction
from loyalty.selectors import points_spendable
from loyalty.services.ledger import channel_id as our_channel
from members.models import Member

from ..exceptions import RewardsErrorCode
from ..models import Redemption, RedemptionRules
from .redemptions import redemption_get
from .rules import points_value, refuse_if_any, rules_check


@transaction.atomic(savepoint=False)
def checkout_hold(*, member: Member, order_id: str, points: int, order_value: Decimal, currency: str,
                  channel_id: int, idempotency_key: str) -> Redemption:
    """Reserve points for an order: they leave the available balance now, and come back by themselves if the
    order is not confirmed within the rules' hold time."""
    if currency != ProgramSettings.current().currency:
        raise BusinessRuleError(f"The program runs in {ProgramSettings.current().currency}.",
                                code=ErrorCode.CURRENCY_NOT_SUPPORTED)
    with locks.members_locked([member.pk]):
        now = timezone.now()
        rules = RedemptionRules.current()
        refuse_if_any(rules_check(member=member, available=points_spendable(member_id=member.pk, now=now), points=points,
                                  now=now, order_value=order_value))
        txn = loyalty.points_spend(member=member, points=points, channel_id=channel_id, idempotency_key=idempotency_key,
                                   reference=order_id, reason=f"Held for order {order_id}", kind=Transaction.Kind.REDEEM,
                                   details={"order_value": str(order_value), "hold": True})
        try:
            with transaction.atomic():
                return Redemption.objects.create(
                    member=member, channel_id=channel_id, kind=Redemption.Kind.CHECKOUT, points=points, order_id=order_id,
                    order_value=order_value, discount=points_value(points, rules), status=Redemption.Status.HELD,
                    hold_expires_at=now + timedelta(minutes=rules.hold_minutes), transaction=txn,
                )
        except IntegrityError as exc:
            raise Conflict(f"Order {order_id!r} already has points held or paid.", code=RewardsErrorCode.HOLD_EXISTS) from exc


def _locked_hold(hold_id: int, channel_id: int) -> Redemption:
    """The hold's row, locked after its member's ledger lock, which the caller holds."""
    hold = redemption_get(redemption_id=hold_id, channel_id=channel_id)
    locks.account_locked(hold.member_id)
    hold = Redemption.objects.select_for_update(of=("self",)).get(pk=hold.pk)
    if hold.kind != Redemption.Kind.CHECKOUT:
        raise Conflict("This redemption is not a checkout hold.", code=RewardsErrorCode.NOT_A_HOLD)
    return hold


def _give_back(hold: Redemption, status: str, idempotency_key: str, now: datetime,
               channel_id: int | None = None) -> Redemption:
    hold.cancel_transaction = loyalty.points_spend_reverse(
        spend_transaction_id=hold.transaction_id, channel_id=channel_id or hold.channel_id,
        idempotency_key=idempotency_key,
        reason=f"Hold for order {hold.order_id} {'lapsed' if status == Redemption.Status.EXPIRED else 'released'}",
    )
    hold.status, hold.cancelled_at = status, now
    hold.save(update_fields=["cancel_transaction", "status", "cancelled_at"])
    return hold


def checkout_confirm(*, hold_id: int, channel_id: int) -> Redemption:
    """The order was placed: the held points are spent for good."""
    hold = _locked_hold(hold_id, channel_id)
    now = timezone.now()
    if hold.status == Redemption.Status.COMPLETED:
        return hold
    if hold.status == Redemption.Status.HELD and hold.hold_expires_at <= now:
        raise Conflict("The hold lapsed before it was confirmed; hold the points again.", code=RewardsErrorCode.HOLD_EXPIRED)
    if hold.status != Redemption.Status.HELD:
        raise Conflict(f"The hold was {hold.status}.", code=RewardsErrorCode.HOLD_NOT_ACTIVE)
    hold.status = Redemption.Status.COMPLETED
    hold.save(update_fields=["status"])
    return hold


def checkout_release(*, hold_id: int, channel_id: int, idempotency_key: str) -> Redemption:
    """The order was abandoned or cancelled before it was placed: the points come back to their lots."""
    hold = _locked_hold(hold_id, channel_id)
    if hold.status in (Redemption.Status.RELEASED, Redemption.Status.EXPIRED):
        return hold
    if hold.status != Redemption.Status.HELD:
        raise Conflict("The order was placed; its points come back through the order's refund.",
                       code=RewardsErrorCode.HOLD_NOT_ACTIVE)
    return _give_back(hold, Redemption.Status.RELEASED, idempotency_key, timezone.now())


def holds_expire_due(*, now: datetime | None = None, batch_size: int = 200) -> int:
    """Release every hold past its time, in batches that commit one by one; a rerun finds nothing twice."""
    now = now or timezone.now()
    lapsed = 0
    last = 0
    while True:
        ids = list(Redemption.objects.filter(status=Redemption.Status.HELD, hold_expires_at__lte=now, pk__gt=last)
                   .order_by("pk").values_list("pk", "channel_id")[:batch_size])
        if not ids:
            return lapsed
        for hold_id, channel_id in ids:
            with transaction.atomic(durable=True):
                with locks.members_locked([Redemption.objects.values_list("member_id", flat=True).get(pk=hold_id)]):
                    hold = _locked_hold(hold_id, channel_id)
                    if hold.status == Redemption.Status.HELD and hold.hold_expires_at <= now:
                        # Our own entry, on our own channel: no shop's Idempotency-Key can collide with it.
                        _give_back(hold, Redemption.Status.EXPIRED, f"hold-lapsed:{hold.pk}", now,
                                   channel_id=our_channel("system"))
                        lapsed += 1
        last = ids[-1][0]


def order_paid_points_return(*, order: Order, refunded_total: Decimal, idempotency_key: str) -> int:
    """An order is being refunded up to `refunded_total` of its amount: the points that paid part of it come back
    in the same proportion, to the lots they came from (before loyalty takes back what the order earned, so
    they can cover what the member spent). The caller holds the member's ledger lock. Returns the points."""
    share = Fraction(1) if refunded_total >= order.amount else Fraction(refunded_total) / Fraction(order.amount)
    returned = 0
    paid = Redemption.objects.select_for_update().filter(
        channel_id=order.channel_id, order_id=order.order_id, kind=Redemption.Kind.CHECKOUT,
        status__in=[Redemption.Status.COMPLETED, Redemption.Status.HELD]).order_by("pk")
    for redemption in paid:
        if redemption.status == Redemption.Status.HELD:
            # An order being refunded was placed: a hold the shop forgot to confirm is confirmed by the refund
            # (and cannot be confirmed, or lapse, later with its points already given back).
            redemption.status = Redemption.Status.COMPLETED
            redemption.save(update_fields=["status"])
        give = math.floor(redemption.points * share) - redemption.points_returned
        if give <= 0:
            continue
        loyalty.points_spend_reverse(
            spend_transaction_id=redemption.transaction_id, channel_id=our_channel("system"),
            idempotency_key=derived_key("points-paid", order.channel_id, idempotency_key, redemption.pk),
            points=give, reason=f"Refund on order {order.order_id}: points that paid for it")
        redemption.points_returned += give
        redemption.save(update_fields=["points_returned"])
        returned += give
    return returned
