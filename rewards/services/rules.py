"""One rules engine for every way of spending points: the quote, reward redemptions and checkout holds ask
it the same question and get the same answer. A refusal carries a stable code and the numbers."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_FLOOR, Decimal

from django.db.models import Sum

from core.errors import BusinessRuleError
from loyalty.exceptions import LoyaltyErrorCode
from members.exceptions import MembersErrorCode
from members.models import Member
from members.services import member_benefits

from ..exceptions import RewardsErrorCode
from ..models import Redemption, RedemptionRules, Reward

LIVE = [Redemption.Status.HELD, Redemption.Status.COMPLETED]


@dataclass(frozen=True)
class Refusal:
    code: str
    message: str
    needed: object = None
    got: object = None

    def as_dict(self) -> dict:
        return {"code": self.code, "message": self.message,
                "needed": _plain(self.needed), "got": _plain(self.got)}


def _plain(value):
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    return value


def points_value(points: int, rules: RedemptionRules) -> Decimal:
    """What `points` pay at checkout, in currency, rounded down to the cent."""
    return (Decimal(points) / rules.points_per_unit).quantize(Decimal("0.01"), rounding=ROUND_FLOOR)


def max_points_for_order(order_value: Decimal, rules: RedemptionRules) -> int:
    """The most points an order of `order_value` may take under the maximum share."""
    cap = order_value * rules.max_order_share / 100
    return int((cap * rules.points_per_unit).to_integral_value(rounding=ROUND_FLOOR))


def _period_start(period: str, now: datetime) -> datetime:
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    if period == Reward.Period.DAY:
        return day
    if period == Reward.Period.WEEK:
        return day - timedelta(days=day.weekday())
    if period == Reward.Period.MONTH:
        return day.replace(day=1)
    return day.replace(month=1, day=1)


def _redeemed(reward: Reward, **filters) -> int:
    return Redemption.objects.filter(reward=reward, status__in=LIVE, **filters).aggregate(
        n=Sum("quantity"))["n"] or 0


def rules_check(*, member: Member, available: int, points: int, now: datetime, reward: Reward | None = None,
                quantity: int = 1, order_value: Decimal | None = None) -> list[Refusal]:
    """Every rule that forbids this spend, in a fixed order (empty: allowed). Reads only."""
    rules = RedemptionRules.current()
    refusals: list[Refusal] = []
    if not member.is_active:
        refusals.append(Refusal(MembersErrorCode.MEMBER_INACTIVE, f"The member is {member.status}.", "active",
                                member.status))
    if reward is not None:
        refusals += _reward_refusals(member=member, reward=reward, quantity=quantity, now=now)
    if rules.min_balance and available < rules.min_balance:
        refusals.append(Refusal(RewardsErrorCode.MIN_BALANCE,
                                f"Redeeming needs a balance of at least {rules.min_balance} points.",
                                rules.min_balance, available))
    if order_value is not None:
        if order_value < rules.min_order_value:
            refusals.append(Refusal(RewardsErrorCode.MIN_ORDER_VALUE,
                                    f"Points can pay orders of {rules.min_order_value:.2f} or more.",
                                    rules.min_order_value, order_value))
        cap = max_points_for_order(order_value, rules)
        if points > cap:
            refusals.append(Refusal(RewardsErrorCode.MAX_ORDER_SHARE,
                                    f"Points may pay at most {rules.max_order_share}% of an order: {cap} points here.",
                                    cap, points))
    if available < points:
        refusals.append(Refusal(LoyaltyErrorCode.INSUFFICIENT_POINTS,
                                f"The member has {available} points available; {points} are needed.", points, available))
    return refusals


def _reward_refusals(*, member: Member, reward: Reward, quantity: int, now: datetime) -> list[Refusal]:
    out: list[Refusal] = []
    if not reward.active:
        out.append(Refusal(RewardsErrorCode.REWARD_INACTIVE, "This reward is not available.", True, False))
    if reward.valid_from and reward.valid_from > now:
        out.append(Refusal(RewardsErrorCode.REWARD_NOT_YET_VALID, f"This reward opens on {reward.valid_from:%Y-%m-%d}.",
                           reward.valid_from.isoformat(), now.isoformat()))
    if reward.valid_until and reward.valid_until <= now:
        out.append(Refusal(RewardsErrorCode.REWARD_EXPIRED, f"This reward closed on {reward.valid_until:%Y-%m-%d}.",
                           reward.valid_until.isoformat(), now.isoformat()))
    tiers = list(reward.tiers.values_list("code", flat=True))
    benefits = member_benefits(member_id=member.pk, now=now) if tiers or reward.plans.exists() else None
    if tiers:
        got = benefits.tier.code if benefits.tier else None
        if got not in tiers:
            out.append(Refusal(RewardsErrorCode.TIER_REQUIRED, f"This reward is for members of {', '.join(tiers)}.", tiers, got))
    plans = list(reward.plans.values_list("code", flat=True))
    if plans:
        got = benefits.subscription.plan.code if benefits.subscription else None
        if got not in plans:
            out.append(Refusal(RewardsErrorCode.PLAN_REQUIRED, f"This reward is for members of {', '.join(plans)}.", plans, got))
    if reward.stock is not None and reward.stock < quantity:
        out.append(Refusal(RewardsErrorCode.OUT_OF_STOCK, f"Only {reward.stock} left.", quantity, reward.stock))
    if reward.per_member_limit is not None:
        had = _redeemed(reward, member=member)
        if had + quantity > reward.per_member_limit:
            out.append(Refusal(RewardsErrorCode.MEMBER_LIMIT_REACHED, f"At most {reward.per_member_limit} per member.",
                               reward.per_member_limit, had + quantity))
    if reward.per_period_limit is not None and reward.limit_period:
        had = _redeemed(reward, member=member, created_at__gte=_period_start(reward.limit_period, now))
        if had + quantity > reward.per_period_limit:
            out.append(Refusal(RewardsErrorCode.PERIOD_LIMIT_REACHED,
                               f"At most {reward.per_period_limit} {reward.get_limit_period_display()}.",
                               reward.per_period_limit, had + quantity))
    if reward.global_limit is not None:
        had = _redeemed(reward)
        if had + quantity > reward.global_limit:
            out.append(Refusal(RewardsErrorCode.GLOBAL_LIMIT_REACHED, "This reward has been redeemed as often as it may be.",
                               reward.global_limit, had + quantity))
    return out


def refuse_if_any(refusals: list[Refusal]) -> None:
    if refusals:
        first = refusals[0]
        extra = {"needed": _plain(first.needed), "got": _plain(first.got), "reasons": [r.as_dict() for r in refusals]}
        if first.code == LoyaltyErrorCode.INSUFFICIENT_POINTS:
            extra.update(available=first.got, requested=first.needed)
        raise BusinessRuleError(first.message, code=first.code, extra=extra)
