"""What the members' own page shows, read from the apps' selectors and put in words a person reads.

Every label here is translated (locale/); codes never reach the page: perks by name, transactions as sentences,
reward refusals as reasons.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

import segno
from django.conf import settings
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from campaigns.selectors import challenges_of
from loyalty.models import ProgramSettings, Transaction
from loyalty.selectors import balance_get, points_earned_total, points_expiring_soon, statement
from members.models import Member, MembershipSettings
from members.selectors import subscription_current
from referrals.selectors import referral_overview
from rewards.models import Reward, Voucher
from rewards.selectors import redemptions_of, rewards_within_reach, vouchers_of

# Tiers and plans carry perks as free-form codes. Known ones read as these; any other as its humanised code.
PERK_LABELS = {
    "free_shipping": gettext_lazy("Free shipping"),
    "free_returns": gettext_lazy("Free returns"),
    "extended_returns": gettext_lazy("Longer time to return purchases"),
    "priority_service": gettext_lazy("Priority customer service"),
    "member_prices": gettext_lazy("Member prices"),
    "early_access": gettext_lazy("Early access to sales"),
    "lounge": gettext_lazy("Lounge access"),
    "birthday_gift": gettext_lazy("A birthday gift"),
    "gift_wrapping": gettext_lazy("Free gift wrapping"),
    "personal_shopper": gettext_lazy("A personal shopper"),
}

BLOCKED_REASONS = {
    "tier_required": gettext_lazy("For members of a higher tier."),
    "plan_required": gettext_lazy("For paid members."),
    "out_of_stock": gettext_lazy("Out of stock for now."),
    "member_limit_reached": gettext_lazy("You have already had this reward as often as allowed."),
    "period_limit_reached": gettext_lazy("You have had this reward as often as allowed for now."),
    "global_limit_reached": gettext_lazy("No longer available."),
    "reward_not_yet_valid": gettext_lazy("Not available yet."),
    "min_balance": gettext_lazy("You need a larger balance before you can redeem."),
    "member_inactive": gettext_lazy("Your membership is not active."),
}

REDEMPTION_STATUS = {
    "held": gettext_lazy("Held for your order"),
    "completed": gettext_lazy("Done"),
    "released": gettext_lazy("Hold released: points given back"),
    "expired": gettext_lazy("Hold lapsed: points given back"),
    "cancelled": gettext_lazy("Cancelled: points given back"),
}

DEFAULT_EXPIRY_WINDOW_DAYS = 30  # when the program sends no expiry reminders


def perk_label(perk) -> str:
    if isinstance(perk, dict):  # a perk given with its own display name
        return str(perk.get("name") or perk_label(perk.get("code", "")))
    code = str(perk)
    return str(PERK_LABELS.get(code) or code.replace("_", " ").replace("-", " ").strip().capitalize())


def multiplier_text(value) -> str:
    """1.500 -> "1.5", 2.000 -> "2"."""
    d = Decimal(str(value)).normalize()
    return f"{d:f}"


def transaction_text(txn: Transaction, reward_names: dict[str, str]) -> str:
    """One line of the statement as a sentence."""
    kind, ref = txn.kind, txn.reference
    K = Transaction.Kind
    if kind == K.EARN:
        return _("Earned on order %(order)s") % {"order": ref} if ref else _("Earned on a purchase")
    if kind == K.REFUND:
        return _("Taken back: order %(order)s was refunded") % {"order": ref} if ref else _("Taken back on a refund")
    if kind == K.REDEEM:
        if ref.startswith("reward:"):
            name = reward_names.get(ref.removeprefix("reward:"), _("a reward"))
            return _("Redeemed for %(reward)s") % {"reward": name}
        return _("Used to pay for order %(order)s") % {"order": ref} if ref else _("Redeemed")
    if kind == K.REDEEM_CANCEL:
        return _("Redemption cancelled: points given back")
    if kind == K.REDEEM_RETURN:
        return _("Points given back: order %(order)s was refunded") % {"order": ref} if ref else _(
            "Points given back after a refund")
    if kind == K.ADJUST:
        return _("Credited by our team") if txn.points >= 0 else _("Corrected by our team")
    if kind == K.EXPIRE:
        return _("Expired")
    if kind == K.RELEASE:
        return _("Points from recent orders can now be spent")
    if kind == K.GIFT:
        return _("Birthday gift")
    if kind == K.BONUS:
        if ref.startswith("referral:"):
            return _("Referral bonus: a friend joined with your code") if txn.points >= 0 else _(
                "Referral bonus taken back")
        return _("Bonus points")
    return _("Points changed")


def redemption_text(redemption) -> str:
    if redemption.reward_id:
        if redemption.quantity > 1:
            return _("%(reward)s × %(quantity)s") % {"reward": redemption.reward.name, "quantity": redemption.quantity}
        return redemption.reward.name
    if redemption.order_id:
        return _("Points towards order %(order)s") % {"order": redemption.order_id}
    return _("Points redeemed")


def voucher_value_text(voucher: Voucher, currency: str) -> str:
    reward = voucher.reward
    if reward.kind == Reward.Kind.FIXED_DISCOUNT and reward.value is not None:
        return _("%(amount)s %(currency)s off") % {"amount": number_format(reward.value, 2, use_l10n=True,
                                                                            force_grouping=True),
                                                   "currency": reward.currency or currency}
    if reward.kind == Reward.Kind.PERCENT_DISCOUNT and reward.value is not None:
        return _("%(percent)s%% off") % {"percent": multiplier_text(reward.value)}
    return reward.name


def qr_svg(text: str, label: str) -> str:
    """An inline SVG QR code for the till's scanner, black on white (scanners need the contrast)."""
    svg = segno.make(text, error="m", micro=False).svg_inline(scale=4, border=2, dark="#000", light="#fff", omitsize=True,
                                                               title=label, svgclass="qr")
    return mark_safe(svg.replace("<svg ", f'<svg role="img" aria-label="{escape(label)}" ', 1))  # noqa: S308


