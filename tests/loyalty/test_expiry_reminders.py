"""Reminders before points expire: per lead time and expiry date, once, for what still remains."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import time_machine
from django.core import mail

from loyalty.models import ProgramSettings
from loyalty.services import expiry_reminders_send
from members.models import Member, MembershipSettings, Notification
from members.services import notifications_deliver_due

EARNED = datetime(2030, 1, 10, 12, tzinfo=UTC)  # expires at the end of 2031-01-10 (12 months; the member is in UTC)
EXPIRES = EARNED.replace(year=2031)


def earn(api, member, order_id="O1", amount="120.00", when=EARNED):
    with time_machine.travel(when, tick=False):
        r = api.post("/api/v1/orders", {"member": member.external_id, "order_id": order_id, "amount": amount,
                                        "currency": "EUR"})
    assert r.status_code == 201, r.json()


def remind_at(moment: datetime) -> dict:
    with time_machine.travel(moment, tick=False):
        return expiry_reminders_send()


def reminders(member):
    return list(Notification.objects.filter(member=member, kind="points_expiring").order_by("id")
                .values_list("payload__lead_days", "payload__points", "payload__date"))


def test_thirty_and_seven_days_before_once_each_with_the_points_and_the_date(api, member):
    earn(api, member)  # 12 points
    remind_at(EXPIRES - timedelta(days=31))
    assert reminders(member) == []
    remind_at(EXPIRES - timedelta(days=30))
    remind_at(EXPIRES - timedelta(days=29, hours=12))  # the next day's run: nothing new
    assert reminders(member) == [(30, 12, "2031-01-10")]
    remind_at(EXPIRES - timedelta(days=7))
    remind_at(EXPIRES - timedelta(days=7))
    assert reminders(member) == [(30, 12, "2031-01-10"), (7, 12, "2031-01-10")]


def test_points_spent_meanwhile_are_not_reminded_of(api, member, member_factory):
    spender = member_factory()
    earn(api, member)
    earn(api, spender, "O2")
    with time_machine.travel(EXPIRES - timedelta(days=40), tick=False):
        assert api.post("/api/v1/redemptions", {"member": spender.external_id, "points": 12}).status_code == 201
    remind_at(EXPIRES - timedelta(days=30))
    assert reminders(spender) == [] and len(reminders(member)) == 1


def test_a_partly_spent_lot_is_reminded_of_what_remains(api, member):
    earn(api, member)
    with time_machine.travel(EXPIRES - timedelta(days=20), tick=False):
        api.post("/api/v1/redemptions", {"member": member.external_id, "points": 5})
    remind_at(EXPIRES - timedelta(days=7))
    assert reminders(member) == [(7, 7, "2031-01-10")]


def test_a_late_job_sends_only_the_closest_lead_time(api, member):
    earn(api, member)
    remind_at(EXPIRES - timedelta(days=6))  # both were missed: only the 7-day reminder, not two messages at once
    assert [r[0] for r in reminders(member)] == [7]


def test_lead_times_are_a_program_setting(api, member):
    program = ProgramSettings.current()
    program.expiry_reminder_days = [14]
    program.save()
    earn(api, member)
    remind_at(EXPIRES - timedelta(days=30))
    assert reminders(member) == []
    remind_at(EXPIRES - timedelta(days=14))
    assert [r[0] for r in reminders(member)] == [14]
    program.expiry_reminder_days = []
    program.save()
    assert remind_at(EXPIRES - timedelta(days=7))["messages"] == 0


def test_service_messages_follow_the_consent_setting(api, member, member_factory):
    agreed = member_factory(marketing_consent=True)
    earn(api, member)
    earn(api, agreed, "O2")
    settings = MembershipSettings.current()
    settings.service_messages_need_consent = True
    settings.save()
    remind_at(EXPIRES - timedelta(days=30))
    assert Notification.objects.get(member=member).status == "skipped"
    assert Notification.objects.get(member=agreed).status == "pending"


def test_the_email_says_how_many_points_expire_when_in_english_and_chinese(api, member, member_factory):
    chinese = member_factory(language=Member.Language.SIMPLIFIED_CHINESE, name="李雷")
    earn(api, member)
    earn(api, chinese, "O2", amount="250.00")
    moment = EXPIRES - timedelta(days=7)
    remind_at(moment)
    with time_machine.travel(moment, tick=False):
        assert notifications_deliver_due()["sent"] == 2
    english, zh = sorted(mail.outbox, key=lambda m: m.to[0] != member.email)
    assert english.subject == "12 of your points expire on 2031-01-10"
    assert "12 of your points expire on 2031-01-10 (in 7 days)" in english.body
    assert zh.subject == "您有 25 积分将于 2031-01-10 过期"
    assert "李雷，您好" in zh.body and "25 积分将于 2031-01-10（7 天后）过期" in zh.body
    assert set(Notification.objects.values_list("status", flat=True)) == {"sent"}


def test_a_reminder_covers_everything_that_expires_that_day_whatever_the_hour(api, member):
    earn(api, member, "morning", "1000.00", when=datetime(2030, 1, 10, 7, tzinfo=UTC))  # 100 points
    earn(api, member, "afternoon", "500.00", when=datetime(2030, 1, 10, 15, tzinfo=UTC))  # 50 points
    job = datetime(2031, 1, 10, 8, tzinfo=UTC)  # the daily run at 08:00
    for days_before in (31, 30, 29, 28, 7, 6, 5):
        remind_at(job - timedelta(days=days_before))
    assert reminders(member) == [(30, 150, "2031-01-10"), (7, 150, "2031-01-10")]
    with time_machine.travel(job - timedelta(days=7), tick=False):
        expiring = api.get(f"/api/v1/members/{member.external_id}/balance").json()["expiring"]
    assert expiring == [{"date": "2031-01-10", "points": 150}]


def test_reminders_give_the_members_own_date_and_days(api, member_factory):
    ada = member_factory(timezone="America/Los_Angeles")
    kenji = member_factory(timezone="Asia/Tokyo")
    earn(api, ada, "A1", when=datetime(2030, 1, 10, 20, tzinfo=ZoneInfo("America/Los_Angeles")))  # 11 Jan in UTC
    earn(api, kenji, "K1", when=datetime(2030, 1, 10, 8, tzinfo=ZoneInfo("Asia/Tokyo")))  # 9 Jan in UTC
    remind_at(datetime(2030, 12, 11, 8, tzinfo=UTC))  # midnight in Los Angeles, 17:00 in Tokyo
    for who in (ada, kenji):
        (payload,) = Notification.objects.filter(member=who, kind="points_expiring").values_list("payload", flat=True)
        assert (payload["date"], payload["days"], payload["lead_days"], payload["points"]) == ("2031-01-10", 30, 30, 12)
        assert payload["expires_at"].startswith("2031-01-10T23:59:59.999999")
        assert payload["timezone"] == who.timezone


def test_the_seven_day_reminder_comes_on_the_members_own_seventh_day_at_either_end_of_the_world(api, member_factory):
    program = ProgramSettings.current()
    program.expiry_reminder_days = [7]
    program.save()
    east, west = member_factory(timezone="Pacific/Kiritimati"), member_factory(timezone="Etc/GMT+12")  # UTC+14, UTC-12
    for n, who in enumerate((east, west)):
        earn(api, who, f"O{n}", when=datetime(2030, 1, 10, 12, tzinfo=ZoneInfo(who.timezone)))
    seen = {}
    for day in (1, 2, 3, 4, 5):
        remind_at(datetime(2031, 1, day, 8, tzinfo=UTC))  # 22:00 the same day in the east, 20:00 the day before in the west
        for who in (east, west):
            if reminders(who) and who.pk not in seen:
                seen[who.pk] = (day, reminders(who))
    assert seen == {east.pk: (3, [(7, 12, "2031-01-10")]), west.pk: (4, [(7, 12, "2031-01-10")])}
