"""Tags (and segments, as rule tags) entered fire through the change job; birthdays, anniversaries of joining and
fixed dates through the daily job, once per year or date whatever reruns."""

from datetime import UTC, date, datetime

from campaigns.models import Campaign, Firing
from campaigns.services import changes_evaluate, dates_evaluate
from insight.models import MemberTag, Tag
from loyalty.models import Account

NOW = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


def points(member) -> int:
    account = Account.objects.filter(member=member).first()
    return account.available if account else 0


def test_a_tag_entered_fires_once_per_entry(program, member_factory):
    vip = Tag.objects.create(code="high-value", name="High value", rule_field="value_tier", rule_op="eq",
                             rule_value="high")
    Campaign.objects.create(code="vip", name="VIP welcome", active=True, trigger=Campaign.Trigger.TAG_ENTERED,
                            to_tag=vip, bonus_points=50, once_per_member=False)
    tagged, other = member_factory(), member_factory()
    MemberTag.objects.create(member=tagged, tag=vip, source="rule", added_at=NOW)
    MemberTag.objects.create(member=other, tag=Tag.objects.create(code="x", name="X"), source="manual", added_at=NOW)
    assert changes_evaluate()["fired"] == 1
    assert changes_evaluate()["fired"] == 0
    assert (points(tagged), points(other)) == (50, 0)
    MemberTag.objects.filter(member=tagged).delete()  # left the segment, and entered it again: a new entry
    MemberTag.objects.create(member=tagged, tag=vip, source="rule", added_at=NOW)
    changes_evaluate()
    assert points(tagged) == 100


def test_birthday_campaign_reaches_todays_birthdays_once_a_year(program, member_factory):
    Campaign.objects.create(code="bday", name="Birthday", active=True, trigger=Campaign.Trigger.BIRTHDAY,
                            bonus_points=30, once_per_member=False, message_text={"en": "Happy birthday!"})
    today = member_factory(birth_date=date(1990, 11, 20))
    leap = member_factory(birth_date=date(2000, 2, 29))
    member_factory(birth_date=date(1990, 11, 21))
    assert dates_evaluate(now=NOW) == {"members": 1, "fired": 1, "batches": 1}
    assert dates_evaluate(now=NOW)["fired"] == 0  # a rerun of the day
    assert points(today) == 30
    dates_evaluate(now=datetime(2027, 2, 28, 8, tzinfo=UTC))  # not a leap year: 29 February on the 28th
    assert points(leap) == 30
    dates_evaluate(now=datetime(2027, 11, 20, 8, tzinfo=UTC))  # next year, again
    assert points(today) == 60


def test_anniversary_and_fixed_date(program, member_factory):
    Campaign.objects.create(code="anniv", name="Anniversary", active=True, trigger=Campaign.Trigger.ANNIVERSARY,
                            bonus_points=10, once_per_member=False)
    Campaign.objects.create(code="sale", name="Singles' day", active=True, trigger=Campaign.Trigger.FIXED_DATE,
                            fire_on=date(2026, 11, 11), bonus_points=5, once_per_member=False)
    veteran = member_factory(joined_at=datetime(2024, 11, 20, 23, 30, tzinfo=UTC))
    member_factory(joined_at=datetime(2026, 11, 20, 1, 0, tzinfo=UTC))  # joined today: no anniversary yet
    member_factory(joined_at=datetime(2025, 11, 21, 0, 0, tzinfo=UTC))
    assert dates_evaluate(now=NOW, batch_size=1)["fired"] == 1
    assert points(veteran) == 10
    assert dates_evaluate(now=datetime(2026, 11, 11, 9, tzinfo=UTC))["fired"] == 3  # everyone, on the day
    assert dates_evaluate(now=datetime(2026, 11, 11, 9, tzinfo=UTC))["fired"] == 0


def test_dates_of_a_campaign_bound_its_job(program, member_factory):
    Campaign.objects.create(code="bday", name="Birthday", active=True, trigger=Campaign.Trigger.BIRTHDAY,
                            bonus_points=30, ends_at=datetime(2026, 11, 1, tzinfo=UTC))
    member_factory(birth_date=date(1990, 11, 20))
    assert dates_evaluate(now=NOW)["fired"] == 0
    assert not Firing.objects.exists()
