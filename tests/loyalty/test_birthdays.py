"""Birthday gifts: the member's own time zone, 29 February, exactly once whatever the job does."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine

from loyalty.models import Account, BirthdayGift, Transaction
from loyalty.services import birthdays_gift_due
from loyalty.services import gifts as gifts_module
from members.models import Member, MembershipSettings, Notification, Tier, TierStatus
from tests.loyalty.invariants import assert_ledger_balanced

JOINED = datetime(2029, 1, 1, tzinfo=UTC)


@pytest.fixture
def silver(program):
    return Tier.objects.create(code="silver", name="Silver", rank=2, threshold=Decimal(0), birthday_gift_points=50,
                               birthday_reward_code="birthday-cake")


@pytest.fixture
def born(member_factory, silver):
    def make(birth_date: date, zone: str = "UTC", tier=silver, **fields) -> Member:
        member = member_factory(birth_date=birth_date, timezone=zone, joined_at=JOINED, **fields)
        if tier is not None:
            TierStatus.objects.create(member=member, tier=tier, since=JOINED)
        return member
    return make


def run_at(moment: datetime) -> dict:
    with time_machine.travel(moment, tick=False):
        return birthdays_gift_due()


def gift_points(member: Member) -> int:
    return Account.objects.filter(member=member).values_list("available", flat=True).first() or 0


def test_a_member_in_shanghai_gets_the_gift_at_their_midnight_not_at_utc_midnight(born):
    shanghai = born(date(1990, 5, 10), "Asia/Shanghai")
    london = born(date(1990, 5, 10), "UTC")
    run_at(datetime(2030, 5, 9, 15, 30, tzinfo=UTC))  # 23:30 in Shanghai: not yet
    assert not BirthdayGift.objects.exists()
    run_at(datetime(2030, 5, 9, 16, 30, tzinfo=UTC))  # 00:30 on the 10th in Shanghai, still the 9th in UTC
    assert list(BirthdayGift.objects.values_list("member_id", "year", "points")) == [(shanghai.pk, 2030, 50)]
    assert gift_points(shanghai) == 50 and gift_points(london) == 0
    run_at(datetime(2030, 5, 10, 0, 30, tzinfo=UTC))
    assert gift_points(london) == 50
    assert BirthdayGift.objects.count() == 2
    gift = Transaction.objects.get(member=shanghai)
    assert (gift.kind, gift.points, gift.reason) == ("gift", 50, "Birthday gift 2030")
    assert_ledger_balanced()


def test_the_greeting_names_the_points_and_the_reward_code(born):
    member = born(date(1985, 7, 1))
    run_at(datetime(2030, 7, 1, 6, tzinfo=UTC))
    note = Notification.objects.get(member=member)
    assert note.kind == "birthday_gift" and note.status == "pending" and not note.marketing
    assert note.payload["points"] == 50 and note.payload["reward_code"] == "birthday-cake"
    assert BirthdayGift.objects.get(member=member).reward_code == "birthday-cake"


def test_29_february_is_honoured_on_28_february_in_other_years(born):
    leapling = born(date(2000, 2, 29))
    run_at(datetime(2031, 2, 27, 12, tzinfo=UTC))
    assert not BirthdayGift.objects.exists()
    run_at(datetime(2031, 2, 28, 12, tzinfo=UTC))
    assert BirthdayGift.objects.get(member=leapling).birthday == date(2031, 2, 28)
    run_at(datetime(2032, 2, 28, 12, tzinfo=UTC))  # a leap year: the real day is tomorrow
    assert BirthdayGift.objects.filter(year=2032).count() == 0
    run_at(datetime(2032, 2, 29, 12, tzinfo=UTC))
    assert BirthdayGift.objects.get(member=leapling, year=2032).birthday == date(2032, 2, 29)
    assert gift_points(leapling) == 100


def test_a_job_run_twice_or_every_hour_gives_once(born):
    member = born(date(1990, 3, 3))
    for hour in (0, 0, 5, 23):
        run_at(datetime(2030, 3, 3, hour, 15, tzinfo=UTC))
    assert BirthdayGift.objects.filter(member=member).count() == 1
    assert Transaction.objects.filter(member=member, kind="gift").count() == 1
    assert Notification.objects.filter(member=member, kind="birthday_gift").count() == 1
    assert gift_points(member) == 50


def test_a_missed_day_is_caught_up_within_the_window_and_past_years_never_stack(born):
    late = born(date(1990, 6, 1))
    too_late = born(date(1990, 5, 20))
    stats = run_at(datetime(2030, 6, 3, 12, tzinfo=UTC))  # two days late for one, 14 days for the other
    assert stats["gifts"] == 1
    assert BirthdayGift.objects.get().member == late and BirthdayGift.objects.get().birthday == date(2030, 6, 1)
    assert not BirthdayGift.objects.filter(member=too_late).exists()
    run_at(datetime(2031, 6, 1, 1, tzinfo=UTC))  # next year: one gift, this year's, not a stack
    assert list(BirthdayGift.objects.filter(member=late).order_by("year").values_list("year", flat=True)) == [2030, 2031]
    assert gift_points(late) == 100


def test_suspended_closed_undated_and_newly_joined_members_get_nothing(born, member_factory):
    born(date(1990, 8, 8), status=Member.Status.SUSPENDED)
    born(date(1990, 8, 8), status=Member.Status.CLOSED)
    member_factory(birth_date=None, joined_at=JOINED)
    newcomer = born(date(1990, 8, 7))
    newcomer.joined_at = datetime(2030, 8, 8, tzinfo=UTC)  # joined after this year's birthday
    newcomer.save()
    assert run_at(datetime(2030, 8, 8, 12, tzinfo=UTC))["gifts"] == 0
    assert not BirthdayGift.objects.exists() and not Transaction.objects.exists()


def test_a_member_without_a_tier_gets_the_greeting_but_no_points(born):
    member = born(date(1990, 9, 9), tier=None)
    run_at(datetime(2030, 9, 9, 12, tzinfo=UTC))
    gift = BirthdayGift.objects.get(member=member)
    assert gift.points == 0 and gift.transaction is None
    assert Notification.objects.filter(member=member, kind="birthday_gift").exists()


def test_a_worker_dying_mid_batch_leaves_nothing_half_done_and_the_rerun_gives_everyone_once(born, monkeypatch):
    members = [born(date(1990, 10, 10)) for _ in range(5)]
    real_give, calls = gifts_module._give, []

    def dying_give(**kwargs):
        calls.append(kwargs["member"].pk)
        if len(calls) == 3:
            raise SystemExit("worker killed")
        return real_give(**kwargs)

    monkeypatch.setattr(gifts_module, "_give", dying_give)
    with pytest.raises(SystemExit):
        run_at(datetime(2030, 10, 10, 3, tzinfo=UTC))
    assert not BirthdayGift.objects.exists() and not Transaction.objects.exists()  # the batch rolled back whole
    assert not Notification.objects.exists()
    monkeypatch.setattr(gifts_module, "_give", real_give)
    assert run_at(datetime(2030, 10, 10, 4, tzinfo=UTC))["gifts"] == 5
    assert run_at(datetime(2030, 10, 10, 5, tzinfo=UTC))["gifts"] == 0
    assert [gift_points(m) for m in members] == [50] * 5
    assert_ledger_balanced()


def test_the_unique_key_refuses_a_second_gift_of_a_year(born):
    from django.db import IntegrityError, transaction

    member = born(date(1990, 11, 11))
    run_at(datetime(2030, 11, 11, 12, tzinfo=UTC))
    with pytest.raises(IntegrityError), transaction.atomic():
        BirthdayGift.objects.create(member=member, year=2030, birthday=date(2030, 11, 11), created_at=JOINED)


def test_the_greeting_follows_the_service_message_consent_setting(born):
    settings = MembershipSettings.current()
    settings.service_messages_need_consent = True
    settings.save()
    refused, agreed = born(date(1990, 12, 1)), born(date(1990, 12, 1), marketing_consent=True)
    run_at(datetime(2030, 12, 1, 12, tzinfo=UTC))
    assert Notification.objects.get(member=refused).status == "skipped"
    assert Notification.objects.get(member=agreed).status == "pending"
    assert gift_points(refused) == 50  # the gift itself does not depend on consent


def test_the_job_reads_only_members_whose_birthday_can_be_due(born):
    born(date(1990, 1, 15))
    for _ in range(3):
        born(date(1990, 7, 15))
    stats = run_at(datetime(2030, 1, 15, 12, tzinfo=UTC))
    assert stats["members"] == 1 and stats["gifts"] == 1
    assert run_at(datetime(2030, 1, 15, 13, tzinfo=UTC))["members"] == 0  # gifted ones are not read again


def test_gift_points_expire_like_other_points(born):
    member = born(date(1990, 4, 4))
    run_at(datetime(2030, 4, 4, 12, tzinfo=UTC))
    lot = member.lots.get()
    assert lot.expires_at.date() == date(2031, 4, 4) and lot.released
    assert (lot.expires_at - timedelta(days=365)).year == 2030
