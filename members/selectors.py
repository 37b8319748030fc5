from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from core.db import one_or_none
from core.errors import NotFound

from .exceptions import MembersErrorCode
from .models import Member, MembershipSettings, Subscription, TierStatus
from .models.plans import LIVE
from .services.tiers import (
    active_tiers,
    member_benefits,
    qualifying_value,
    qualifying_value_expression,
    window_end,
    window_start,
)

_UNREAD = object()


def member_get(*, external_id: str) -> Member:
    member = one_or_none(Member.objects.filter(external_id=external_id))
    if member is None:
        raise NotFound(f"No member with external_id {external_id!r}.", code=MembersErrorCode.MEMBER_NOT_FOUND)
    return member


def tier_describe(tier) -> dict | None:
    if tier is None:
        return None
    return {"code": tier.code, "name": tier.name, "rank": tier.rank, "threshold": str(tier.threshold),
            "earn_multiplier": str(tier.earn_multiplier), "birthday_gift_points": tier.birthday_gift_points,
            "birthday_reward_code": tier.birthday_reward_code or None, "perks": tier.perks}


def tier_overview(*, member: Member, now=None, status=_UNREAD, value: Decimal | None = None) -> dict:
    """A member's tier, benefits and progress to the next tier: what is still needed, and by when.
    `status` (the member's TierStatus with its tier and pinned tier, or None) and `value` (their
    `qualifying_value` at `now`): when the caller has read them already (`tier_overview_related`)."""
    now = now or timezone.now()
    settings = MembershipSettings.current()
    if status is _UNREAD:
        status = one_or_none(TierStatus.objects.select_related("tier", "pinned_tier").filter(member=member))
    tiers = active_tiers()
    current = status.tier if status else None
    if value is None:
        value = qualifying_value(member.pk, settings, now)
    higher = [t for t in tiers if t.rank > (current.rank if current else -1) and t.threshold > value]
    nxt = higher[0] if higher else None
    benefits = member_benefits(member_id=member.pk, now=now, status=status)
    start, end = window_start(settings, now), window_end(settings, now)
    downgrade = None
    if status and status.below_since:
        downgrade = {"below_since": status.below_since,
                     "downgrade_on": (status.below_since + timedelta(days=settings.downgrade_grace_days)).date()}
    return {
        "tier": tier_describe(current),
        "since": status.since if status else None,
        "pinned": ({"tier": status.pinned_tier.code, "until": status.pinned_until, "reason": status.pin_reason}
                   if status and status.pinned_tier_id and status.pinned_until and status.pinned_until > now else None),
        "benefits": {"earn_multiplier": str(benefits.multiplier), "perks": benefits.perks,
                     "plan": benefits.subscription.plan.code if benefits.subscription else None},
        "progress": {
            "basis": settings.basis, "window": settings.window,
            "window_start": start, "window_end": end, "qualifying": str(value),
            "next_tier": tier_describe(nxt), "needed": str(nxt.threshold - value) if nxt else None,
            "by": end,
        },
        "downgrade": downgrade,
    }


def tier_overview_related(members, *, now) -> tuple:
    """`members` (a Member queryset) reading, in the same query, what `tier_overview` needs: pass the member's
    `tier_status_read(member)` and `qualifying_value_read(member)` to it."""
    return (members.select_related("tier_status__tier", "tier_status__pinned_tier")
            .annotate(tier_qualifying_value=qualifying_value_expression(MembershipSettings.current(), now)))


def tier_status_read(member: Member) -> TierStatus | None:
    """The tier status that `tier_overview_related` read with the member (None: no activity yet)."""
    try:
        return member.tier_status
    except TierStatus.DoesNotExist:
        return None


def qualifying_value_read(member: Member) -> Decimal:
    return Decimal(member.tier_qualifying_value or 0)


def subscription_current(*, member: Member) -> Subscription | None:
    """The member's live paid membership (trial or active), with its plan; None without one."""
    return one_or_none(Subscription.objects.filter(member_id=member.pk, status__in=LIVE).select_related("plan"))


IDENTITY_FIELDS = ["external_id", "name", "email", "phone", "card_number", "birth_date", "timezone", "language",
                   "status", "joined_at", "updated_at"]


def member_data_export(*, member: Member) -> dict:
    """What `members` holds on the member: identity, consents, tiers, paid plans, tokens, messages. Reads only."""
    from core.privacy import export_row, export_rows

    from .models import MemberToken, Notification, QualifyingActivity, SubscriptionEvent, TierChange

    return {
        "identity": export_row(member, IDENTITY_FIELDS),
        "consents": {"marketing_consent": member.marketing_consent},
        "tier": export_rows(TierStatus.objects.filter(member=member),
                            ["tier__code", "since", "pinned_tier__code", "pinned_until", "below_since"]),
        "tier_changes": export_rows(TierChange.objects.filter(member=member),
                                    ["from_tier__code", "to_tier__code", "reason", "note", "created_at"]),
        "qualifying_activity": export_rows(QualifyingActivity.objects.filter(member=member), ["month", "points", "spend"]),
        "subscriptions": export_rows(Subscription.objects.filter(member=member),
                                     ["id", "plan__code", "status", "started_at", "current_period_start",
                                      "current_period_end", "cancelled_at", "ended_at"]),
        "subscription_events": export_rows(SubscriptionEvent.objects.filter(subscription__member=member),
                                           ["subscription_id", "kind", "payment_reference", "amount",
                                            "refund_amount", "period_end", "created_at"]),
        "tokens": export_rows(MemberToken.objects.filter(member=member), ["created_at", "expires_at", "revoked_at"]),
        "notifications": export_rows(Notification.objects.filter(member=member),
                                     ["kind", "channel", "target", "status", "payload", "marketing", "created_at",
                                      "sent_at"]),
    }
