"""Limits: N firings per member per period, a budget in vouchers, the program's frequency cap on campaign
messages, start and end dates; and the control group, held out stably and compared in the results."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import transaction

from campaigns.models import Campaign, CampaignSettings, Firing
from campaigns.rules import held_out
from campaigns.selectors import campaign_results
from campaigns.services.evaluation import Candidate, firings_apply
from loyalty.models import Account
from members.models import Notification

from .test_orders_and_limits import order

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)  # a Friday


def fire(campaign, members, occurrence, now=NOW) -> int:
    with transaction.atomic():
        return len(firings_apply(candidates=[Candidate(campaign=campaign, member_id=m.pk, occurrence=occurrence)
                                             for m in members], now=now))


@pytest.fixture
def daily(db):
    return Campaign.objects.create(code="d", name="Daily", active=True, trigger=Campaign.Trigger.FIXED_DATE,
                                   fire_on=date(2026, 11, 20), bonus_points=10, once_per_member=False)


def test_n_firings_per_member_per_week(program, member, daily):
    daily.limit_per_member, daily.limit_period = 2, Campaign.LimitPeriod.WEEK
    daily.save()
    assert [fire(daily, [member], f"o{i}") for i in range(3)] == [1, 1, 0]
    assert fire(daily, [member], "next-week", now=NOW + timedelta(days=3)) == 1  # Monday: a new week
    assert Account.objects.get(member=member).available == 30


def test_a_budget_in_vouchers_stops_the_vouchers(program, member_factory, daily, course_coupon):
    daily.bonus_points, daily.reward, daily.budget_vouchers = 0, course_coupon, 2
    daily.save()
    assert fire(daily, [member_factory() for _ in range(3)], "x") == 2
    daily.refresh_from_db()
    assert daily.spent_vouchers == 2


def test_a_withdrawn_reward_does_not_use_up_the_voucher_budget_and_the_points_still_go_out(
        program, member_factory, daily, course_coupon):
    daily.reward, daily.budget_vouchers = course_coupon, 1
    daily.save()
    course_coupon.active = False
    course_coupon.save()
    members = [member_factory() for _ in range(3)]
    assert fire(daily, members, "x") == 3  # every member gets the 10 points; no voucher is granted
    assert [Account.objects.get(member=m).available for m in members] == [10, 10, 10]
    daily.refresh_from_db()
    assert daily.spent_vouchers == 0


def test_a_campaign_switched_off_after_it_was_matched_pays_nothing(program, member, daily):
    candidate = Candidate(campaign=daily, member_id=member.pk, occurrence="x")  # matched with the live campaign
    Campaign.objects.filter(pk=daily.pk).update(active=False)  # then switched off (no save: no cache cleared)
    with transaction.atomic():
        assert firings_apply(candidates=[candidate], now=NOW) == []
    assert not Account.objects.filter(member=member, available__gt=0).exists()


def test_frequency_cap_across_campaigns_skips_messages_not_points(program, member, daily):
    CampaignSettings.objects.create(pk=1, message_cap=2, message_cap_days=7)
    daily.message_text = {"en": "Hello", "zh-hans": "你好"}
    daily.save()
    other = Campaign.objects.create(code="o", name="Other", active=True, trigger=Campaign.Trigger.FIXED_DATE,
                                    fire_on=date(2026, 11, 20), once_per_member=False, bonus_points=1,
                                    message_text={"en": "More"})
    fire(daily, [member], "a")
    fire(other, [member], "b", now=NOW + timedelta(days=1))
    fire(daily, [member], "c", now=NOW + timedelta(days=2))  # a third message in 7 days: capped
    assert Notification.objects.filter(member=member, kind="campaign").count() == 2
    capped = Firing.objects.get(occurrence_key="c")
    assert capped.details["message_skipped"] == "frequency_cap" and capped.points == 10
    fire(other, [member], "d", now=NOW + timedelta(days=8))  # the first message is a week old
    assert Notification.objects.filter(member=member, kind="campaign").count() == 3


def test_an_order_outside_the_campaigns_dates_does_not_fire(api, member, program):
    Campaign.objects.create(code="later", name="Later", active=True, trigger=Campaign.Trigger.ORDER, bonus_points=100,
                            starts_at=datetime.now(UTC) + timedelta(days=1))
    Campaign.objects.create(code="over", name="Over", active=True, trigger=Campaign.Trigger.ORDER, bonus_points=100,
                            ends_at=datetime.now(UTC) - timedelta(days=1))
    assert order(api, member).status_code == 201
    assert not Firing.objects.exists()


def test_a_control_group_is_held_out_stably_and_reported(api, program, member_factory, daily):
    daily.holdout_percent = 50
    daily.save()
    members = [member_factory() for _ in range(12)]
    assert fire(daily, members, "x") == 12
    out = {f.member_id for f in Firing.objects.filter(held_out=True)}
    assert 0 < len(out) < 12 and out == {m.pk for m in members if held_out(daily.pk, m.pk, 50)}
    assert all(Account.objects.filter(member_id=m, available__gt=0).exists() is False for m in out)
    assert fire(daily, members, "x") == 0  # stable: the same occurrence is recorded once, on the same side
    buyer = next(m for m in members if m.pk not in out)
    order(api, buyer, amount="80.00")
    results = campaign_results(campaign=daily)
    assert (results["reached"].members, results["held_out"].members) == (12 - len(out), len(out))
    assert (results["reached"].buyers, results["reached"].orders, str(results["reached"].spend)) == (1, 1, "80.00")
    assert results["held_out"].orders == 0
