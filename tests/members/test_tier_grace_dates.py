"""Grace periods: counted in days, cleared by a pin or a plan, and the calendar year's whole next year."""

from datetime import UTC, datetime

import pytest
import time_machine

from members.models import Notification, TierChange
from members.services import tier_pin, tiers_evaluate_due
from tests.members.test_tiers import earn, tier_of

pytestmark = pytest.mark.usefixtures("tiers", "membership")


def moment(*args):
    return datetime(*args, tzinfo=UTC)


def night(*args):
    """The nightly evaluation, run at that moment."""
    with time_machine.travel(moment(*args), tick=False):
        return tiers_evaluate_due()


def warnings(member):
    return list(Notification.objects.filter(member=member, kind="tier_downgrade_warning"))


def test_a_job_starting_seconds_earlier_than_the_night_that_started_the_grace_is_not_a_day_late(api, member):
    earn(api, member, "6000.00", when=moment(2025, 1, 15, 12))       # gold; January 2025 leaves on 1 January 2026
    night(2026, 1, 1, 2, 30, 5)                                       # below: the grace starts (30 days, warn 10 before)
    assert tier_of(member) == "gold" and not warnings(member)
    night(2026, 1, 21, 2, 30, 1)
    assert [w.payload["downgrade_on"] for w in warnings(member)] == ["2026-01-31"]
    night(2026, 1, 31, 2, 30, 1)
    assert tier_of(member) == "silver"                                # on the day announced


def test_a_pin_during_grace_clears_it_and_its_end_brings_a_fresh_grace_with_warning(api, member, tiers):
    earn(api, member, "6000.00", when=moment(2025, 1, 15, 12))       # gold
    night(2026, 1, 1, 2, 30)                                          # grace starts
    with time_machine.travel(moment(2026, 1, 5, 10), tick=False):
        tier_pin(member=member, tier=tiers["gold"], until=moment(2026, 3, 1), reason="Goodwill")
        tier = api.get(f"/api/v1/members/{member.external_id}/tier").json()
    assert tier["downgrade"] is None
    night(2026, 1, 31, 2, 30)                                         # the old grace's end: nothing happens
    assert tier_of(member) == "gold"
    night(2026, 3, 2, 2, 30)                                          # the pin is over: a grace period starts
    assert tier_of(member) == "gold" and not warnings(member)
    with time_machine.travel(moment(2026, 3, 2, 12), tick=False):
        assert api.get(f"/api/v1/members/{member.external_id}/tier").json()["downgrade"]["downgrade_on"] == "2026-04-01"
    night(2026, 3, 22, 2, 30)
    assert [w.payload["downgrade_on"] for w in warnings(member)] == ["2026-04-01"]
    night(2026, 4, 1, 2, 30)
    assert tier_of(member) == "silver"


def test_a_calendar_year_qualification_holds_through_the_whole_next_year(api, member, membership):
    membership.window = "calendar_year"
    membership.save()
    earn(api, member, "1000.00", when=moment(2025, 12, 20, 15))     # silver on 20 December
    assert tier_of(member) == "silver"
    for when in [(2026, 1, 1, 2, 30), (2026, 1, 31, 2, 30), (2026, 2, 1, 2, 30), (2026, 7, 1, 2, 30),
                 (2026, 12, 31, 2, 30)]:
        night(*when)
        assert tier_of(member) == "silver", when
    assert not warnings(member)
    night(2027, 1, 1, 2, 30)                                          # 2025 no longer counts: the usual grace
    assert tier_of(member) == "silver"
    night(2027, 1, 21, 2, 30)
    assert len(warnings(member)) == 1
    night(2027, 1, 31, 2, 30)
    assert tier_of(member) == "bronze"
    assert TierChange.objects.filter(member=member).first().reason == "downgrade"
