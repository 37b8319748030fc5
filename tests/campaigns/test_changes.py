"""Lifecycle stage changes and tier changes fire their campaigns through the change job, once per change."""

from datetime import UTC, datetime

import pytest
from django.utils import timezone

from campaigns.models import Campaign, ChangeCursor, Firing
from campaigns.services import changes_evaluate
from insight.models import MemberTag, Stage, StageChange, Tag
from loyalty.models import Account
from members.models import Notification, Tier, TierChange

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


@pytest.fixture
def win_back(db):
    tag = Tag.objects.create(code="win-back", name="Win-back sent")
    return Campaign.objects.create(code="win-back", name="Win back", active=True, trigger=Campaign.Trigger.STAGE_CHANGE,
                                   to_stage=Stage.DORMANT,
                                   bonus_points=200, tag=tag, once_per_member=False,
                                   message_text={"en": "We miss you: 200 points to come back."})


def test_a_stage_change_fires_its_campaign_once_even_when_the_job_runs_again(program, member, win_back):
    StageChange.objects.create(member=member, from_stage=Stage.ACTIVE, to_stage=win_back.to_stage, changed_at=NOW)
    StageChange.objects.create(member=member, from_stage="", to_stage=Stage.ACTIVE, changed_at=NOW)  # not this one
    assert changes_evaluate() == {"changes": 2 + 1, "fired": 1}  # and the tag the firing attached, read after
    assert changes_evaluate() == {"changes": 0, "fired": 0}
    ChangeCursor.objects.update(last_id=0)  # a job that lost its place reads everything again: pays nothing twice
    assert changes_evaluate()["fired"] == 0
    assert Account.objects.get(member=member).available == 200
    assert MemberTag.objects.filter(member=member, tag__code="win-back").exists()
    assert Notification.objects.filter(member=member, kind="campaign").count() == 1


def test_a_tier_upgrade_fires_its_campaign(program, member_factory):
    gold = Tier.objects.create(code="gold", name="Gold", rank=5)
    silver = Tier.objects.create(code="silver", name="Silver", rank=3)
    Campaign.objects.create(code="gold-welcome", name="Welcome to gold", active=True,
                            trigger=Campaign.Trigger.TIER_CHANGE, to_tier=gold, bonus_points=500)
    up, other = member_factory(), member_factory()
    TierChange.objects.create(member=up, to_tier=gold, reason=TierChange.Reason.UPGRADE, created_at=timezone.now())
    TierChange.objects.create(member=other, to_tier=silver, reason=TierChange.Reason.UPGRADE, created_at=timezone.now())
    assert changes_evaluate()["fired"] == 1
    assert Firing.objects.get().member == up
    assert Account.objects.get(member=up).available == 500
