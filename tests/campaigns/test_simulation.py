"""Simulating a campaign over the last 30 days says whom it would have reached and what it would have cost, and
writes nothing; the admin action and the reach-vs-control section show it to staff."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from django.utils import timezone

from campaigns.models import Campaign, Firing
from campaigns.services import campaign_simulate
from loyalty.models import EarnBoost, Order, Transaction
from members.models import Notification
from rewards.models import Voucher
from tests.office import manager  # noqa: F401 - fixture

from .test_orders_and_limits import order


def written() -> tuple:
    return tuple(m.objects.count() for m in (Firing, Transaction, Notification, Voucher, EarnBoost))


def test_an_order_campaign_simulated_over_last_month_writes_nothing(api, program, member_factory, course_coupon):
    a, b = member_factory(), member_factory()
    for m, n, amount in ((a, "A1", "80.00"), (a, "A2", "90.00"), (b, "B1", "20.00")):
        order(api, m, order_id=n, amount=amount)
    Order.objects.filter(order_id="A2").update(occurred_at=timezone.now() - timedelta(days=40))  # too old
    campaign = Campaign.objects.create(code="big", name="Big orders", trigger=Campaign.Trigger.ORDER,
                                       order_min_amount=Decimal("50"), bonus_points=100, reward=course_coupon,
                                       once_per_member=False, message_text={"en": "Thanks"})
    before = written()
    s = campaign_simulate(campaign=campaign)
    assert (s.members, s.firings, s.points, s.vouchers) == (1, 1, 100, 1)
    assert written() == before


def test_a_birthday_campaign_simulated_with_a_budget(program, member_factory):
    today = datetime(2026, 11, 20, 12, tzinfo=UTC)
    for day in (1, 5, 19, 25):  # three birthdays in the last 30 days, one still to come
        member_factory(birth_date=date(1990, 11, day))
    member_factory(birth_date=date(1990, 10, 25))
    campaign = Campaign.objects.create(code="bday", name="Birthday", trigger=Campaign.Trigger.BIRTHDAY,
                                       bonus_points=50, budget_points=120, once_per_member=False)
    s = campaign_simulate(campaign=campaign, now=today)
    assert (s.members, s.points) == (2, 100)  # the third would have met a spent budget
    assert not Firing.objects.exists()


def test_staff_simulate_from_the_list_and_see_reach_against_control(client, manager, program):  # noqa: F811
    campaign = Campaign.objects.create(code="bday", name="Birthday", trigger=Campaign.Trigger.BIRTHDAY,
                                       bonus_points=50, holdout_percent=10)
    client.force_login(manager)
    r = client.post("/admin/campaigns/campaign/", {"action": "simulate", "_selected_action": [campaign.pk]},
                    follow=True)
    assert "would have reached 0 members" in r.content.decode()
    page = client.get(f"/admin/campaigns/campaign/{campaign.pk}/change/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert page.status_code == 200 and "campaign-results" in page.content.decode()
