"""Spending points on the catalog (or plainly), and cancelling. Points move only through loyalty's services.

Lock order: the member's ledger lock (loyalty.locks) first, then the reward's row, then our own rows.
"""

from datetime import timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from core.db import one_or_none
from core.errors import Conflict, NotFound
from loyalty import locks
from loyalty import services as loyalty
from loyalty.exceptions import LoyaltyErrorCode
from loyalty.models import Order, Transaction
from loyalty.selectors import points_spendable
from members.models import Member

from ..exceptions import RewardsErrorCode
from ..models import Cause, Redemption, RedemptionRules, Reward, Voucher
from .rules import refuse_if_any, rules_check


def redemption_get(*, redemption_id: int, channel_id: int | None = None) -> Redemption:
    qs = Redemption.objects.select_related("member", "reward", "transaction", "cancel_transaction")
    if channel_id is not None:
        qs = qs.filter(channel_id=channel_id)
    redemption = one_or_none(qs.filter(pk=redemption_id))
    if redemption is None:
        raise NotFound(f"No redemption {redemption_id}.", code=RewardsErrorCode.REDEMPTION_NOT_FOUND)
    return redemption


def reward_get(*, code: str, lock: bool = False) -> Reward:
    qs = Reward.objects.select_related("cause")
    if lock:
        qs = qs.select_for_update(of=("self",))
    reward = one_or_none(qs.filter(code=code))
    if reward is None:
        raise NotFound(f"No reward {code!r}.", code=RewardsErrorCode.REWARD_NOT_FOUND)
    return reward


@transaction.atomic(savepoint=False)
def redemption_create(*, member: Member, points: int, channel_id: int, idempotency_key: str,
                      order_id: str = "", reason: str = "") -> Redemption:
    """Spend plain points (e.g. an amount the shop turns into a discount itself), under the redemption rules."""
    with locks.members_locked([member.pk]):
        now = timezone.now()
        refuse_if_any(rules_check(member=member, available=points_spendable(member_id=member.pk, now=now), points=points,
                                  now=now))
        txn = loyalty.points_spend(
            member=member, points=points, channel_id=channel_id, idempotency_key=idempotency_key,
            reference=order_id, reason=reason or (f"Redeemed on order {order_id}" if order_id else "Redeemed"),
            kind=Transaction.Kind.REDEEM,
        )
        return Redemption.objects.create(member=member, channel_id=channel_id, points=points, order_id=order_id,
                                         transaction=txn)


@transaction.atomic(savepoint=False)
def reward_redeem(*, member: Member, reward_code: str, channel_id: int, idempotency_key: str,
                  quantity: int = 1) -> Redemption:
    """Redeem a reward of the catalog: points spent, stock taken, vouchers issued or the donation recorded.
    The rules are decided under the member's lock and the reward's row lock, so stock and limits hold under
    concurrency."""
    with locks.members_locked([member.pk]):
        reward = reward_get(code=reward_code, lock=True)
        now = timezone.now()
        points = reward.points_cost * quantity
        refuse_if_any(rules_check(member=member, available=points_spendable(member_id=member.pk, now=now), points=points,
                                  now=now, reward=reward, quantity=quantity))
        if reward.stock is not None:
            Reward.objects.filter(pk=reward.pk).update(stock=F("stock") - quantity)
        txn = loyalty.points_spend(member=member, points=points, channel_id=channel_id, idempotency_key=idempotency_key,
                                   reference=f"reward:{reward.code}", reason=f"{reward.name} x{quantity}",
                                   kind=Transaction.Kind.REDEEM, details={"reward": reward.code, "quantity": quantity})
        redemption = Redemption.objects.create(member=member, channel_id=channel_id, kind=Redemption.Kind.REWARD,
                                               reward=reward, quantity=quantity, points=points, transaction=txn)
        if reward.issues_voucher:
            days = reward.voucher_valid_days or RedemptionRules.current().voucher_valid_days
            Voucher.objects.bulk_create([
                Voucher(redemption=redemption, reward=reward, member=member, expires_at=now + timedelta(days=days))
                for _ in range(quantity)
            ])
        if reward.kind == Reward.Kind.DONATION:
            Cause.objects.filter(pk=reward.cause_id).update(donated_points=F("donated_points") + points)
        return redemption


def redemption_reverse(*, redemption_id: int, channel_id: int, idempotency_key: str, reason: str = "",
                      actor=None) -> Redemption:
    """Give the points back to their lots; void the vouchers (refused if one was used), restock, and take the
    donation back off its cause's total."""
    redemption = redemption_get(redemption_id=redemption_id, channel_id=channel_id)
    locks.account_locked(redemption.member_id)  # the caller holds the member's lock; the redemption's row next
    redemption = Redemption.objects.select_for_update(of=("self",)).select_related("reward").get(pk=redemption.pk)
    if redemption.status != Redemption.Status.COMPLETED:
        raise Conflict(f"This redemption is {redemption.status}; it cannot be cancelled.",
                       code=LoyaltyErrorCode.REDEMPTION_NOT_CANCELLABLE)
    if redemption.kind == Redemption.Kind.CHECKOUT and (
            redemption.points_returned or Order.objects.filter(channel_id=redemption.channel_id,
                                                               order_id=redemption.order_id).exists()):
        raise Conflict("Points that paid for a recorded order come back through the order's refund.",
                       code=LoyaltyErrorCode.REDEMPTION_NOT_CANCELLABLE)
    # Lock the vouchers before looking at them: a till redeeming one right now either commits first (and the
    # cancel is refused) or waits for the cancel (and finds the voucher void).
    vouchers = list(Voucher.objects.select_for_update().filter(redemption=redemption).order_by("pk"))
    if any(v.status == Voucher.Status.REDEEMED for v in vouchers):
        raise Conflict("A voucher of this redemption was already used.", code=RewardsErrorCode.VOUCHER_ALREADY_REDEEMED)
    now = timezone.now()
    redemption.vouchers.filter(status=Voucher.Status.ISSUED).update(status=Voucher.Status.VOID, voided_at=now,
                                                                     void_reason="Redemption cancelled")
    reward = redemption.reward
    if reward is not None and reward.stock is not None:
        Reward.objects.filter(pk=reward.pk).update(stock=F("stock") + redemption.quantity)
    if reward is not None and reward.kind == Reward.Kind.DONATION:
        Cause.objects.filter(pk=reward.cause_id).update(donated_points=F("donated_points") - redemption.points)
    redemption.cancel_transaction = loyalty.points_spend_reverse(
        spend_transaction_id=redemption.transaction_id, channel_id=channel_id, idempotency_key=idempotency_key,
        reason=reason, actor=actor,
    )
    redemption.status = Redemption.Status.CANCELLED
    redemption.cancelled_at = now
    redemption.save(update_fields=["cancel_transaction", "status", "cancelled_at"])
    return redemption
