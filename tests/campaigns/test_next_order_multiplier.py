"""A multiplier on the next order: granted by a firing, taken by the next order that earns, once."""

from datetime import date, datetime, timedelta

from django.utils import timezone

from campaigns.models import Campaign
from campaigns.services import dates_evaluate
from loyalty.models import EarnBoost, Transaction

from .test_orders_and_limits import balance, order


def test_double_points_on_the_next_order_only(api, member, program):
    today = timezone.localdate()
    Campaign.objects.create(code="double", name="Double points", active=True, trigger=Campaign.Trigger.FIXED_DATE,
                            fire_on=today, boost_multiplier=2, boost_valid_days=7,
                            message_text={"en": "Double points on your next order", "zh-hans": "下一单双倍积分"})
    assert dates_evaluate()["fired"] == 1
    order(api, member, order_id="O-0", amount="5.00")  # earns nothing: keeps the boost for an order that earns
    order(api, member, order_id="O-1", amount="100.00")
    assert balance(api, member) == 20
    order(api, member, order_id="O-2", amount="100.00")
    assert balance(api, member) == 30
    earn = Transaction.objects.get(reference="O-1")
    assert earn.details["boost"] == "2.000" and EarnBoost.objects.get().used_by == earn
    assert api.post("/api/v1/orders/O-1/refunds", {"amount": "100.00"}).status_code == 201
    assert balance(api, member) == 10  # taken back at the rate it earned


def test_an_expired_multiplier_is_not_applied(api, member, program, time_machine):
    Campaign.objects.create(code="double", name="Double points", active=True, trigger=Campaign.Trigger.FIXED_DATE,
                            fire_on=date(2026, 1, 1), boost_multiplier=2, boost_valid_days=7)
    time_machine.move_to(datetime(2026, 1, 1, 10, tzinfo=timezone.get_current_timezone()), tick=False)
    dates_evaluate()
    time_machine.move_to(timezone.now() + timedelta(days=8), tick=False)
    order(api, member, order_id="O-1", amount="100.00")
    assert balance(api, member) == 10
