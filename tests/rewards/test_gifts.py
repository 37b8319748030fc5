from datetime import date, timedelta

import pytest
import time_machine
from django.utils import timezone

from loyalty.models import BirthdayGift
from members.models import Notification
from rewards.models import Voucher
from rewards.services import birthday_vouchers_issue, voucher_reminders_send

pytestmark = pytest.mark.usefixtures("rules")


def test_a_birthday_gift_naming_a_voucher_reward_gets_its_voucher_once(member, coffee):
    gift = BirthdayGift.objects.create(member=member, year=2026, birthday=date(2026, 11, 23), tier_code="gold",
                                       reward_code="coffee", created_at=timezone.now())
    assert birthday_vouchers_issue() == 1
    assert birthday_vouchers_issue() == 0  # run twice, one voucher
    voucher = Voucher.objects.get()
    assert (voucher.birthday_gift, voucher.member, voucher.reward) == (gift, member, coffee)
    assert voucher.redemption is None
    note = Notification.objects.get(kind="birthday_voucher")
    assert note.payload["code"] == voucher.code


def test_gifts_without_a_voucher_reward_get_none(member, coffee, mug):
    BirthdayGift.objects.create(member=member, year=2026, birthday=date(2026, 11, 23), reward_code="mug",
                                created_at=timezone.now())
    assert birthday_vouchers_issue() == 0
    assert not Voucher.objects.exists()


def test_voucher_expiry_reminder_once_and_not_for_used_ones(api, member, give, coffee, rules):
    give(member, 600)
    first, second = api.post("/api/v1/redemptions", {"member": member.external_id, "reward": "coffee",
                                                      "quantity": 2}).json()["vouchers"]
    api.post(f"/api/v1/vouchers/{second['code']}/redeem", {})
    assert voucher_reminders_send() == 0  # 30 days of validity, 7 days of lead time
    with time_machine.travel(timezone.now() + timedelta(days=25)):
        assert voucher_reminders_send() == 1
        assert voucher_reminders_send() == 0
    note = Notification.objects.get(kind="voucher_expiry_reminder")
    assert note.payload["code"] == first["code"] and note.payload["days"] == 5
