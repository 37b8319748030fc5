"""Pure rules of campaigns (no queries, no services): whether a member's facts meet a campaign's conditions, who is
held out in its control group, and the period a per-member limit counts in."""

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class MemberFacts:
    """What the conditions look at, read for a batch of candidates at once (None: not read, or not known)."""

    tier: str | None = None
    stage: str | None = None
    value_tier: str | None = None
    loyalty_type: str | None = None
    plan: str | None = None  # the code of the live plan, "" when none
    zone: ZoneInfo | None = None
    language: str | None = None
    marketing_consent: bool | None = None
    birth_date: date | None = None


def age_on(birth_date: date, day: date) -> int:
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


def in_hours(hour: int, start: int, end: int) -> bool:
    """From `start` until before `end`; a range past midnight (22 to 6) wraps."""
    return start <= hour < end if start < end else hour >= start or hour < end


def conditions_met(campaign, facts: MemberFacts, *, now: datetime, store: str = "", channel: str | None = None) -> bool:
    """All of the campaign's conditions hold (a blank condition holds for everyone)."""
    if campaign.tiers and facts.tier not in campaign.tiers:
        return False
    if campaign.stages and facts.stage not in campaign.stages:
        return False
    if campaign.value_tiers and facts.value_tier not in campaign.value_tiers:
        return False
    if campaign.loyalty_types and facts.loyalty_type not in campaign.loyalty_types:
        return False
    if campaign.stores and store not in campaign.stores:
        return False
    if campaign.channels and channel not in campaign.channels:
        return False
    if campaign.paid_plan == "on_plan" and not facts.plan:
        return False
    if campaign.paid_plan == "no_plan" and facts.plan:
        return False
    if campaign.plan_id and facts.plan != campaign.plan.code:
        return False
    if campaign.languages and facts.language not in campaign.languages:
        return False
    if campaign.needs_marketing_consent and not facts.marketing_consent:
        return False
    local = now.astimezone(facts.zone) if facts.zone else now
    if campaign.hour_from is not None and not in_hours(local.hour, campaign.hour_from, campaign.hour_to):
        return False
    if campaign.weekdays and local.isoweekday() not in campaign.weekdays:
        return False
    if campaign.age_min is not None or campaign.age_max is not None:
        if facts.birth_date is None:
            return False
        age = age_on(facts.birth_date, local.date())
        if (campaign.age_min is not None and age < campaign.age_min) or (
                campaign.age_max is not None and age > campaign.age_max):
            return False
    return True


def held_out(campaign_id: int, member_id: int, percent: int) -> bool:
    """In the campaign's control group: a stable hash of (campaign, member), so a member stays on one side."""
    if not percent:
        return False
    digest = hashlib.sha256(f"control:{campaign_id}:{member_id}".encode()).digest()
    return int.from_bytes(digest[:4], "big") % 100 < percent


def period_start(period: str, now_local: datetime) -> datetime:
    """The start of the day, ISO week or month that `now_local` (a local time) is in."""
    start = now_local.replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "week":
        return start - timedelta(days=start.weekday())
    if period == "month":
        return start.replace(day=1)
    return start
