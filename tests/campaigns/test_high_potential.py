"""The seed's example end to end: a new user of a course platform who views course details more than 10 times
within a day of signing up gets a coupon for the courses they viewed, within 24 hours of signing up, once."""

from datetime import UTC, datetime, timedelta

import time_machine

from members.models import Notification
from rewards.models import Voucher
from tests.campaigns.conftest import views

SIGN_UP = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def sign_up(api, external_id, language="en"):
    r = api.post("/api/v1/members", {"external_id": external_id, "email": f"{external_id}@example.com",
                                     "name": "Ann", "language": language})
    assert r.status_code == 201, r.json()
    from members.models import Member
    return Member.objects.get(external_id=external_id)


def push(api, events, **kwargs):
    return api.post("/api/v1/events", {"events": events}, **kwargs)


def test_eleven_course_views_within_a_day_of_sign_up_earn_one_coupon_for_those_courses(api, high_potential):
    with time_machine.travel(SIGN_UP, tick=False):
        keen = sign_up(api, "keen", language="zh-hans")
        browsing = sign_up(api, "browsing")
    with time_machine.travel(SIGN_UP + timedelta(hours=6), tick=False):
        first_ten = push(api, views(keen, 10, SIGN_UP + timedelta(minutes=5)))
        assert first_ten.json() == {"recorded": 10, "duplicates": 0, "fired": 0}
        assert not Voucher.objects.filter(member=keen).exists()
        nine = push(api, views(browsing, 9, SIGN_UP + timedelta(minutes=5)))
        assert nine.json()["fired"] == 0

        eleventh = push(api, views(keen, 11, SIGN_UP + timedelta(minutes=5)))  # ten already sent, one new
    assert eleventh.status_code == 201
    assert eleventh.json() == {"recorded": 1, "duplicates": 10, "fired": 1}

    voucher = Voucher.objects.get(member=keen)
    assert voucher.reward.code == "course-coupon" and voucher.status == Voucher.Status.ISSUED
    assert voucher.created_at <= SIGN_UP + timedelta(hours=24)
    assert voucher.expires_at == SIGN_UP + timedelta(hours=6, days=14)
    message = Notification.objects.get(member=keen, kind="campaign")
    assert message.payload["subject"] == "您的课程优惠券"  # the member's language
    assert message.payload["voucher_code"] == voucher.code
    assert message.payload["values"] == ["course-0", "course-1", "course-2"]  # the courses viewed
    assert not Voucher.objects.filter(member=browsing).exists()

    with time_machine.travel(SIGN_UP + timedelta(hours=10), tick=False):
        more = push(api, views(keen, 5, SIGN_UP + timedelta(hours=7), prefix="later-"))
    assert more.json()["fired"] == 0
    assert Voucher.objects.filter(member=keen).count() == 1
    assert Notification.objects.filter(member=keen, kind="campaign").count() == 1


def test_views_after_the_first_day_do_not_count(api, high_potential):
    with time_machine.travel(SIGN_UP, tick=False):
        late = sign_up(api, "late")
    with time_machine.travel(SIGN_UP + timedelta(days=3), tick=False):
        # 6 views on the first day, 6 more on the second: 12 in all, but only 6 within a day of signing up
        r = push(api, views(late, 6, SIGN_UP + timedelta(hours=20)) +
                 views(late, 6, SIGN_UP + timedelta(hours=30), prefix="day2-"))
    assert r.json() == {"recorded": 12, "duplicates": 0, "fired": 0}
    assert not Voucher.objects.filter(member=late).exists()


def test_a_campaign_switched_off_gives_nothing(api, high_potential):
    high_potential.active = False
    high_potential.save()
    with time_machine.travel(SIGN_UP, tick=False):
        keen = sign_up(api, "keen")
    with time_machine.travel(SIGN_UP + timedelta(hours=12), tick=False):
        assert push(api, views(keen, 11, SIGN_UP)).json()["fired"] == 0
    assert not Voucher.objects.exists()
