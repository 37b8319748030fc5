"""Conditions narrow who a firing reaches: segment, paid plan, time of day and week (the member's time zone),
member attributes (language, marketing consent, age band)."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import transaction

from campaigns.models import Campaign
from campaigns.rules import in_hours
from campaigns.services.evaluation import Candidate, firings_apply
from insight.models import MemberSegment
from members.models import Plan, Subscription

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)  # a Friday, noon in UTC


@pytest.fixture
def campaign(db):
    return Campaign.objects.create(code="c", name="C", active=True, trigger=Campaign.Trigger.FIXED_DATE,
                                   fire_on=date(2026, 11, 20), bonus_points=10, once_per_member=False)


def reached(campaign, members, now=NOW) -> set:
    """The members a firing reaches now."""
    with transaction.atomic():
        fired = firings_apply(candidates=[Candidate(campaign=campaign, member_id=m.pk, occurrence=f"t:{now}")
                                          for m in members], now=now)
    return {f.member for f in fired}


def segment(member, value_tier="general", loyalty_type="none", stage="active"):
    MemberSegment.objects.create(member=member, stage=stage, stage_since=NOW, value_tier=value_tier,
                                 loyalty_type=loyalty_type, computed_on=NOW)


def test_segment_value_tier_and_loyalty_type(program, campaign, member_factory):
    high, low, unknown = member_factory(), member_factory(), member_factory()
    segment(high, "high", "committed")
    segment(low, "low", "committed")
    campaign.value_tiers, campaign.loyalty_types = ["high"], ["committed", "advocate"]
    campaign.save()
    assert reached(campaign, [high, low, unknown]) == {high}


def test_paid_plan_any_or_a_given_one(program, campaign, member_factory):
    gold = Plan.objects.create(code="gold-club", name="Gold club", kind="subscription", period="month", price=9)
    silver = Plan.objects.create(code="silver-club", name="Silver club", kind="subscription", period="month", price=5)
    on_gold, on_silver, none = member_factory(), member_factory(), member_factory()
    for m, plan in ((on_gold, gold), (on_silver, silver)):
        Subscription.objects.create(member=m, plan=plan, status="active", started_at=NOW, current_period_start=NOW,
                                    current_period_end=NOW + timedelta(days=30))
    campaign.paid_plan = Campaign.PaidPlan.ON_PLAN
    campaign.save()
    assert reached(campaign, [on_gold, on_silver, none]) == {on_gold, on_silver}
    campaign.plan = gold
    campaign.save()
    assert reached(campaign, [on_gold, on_silver, none], now=NOW + timedelta(seconds=1)) == {on_gold}
    campaign.paid_plan, campaign.plan = Campaign.PaidPlan.NO_PLAN, None
    campaign.save()
    assert reached(campaign, [on_gold, on_silver, none], now=NOW + timedelta(seconds=2)) == {none}


def test_time_of_day_and_day_of_week_in_the_members_time_zone(program, campaign, member_factory):
    shanghai, london = member_factory(timezone="Asia/Shanghai"), member_factory(timezone="Europe/London")
    campaign.hour_from, campaign.hour_to = 18, 22  # the evening: 20:00 in Shanghai, 12:00 in London
    campaign.save()
    assert reached(campaign, [shanghai, london]) == {shanghai}
    campaign.hour_from = campaign.hour_to = None
    campaign.weekdays = [6, 7]  # the weekend: already Saturday in Shanghai at 17:00 UTC on Friday
    campaign.save()
    assert reached(campaign, [shanghai, london], now=NOW + timedelta(hours=5)) == {shanghai}
    assert in_hours(23, 22, 6) and in_hours(3, 22, 6) and not in_hours(12, 22, 6)


def test_member_attributes_language_consent_and_age_band(program, campaign, member_factory):
    young = member_factory(language="zh-hans", marketing_consent=True, birth_date=date(2000, 11, 21))  # 25
    older = member_factory(language="zh-hans", marketing_consent=True, birth_date=date(1980, 1, 1))
    english = member_factory(language="en", marketing_consent=True, birth_date=date(2000, 1, 1))
    no_consent = member_factory(language="zh-hans", marketing_consent=False, birth_date=date(2000, 1, 1))
    no_birth_date = member_factory(language="zh-hans", marketing_consent=True)
    campaign.languages, campaign.needs_marketing_consent = ["zh-hans"], True
    campaign.age_min, campaign.age_max = 18, 25
    campaign.save()
    assert reached(campaign, [young, older, english, no_consent, no_birth_date]) == {young}
