import functools
from datetime import timedelta
from decimal import Decimal

from django.db import connection
from django.utils import timezone

from core.db import ModelColumns, one_or_none
from core.errors import NotFound

from .exceptions import MembersErrorCode
from .models import Member, MembershipSettings, Plan, Subscription, Tier, TierStatus
from .models.plans import LIVE
from .services.tiers import (
    UNREAD,
    active_tiers,
    member_benefits,
    qualifying_value,
    qualifying_value_params,
    qualifying_value_sql,
    window_end,
    window_start,
)


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


def tier_overview(*, member: Member, now=None, status=UNREAD, value: Decimal | None = None) -> dict:
    """A member's tier, benefits and progress to the next tier: what is still needed, and by when.
    `status` (the member's TierStatus with its tier and pinned tier, or None) and `value` (their
    `qualifying_value` at `now`): when the caller has read them already."""
    return _tier_overview(member.pk, now=now or timezone.now(), status=status, value=value)


def _tier_overview(member_id: int, *, now, status=UNREAD, value: Decimal | None = None,
                   subscription=UNREAD) -> dict:
    settings = MembershipSettings.current()
    if status is UNREAD:
        status = one_or_none(TierStatus.objects.select_related("tier", "pinned_tier").filter(member_id=member_id))
    tiers = active_tiers()
    current = status.tier if status else None
    if value is None:
        value = qualifying_value(member_id, settings, now)
    higher = [t for t in tiers if t.rank > (current.rank if current else -1) and t.threshold > value]
    nxt = higher[0] if higher else None
    benefits = member_benefits(member_id=member_id, now=now, status=status, subscription=subscription)
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


class TierOverviewRead:
    """What `tier_overview` reads about a member (tier status, its tier and pinned tier, the qualifying value, the
    live subscription and its plan), as columns and joins for a hand-written statement over a members table that
    reads other things of the member too (their balance): one statement instead of four, and text that is built
    once per process and program setting, so the driver's prepared statements apply. Use `tier_overview_read`."""

    def __init__(self, settings: MembershipSettings, member_alias: str):
        qn = connection.ops.quote_name
        member_id = f"{qn(member_alias)}.{qn(Member._meta.pk.column)}"
        self._status, self._tier = ModelColumns(TierStatus, "ts"), ModelColumns(Tier, "tt")
        self._pinned, self._subscription = ModelColumns(Tier, "tp"), ModelColumns(Subscription, "ss")
        self._plan = ModelColumns(Plan, "sp")
        parts = (self._status, self._tier, self._pinned, self._subscription, self._plan)
        self.columns = ", ".join(["tq.total", *(part.sql for part in parts)])
        status, tier, sub, plan = (qn(model._meta.db_table) for model in (TierStatus, Tier, Subscription, Plan))
        # The live statuses as constants, as the one live subscription's partial index is written.
        live = connection.ops.compose_sql(f"({', '.join(['%s'] * len(LIVE))})", LIVE)
        self.joins = (
            f'LEFT JOIN {status} ts ON ts."member_id" = {member_id} '
            f'LEFT JOIN {tier} tt ON tt."id" = ts."tier_id" '
            f'LEFT JOIN {tier} tp ON tp."id" = ts."pinned_tier_id" '
            f"LEFT JOIN LATERAL ({qualifying_value_sql(settings, member_id)}) tq(total) ON TRUE "
            # At most one live subscription per member (a unique constraint): the join adds no rows.
            f'LEFT JOIN {sub} ss ON ss."member_id" = {member_id} AND ss."status" IN {live} '
            f'AND ss."current_period_end" > %(tier_now)s '
            f'LEFT JOIN {plan} sp ON sp."id" = ss."plan_id"')

    def params(self, settings: MembershipSettings, now) -> dict:
        return {**qualifying_value_params(settings, now), "tier_now": now}

    def overview(self, member_id: int, row, start: int, *, now, db: str) -> dict:
        """`tier_overview` of the member from the columns of `row` that begin at `start`."""
        value = Decimal(row[start] or 0)
        start += 1
        status = self._status.load(row, start, db)
        start += self._status.width
        if status is not None:
            if status.tier_id is not None:
                status.tier = self._tier.load(row, start, db)
            if status.pinned_tier_id is not None:
                status.pinned_tier = self._pinned.load(row, start + self._tier.width, db)
        start += self._tier.width + self._pinned.width
        subscription = self._subscription.load(row, start, db)
        if subscription is not None:
            subscription.plan = self._plan.load(row, start + self._subscription.width, db)
        return _tier_overview(member_id, now=now, status=status, value=value, subscription=subscription)


@functools.cache
def _tier_overview_read(basis: str, window: str, member_alias: str) -> TierOverviewRead:
    return TierOverviewRead(MembershipSettings(basis=basis, window=window), member_alias)


def tier_overview_read(*, member_alias: str, now) -> tuple[TierOverviewRead, dict]:
    """The `TierOverviewRead` for the program's settings (one per process and setting), and its parameters at
    `now`."""
    settings = MembershipSettings.current()
    read = _tier_overview_read(settings.basis, settings.window, member_alias)
    return read, read.params(settings, now)


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
