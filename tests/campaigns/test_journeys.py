"""The lifecycle journeys ship as ready campaigns, inactive; switched on, each fires as described."""

import importlib
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.utils import timezone

from campaigns.models import Campaign
from campaigns.services import changes_evaluate
from insight.models import MemberSegment, MemberTag, Stage, StageChange, Tag
from loyalty.models import Account, EarnBoost
from members.models import Notification, Tier, TierChange
from members.services import notification_record
from tests.campaigns.conftest import views

from .test_orders_and_limits import balance, order

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def shipped(db):
    """The journeys as the data migration ships them (a transactional test run before empties the tables)."""
    from django.apps import apps

    importlib.import_module("campaigns.migrations.0008_lifecycle_journeys").forward(apps, None)


def journey(code: str, **changes) -> Campaign:
    campaign = Campaign.objects.get(code=f"journey-{code}")
    assert not campaign.active  # shipped off: staff switch it on
    Campaign.objects.filter(pk=campaign.pk).update(active=True, **changes)
    return Campaign.objects.get(pk=campaign.pk)


def messages(member) -> list[dict]:
    return [n.payload for n in Notification.objects.filter(member=member, kind="campaign")]


def points(member) -> int:
    return Account.objects.get(member=member).available


def test_seven_journeys_ship_inactive_in_both_languages(db):
    shipped = Campaign.objects.exclude(journey="")
    assert shipped.count() == 7 and not shipped.filter(active=True).exists()
    assert all("zh-hans" in c.message_text for c in shipped if c.message_text)


@pytest.mark.parametrize(("code", "stage", "paid"), [("welcome", Stage.PROSPECT, 100), ("win-back", Stage.DORMANT, 200)])
def test_welcome_and_win_back_on_their_stage(program, member_factory, code, stage, paid):
    journey(code)
    member = member_factory(language="zh-hans")
    StageChange.objects.create(member=member, from_stage="", to_stage=stage, changed_at=NOW)
    changes_evaluate()
    assert points(member) == paid and "积分" in messages(member)[0]["text"]


def test_second_purchase_nudge_doubles_the_next_order(api, program, member):
    journey("second-purchase")
    StageChange.objects.create(member=member, from_stage=Stage.PROSPECT, to_stage=Stage.NEW, changed_at=NOW)
    changes_evaluate()
    order(api, member, order_id="second")
    assert balance(api, member) == 20 and messages(member)[0]["multiplier"] == "2.000"


def test_save_offer_for_valuable_members_entering_the_churn_risk_tag(program, member_factory):
    risk = Tag.objects.create(code="churn-risk", name="Churn risk", rule_field="days_since_last_order", rule_op="gte",
                              rule_value="45")
    journey("save-offer", to_tag=risk)
    valuable, low = member_factory(), member_factory()
    for m, value in ((valuable, "high"), (low, "low")):
        MemberSegment.objects.create(member=m, stage=Stage.ACTIVE, stage_since=NOW, value_tier=value,
                                     loyalty_type="none", computed_on=NOW)
        MemberTag.objects.create(member=m, tag=risk, source="rule", added_at=NOW)
    changes_evaluate()
    assert points(valuable) == 300 and not Account.objects.filter(member=low, available__gt=0).exists()


def test_tier_upgrade_congratulation_not_on_a_downgrade(program, member_factory):
    journey("tier-upgrade")
    gold, silver = Tier.objects.create(code="gold", name="Gold", rank=5), Tier.objects.create(code="s", name="S", rank=3)
    up, down = member_factory(), member_factory()
    TierChange.objects.create(member=up, from_tier=silver, to_tier=gold, reason="upgrade", created_at=timezone.now())
    TierChange.objects.create(member=down, from_tier=gold, to_tier=silver, reason="downgrade", created_at=timezone.now())
    changes_evaluate()
    assert len(messages(up)) == 1 and messages(down) == []


def test_the_downgrade_warning_carries_the_journeys_offer_once(program, member):
    journey("tier-warning")
    for _ in range(2):  # members' nightly evaluation sends its warning once per grace period
        notification_record(member=member, kind="tier_downgrade_warning", dedupe_key=f"tier-warning:{member.pk}:1",
                            payload={"tier": "gold", "downgrade_on": "2026-12-01", "needed": "120"})
    changes_evaluate()
    changes_evaluate()
    assert EarnBoost.objects.get(member=member).multiplier == 2


def test_high_potential_new_user_coupon(api, program, course_viewed):
    journey("high-potential", event_type=course_viewed)
    with time_machine.travel(NOW, tick=False):
        r = api.post("/api/v1/members", {"external_id": "keen", "email": "keen@example.com", "language": "zh-hans"})
        assert r.status_code == 201
    from members.models import Member

    keen = Member.objects.get(external_id="keen")
    with time_machine.travel(NOW + timedelta(hours=3), tick=False):
        assert api.post("/api/v1/events", {"events": views(keen, 11, NOW, step_minutes=10)}).json()["fired"] == 1
    assert messages(keen)[0]["values"] == ["course-0", "course-1", "course-2"]
