"""Points expire at the end of a day in the member's own time zone, and every date a member reads is that day."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import transaction
from django.test import override_settings

from loyalty.locks import members_locked
from loyalty.models import Lot, ProgramSettings, Transaction
from loyalty.services import points_bonus, points_gift, points_settle_due
from loyalty.services.rules import expiry_for
from members.models import Member

LA, TOKYO = ZoneInfo("America/Los_Angeles"), ZoneInfo("Asia/Tokyo")


def at(zone, *args) -> datetime:
    return datetime(*args, tzinfo=zone)


def earn(api, member, when, order_id="O1", amount="1000.00"):  # 100 points
    with time_machine.travel(when, tick=False):
        r = api.post("/api/v1/orders", {"member": member.external_id, "order_id": order_id, "amount": amount,
                                        "currency": "EUR"})
    assert r.status_code == 201, r.json()


def redeem(api, member, when, points=10):
    with time_machine.travel(when, tick=False):
        return api.post("/api/v1/redemptions", {"member": member.external_id, "points": points})


def balance(api, member, when):
    with time_machine.travel(when, tick=False):
        return api.get(f"/api/v1/members/{member.external_id}/balance").json()


def test_points_earned_in_the_evening_in_los_angeles_last_all_of_the_local_date_they_are_shown(api, member_factory):
    ada = member_factory(timezone="America/Los_Angeles")
    earn(api, ada, at(LA, 2025, 3, 9, 20))  # 2025-03-10 03:00 UTC
    assert balance(api, ada, at(LA, 2025, 4, 1, 12))["expiring"] == [{"date": "2026-03-09", "points": 100}]
    assert Lot.objects.get().expires_at == at(LA, 2026, 3, 9, 23, 59, 59, 999999)

    late_evening = redeem(api, ada, at(LA, 2026, 3, 9, 22))  # after 20:00, the hour of earning: still theirs
    assert late_evening.status_code == 201, late_evening.json()
    assert balance(api, ada, at(LA, 2026, 3, 9, 23, 59))["available"] == 90

    next_morning = redeem(api, ada, at(LA, 2026, 3, 10, 8))
    assert next_morning.status_code == 422 and next_morning.json()["error"]["code"] == "insufficient_points"
    after = balance(api, ada, at(LA, 2026, 3, 10, 8))
    assert (after["available"], after["expiring"]) == (0, [])


def test_the_expiry_job_takes_the_points_at_the_members_midnight_not_before(api, member_factory):
    tokyo, la = member_factory(timezone="Asia/Tokyo"), member_factory(timezone="America/Los_Angeles")
    earn(api, tokyo, at(TOKYO, 2030, 6, 1, 8), "T1")
    earn(api, la, at(LA, 2030, 6, 1, 20), "L1")
    with time_machine.travel(at(TOKYO, 2031, 6, 1, 23, 59, 59), tick=False):
        assert points_settle_due()["lots"] == 0
    with time_machine.travel(at(TOKYO, 2031, 6, 2, 0, 0, 0), tick=False):
        assert points_settle_due()["lots"] == 1  # Tokyo's midnight; Los Angeles is still on the morning of 1 June
    with time_machine.travel(at(LA, 2031, 6, 2, 0, 0, 0), tick=False):
        assert points_settle_due()["lots"] == 1
    assert Transaction.objects.filter(kind="expire").count() == 2


def test_a_lot_earned_on_the_31st_expires_at_the_end_of_the_local_month_n_months_on(api, member_factory):
    program = ProgramSettings.current()
    program.expiry_months = 1
    program.save()
    ada = member_factory(timezone="America/Los_Angeles")
    earn(api, ada, at(LA, 2030, 1, 31, 22))  # already 1 February in UTC
    assert balance(api, ada, at(LA, 2030, 2, 10, 12))["expiring"] == [{"date": "2030-02-28", "points": 100}]
    assert Lot.objects.get().expires_at == at(LA, 2030, 2, 28, 23, 59, 59, 999999)


def test_a_fixed_yearly_date_follows_the_local_year_of_earning(api, member_factory):
    program = ProgramSettings.current()
    program.expiry_policy = ProgramSettings.ExpiryPolicy.FIXED_YEARLY_DATE
    program.expiry_month, program.expiry_day = 3, 31
    program.save()
    kenji = member_factory(timezone="Asia/Tokyo")
    earn(api, kenji, at(TOKYO, 2031, 1, 1, 1))  # New Year in Tokyo, still 2030 in UTC
    assert balance(api, kenji, at(TOKYO, 2031, 2, 1, 12))["expiring"] == [{"date": "2032-03-31", "points": 100}]
    assert Lot.objects.get().expires_at == at(TOKYO, 2032, 3, 31, 23, 59, 59, 999999)


@pytest.mark.parametrize("zone_name", ["", "Mars/Olympus"])
def test_a_member_without_a_usable_time_zone_gets_the_programs(api, member_factory, zone_name):
    ada = member_factory()
    Member.objects.filter(pk=ada.pk).update(timezone=zone_name)  # older data: registration refuses these
    ada.refresh_from_db()
    with override_settings(TIME_ZONE="Europe/Paris"):
        earn(api, ada, datetime(2030, 6, 1, 23, 30, tzinfo=UTC))  # 1:30 on 2 June in Paris
        assert balance(api, ada, datetime(2030, 7, 1, tzinfo=UTC))["expiring"] == [{"date": "2031-06-02", "points": 100}]
    assert Lot.objects.get().expires_at == at(ZoneInfo("Europe/Paris"), 2031, 6, 2, 23, 59, 59, 999999)


def test_gifts_bonuses_and_adjustments_expire_at_the_end_of_the_members_day_too(api, program, channel, member_factory):
    ada = member_factory(timezone="America/Los_Angeles")
    with time_machine.travel(at(LA, 2030, 5, 1, 19), tick=False):  # 2 May in UTC
        with transaction.atomic(), members_locked([ada.pk]):
            points_gift(member_id=ada.pk, points=5, reason="Birthday", idempotency_key="g",
                        now=at(LA, 2030, 5, 1, 19), member_timezone=ada.timezone)
            points_bonus(member=ada, points=7, channel_id=channel.pk, idempotency_key="b", reason="Referral")
        assert api.post("/api/v1/adjustments", {"member": ada.external_id, "points": 11,
                                                "reason": "Goodwill"}).status_code == 201
    assert set(Lot.objects.values_list("expires_at", flat=True)) == {at(LA, 2031, 5, 1, 23, 59, 59, 999999)}
    assert balance(api, ada, at(LA, 2030, 6, 1, 12))["expiring"] == [{"date": "2031-05-01", "points": 23}]


def test_lots_of_one_local_day_share_their_expiry_and_are_spent_oldest_first(api, member_factory):
    ada = member_factory(timezone="Asia/Tokyo")
    earn(api, ada, at(TOKYO, 2030, 3, 1, 23), "late")  # 14:00 UTC
    earn(api, ada, at(TOKYO, 2030, 3, 1, 6), "early")  # the evening before in UTC: the same local day
    earn(api, ada, at(TOKYO, 2030, 2, 28, 12), "earlier-day")
    assert balance(api, ada, at(TOKYO, 2030, 4, 1, 12))["expiring"] == [
        {"date": "2031-02-28", "points": 100}, {"date": "2031-03-01", "points": 200}]
    assert redeem(api, ada, at(TOKYO, 2030, 4, 1, 12), points=150).status_code == 201
    remaining = dict(Lot.objects.values_list("order__order_id", "remaining"))
    assert remaining == {"earlier-day": 0, "early": 50, "late": 100}


@pytest.mark.parametrize(("zone_name", "earned", "expires"), [
    # the local day of expiry has 23 hours (clocks go forward) and 25 hours (back): it still ends at midnight
    ("America/Los_Angeles", datetime(2025, 3, 8, 12, tzinfo=UTC), "2026-03-08T23:59:59.999999-07:00"),
    ("Europe/London", datetime(2025, 10, 25, 12, tzinfo=UTC), "2026-10-25T23:59:59.999999+00:00"),
    ("Asia/Kolkata", datetime(2025, 3, 8, 20, tzinfo=UTC), "2026-03-09T23:59:59.999999+05:30"),
])
def test_expiry_is_the_last_instant_of_the_local_day_whatever_the_clocks_do(program, zone_name, earned, expires):
    moment = expiry_for(program, earned, member_timezone=zone_name)
    assert moment.isoformat() == expires
    assert (moment + timedelta(microseconds=1)).astimezone(ZoneInfo(zone_name)).time().isoformat() == "00:00:00"


def test_the_members_page_shows_the_local_date_of_expiry(api, client, member_factory):
    ada = member_factory(timezone="America/Los_Angeles", name="Ada")
    earn(api, ada, at(LA, 2025, 3, 9, 20))
    with time_machine.travel(at(LA, 2026, 2, 20, 12), tick=False):  # within the reminder window (30 days)
        token = api.post(f"/api/v1/members/{ada.external_id}/tokens", idempotency_key=False).json()["token"]
        client.get(f"/account/?token={token}")
        page = client.get("/account/").content.decode()
    assert '<span class="expiry-date">March 9, 2026</span><span class="num">100 points</span>' in page
    assert "end of the day shown (your time zone: America/Los_Angeles)" in page
    assert "<td>03/09/2025</td>" in page  # the order in the history, on the member's date (10 March in UTC)


def test_open_lots_from_before_move_to_the_end_of_the_members_day(api, member_factory):
    import importlib

    from django.db import connection

    migration = importlib.import_module("loyalty.migrations.0016_open_lots_expire_at_end_of_local_day")
    ada = member_factory(timezone="America/Los_Angeles")
    with time_machine.travel(datetime(2030, 3, 10, 4, tzinfo=UTC), tick=False):  # 9 March, 20:00 in Los Angeles
        earn(api, ada, datetime(2030, 3, 10, 4, tzinfo=UTC), "old")
    Lot.objects.update(expires_at=datetime(2031, 3, 10, 4, tzinfo=UTC))  # as the old rule stored it

    with connection.schema_editor() as editor:
        migration.forward(None, editor)

    assert Lot.objects.get().expires_at == at(LA, 2031, 3, 9, 23, 59, 59, 999999)