@dataclass
class AccountPage:
    member: Member
    program_name: str
    currency: str
    timezone: str
    balance: object
    earned_total: int
    expiring: list
    expiring_days: int
    tier: dict
    tier_name: str | None
    perks: list[str]
    multiplier: str | None
    progress: dict | None
    vouchers: list[dict]
    rewards: list[dict]
    redemptions: list
    referral: dict
    referral_link: str
    subscription: object
    history: list[dict]
    challenges: list[dict] = field(default_factory=list)


def account_page_get(*, member: Member, now: datetime | None = None) -> AccountPage:
    now = now or timezone.now()
    program = ProgramSettings.current()
    balance = balance_get(member=member)
    tier = balance.tier or {}
    lead = max([int(d) for d in (program.expiry_reminder_days or []) if str(d).isdigit()] or
               [DEFAULT_EXPIRY_WINDOW_DAYS])
    benefits = tier.get("benefits") or {}
    progress = tier.get("progress") or {}
    nxt = progress.get("next_tier")
    progress_view = None
    if nxt:
        needed = Decimal(progress["needed"])
        by_points = progress["basis"] == MembershipSettings.Basis.POINTS
        progress_view = {"next": nxt["name"], "by_points": by_points, "needed": int(needed) if by_points else needed,
                         "qualifying": Decimal(progress["qualifying"]), "threshold": Decimal(nxt["threshold"]),
                         "by": progress.get("by"), "perks": [perk_label(p) for p in nxt.get("perks") or []]}
        progress_view["percent"] = int(100 * progress_view["qualifying"] / progress_view["threshold"]) if \
            progress_view["threshold"] else 100
    multiplier = multiplier_text(benefits.get("earn_multiplier", "1"))
    referral = referral_overview(member=member)
    code = referral.get("code")
    template = settings.REFERRAL_LINK_URL
    history = list(statement(member=member).exclude(kind=Transaction.Kind.RELEASE)[:20])
    reward_codes = {t.reference.removeprefix("reward:") for t in history if t.reference.startswith("reward:")}
    reward_names = dict(Reward.objects.filter(code__in=reward_codes).values_list("code", "name"))
    vouchers = [
        {"voucher": v, "value": voucher_value_text(v, program.currency),
         "qr": qr_svg(v.code, _("QR code of voucher %(code)s") % {"code": v.code})}
        for v in vouchers_of(member=member, statuses=[Voucher.Status.ISSUED]).filter(expires_at__gt=now)[:20]
    ]
    return AccountPage(
        member=member, program_name=program.name, currency=program.currency, timezone=balance.timezone,
        balance=balance, earned_total=points_earned_total(member=member),
        expiring=points_expiring_soon(member=member, within_days=lead, now=now), expiring_days=lead,
        tier=tier, tier_name=(tier.get("tier") or {}).get("name"),
        perks=[perk_label(p) for p in benefits.get("perks") or []],
        multiplier=multiplier if multiplier != "1" else None, progress=progress_view,
        vouchers=vouchers,
        rewards=[{**r, "reason": BLOCKED_REASONS.get(r["blocked_by"], gettext_lazy("Not available to you yet."))
                  if r["blocked_by"] else None} for r in rewards_within_reach(member=member, now=now)],
        redemptions=[{"redemption": r, "text": redemption_text(r), "status": REDEMPTION_STATUS.get(r.status, r.status)}
                     for r in redemptions_of(member=member)[:10]],
        referral=referral, referral_link=template.format(code=code) if code and template else "",
        subscription=subscription_current(member=member),
        history=[{"txn": t, "text": transaction_text(t, reward_names), "total": t.balance_after + t.pending_after}
                 for t in history],
        # due_by is the instant the attempt closes (a streak's: Monday 00:00); the page names the last day to act.
        challenges=[c | {"percent": min(100, 100 * c["progress"] // c["target"]),
                         "due_day": c["due_by"] - timedelta(microseconds=1) if c["due_by"] else None}
                    for c in challenges_of(member=member, now=now, language=get_language() or "")],
    )
