from decimal import Decimal

from django.utils import timezone

from core.errors import BusinessRuleError, ErrorCode
from loyalty.models import ProgramSettings
from loyalty.selectors import points_spendable
from members.models import Member, Tier

from .models import Redemption, RedemptionRules, Reward, Voucher
from .services import max_points_for_order, points_value, rules_check


def quote_get(*, member: Member, order_value: Decimal | None = None, points: int | None = None,
              reward_codes: list[str] | None = None, currency: str | None = None) -> dict:
    """What this member can use on this cart, by the same rules that decide a redemption; writes nothing.
    A cart in a currency the program does not run in is refused as a hold would refuse it."""
    program_currency = ProgramSettings.current().currency
    if currency and currency != program_currency:
        raise BusinessRuleError(f"The program runs in {program_currency}, not {currency}.",
                                code=ErrorCode.CURRENCY_NOT_SUPPORTED, fields={"currency": [f"Expected {program_currency}."]})
    now = timezone.now()
    rules = RedemptionRules.current()
    available = points_spendable(member_id=member.pk, now=now)
    body: dict = {"member": member.external_id, "available": available,
                  "points_per_unit": rules.points_per_unit, "currency": program_currency}
    if order_value is not None:
        usable = min(available, max_points_for_order(order_value, rules))
        refusals = rules_check(member=member, available=available, points=max(usable, 1), now=now,
                               order_value=order_value)
        usable = 0 if refusals else usable
        body["checkout"] = {
            "order_value": f"{order_value:.2f}", "max_points": usable,
            "max_discount": f"{points_value(usable, rules):.2f}", "reasons": [r.as_dict() for r in refusals],
        }
        if points is not None:
            asked = rules_check(member=member, available=available, points=points, now=now, order_value=order_value)
            body["checkout"]["requested"] = {
                "points": points, "allowed": not asked, "discount": f"{points_value(points, rules):.2f}",
                "reasons": [r.as_dict() for r in asked]}
    rewards = Reward.objects.filter(active=True).prefetch_related("tiers", "plans").select_related("cause")
    if reward_codes:
        rewards = rewards.filter(code__in=reward_codes)
    body["rewards"] = []
    for reward in rewards:
        refusals = rules_check(member=member, available=available, points=reward.points_cost, now=now, reward=reward)
        body["rewards"].append({"code": reward.code, "points_cost": reward.points_cost, "eligible": not refusals,
                                "reasons": [r.as_dict() for r in refusals]})
    return body


def reward_rate_effective() -> dict:
    """What members get back for what they spend, from the earn rate (program settings) and the value of a point at
    checkout (redemption rules): points per 1.00 spent x value of a point, as a percentage; for each tier too (its
    earn multiplier raises it). Category multipliers and paid plans raise it further on what they apply to."""
    program, rules = ProgramSettings.current(), RedemptionRules.current()
    points_per_unit_spent = Decimal(program.earn_points) / program.earn_amount
    point_value = Decimal(1) / rules.points_per_unit
    base = points_per_unit_spent * point_value * 100
    return {
        "points_per_unit_spent": points_per_unit_spent,
        "point_value": point_value,
        "percent": base,
        "tiers": [(tier.name, base * tier.earn_multiplier) for tier in Tier.objects.order_by("rank")],
    }


def vouchers_of(*, member: Member, statuses: list[str] | None = None):
    """A member's vouchers, newest first (the API pages them by id)."""
    qs = Voucher.objects.filter(member_id=member.pk).select_related("reward", "member")
    if statuses:
        qs = qs.filter(status__in=statuses)
    return qs.order_by("-id")


def redemptions_of(*, member: Member, statuses: list[str] | None = None):
    """A member's redemptions with their vouchers, newest first."""
    qs = (Redemption.objects.filter(member_id=member.pk)
          .select_related("member", "reward", "transaction", "cancel_transaction")
          .prefetch_related("vouchers__reward", "vouchers__member"))
    if statuses:
        qs = qs.filter(status__in=statuses)
    return qs.order_by("-id")


def rewards_within_reach(*, member: Member, now=None) -> list[dict]:
    """The active catalog as this member stands now: which rewards they can get, how many points they still need
    for the others, and the first other rule that stands in the way (a tier, a limit, stock ...). Reads only."""
    now = now or timezone.now()
    available = points_spendable(member_id=member.pk, now=now)
    rewards = (Reward.objects.filter(active=True).exclude(valid_until__lte=now)
               .prefetch_related("tiers", "plans").select_related("cause"))
    out = []
    for reward in rewards:
        refusals = rules_check(member=member, available=available, points=reward.points_cost, now=now, reward=reward)
        other = [r for r in refusals if r.code != "insufficient_points"]
        out.append({"reward": reward, "eligible": not refusals, "points_short": max(reward.points_cost - available, 0),
                    "blocked_by": other[0].code if other else None})
    return out


def rewards_data_export(*, member: Member) -> dict:
    """What `rewards` holds on the member: redemptions and vouchers. Reads only."""
    from core.privacy import export_rows

    return {
        "redemptions": export_rows(Redemption.objects.filter(member=member),
                                   ["id", "kind", "reward__name", "points", "points_returned", "order_id", "order_value",
                                    "discount", "status", "created_at", "cancelled_at"]),
        "vouchers": export_rows(Voucher.objects.filter(member=member),
                                ["code", "reward__name", "status", "expires_at", "redeemed_at", "redeemed_store",
                                 "redeemed_order_id", "voided_at", "void_reason", "created_at"]),
    }
