"""What members read: display names instead of codes, amounts with their units, the voucher code beside its reward,
and Chinese texts in Chinese. The payloads are the ones the jobs record (tiers, plans, birthdays, vouchers)."""

import re
from decimal import Decimal

import pytest
from django.core import mail

from members.models import MembershipSettings, Plan, Tier
from members.services import notification_record, notifications_deliver_due


@pytest.fixture
def catalog(db):
    """Codes a member must never read, and the names they should."""
    silver = Tier.objects.create(code="tier-s2", name="Silver", rank=2, threshold=Decimal("500"))
    plus = Plan.objects.create(code="plus-m1", name="Plus", kind=Plan.Kind.SUBSCRIPTION, period=Plan.Period.MONTH,
                               price=Decimal("9.99"), currency="EUR")
    return silver, plus


def email(member, kind: str, **payload):
    notification_record(member=member, kind=kind, payload=payload, dedupe_key=f"{kind}:{len(mail.outbox)}")
    assert notifications_deliver_due()["sent"] == 1
    message = mail.outbox[-1]
    return message.subject, message.body


def basis(value: str) -> None:
    settings = MembershipSettings.current()
    settings.basis = value
    settings.save()


# The payload the tier evaluation records (members/services/tiers.py): the tier's code and a Decimal as a string.
WARNING = {"tier": "tier-s2", "downgrade_on": "2030-03-20", "needed": "60.00"}


@pytest.mark.parametrize("language, subject, phrase", [
    ("en", "Keep your Silver status: earn 60 more points before 2030-03-20",
     "To keep your Silver status, earn 60 more points before 2030-03-20"),
    ("zh-hans", "保持“Silver”会员等级：请在 2030-03-20 前再获得 60 积分",
     "您还需再获得 60 积分才能保持“Silver”会员等级，否则您的会员等级将于 2030-03-20 调整。"),
])
def test_a_tier_warning_names_the_tier_and_counts_points(catalog, member_factory, language, subject, phrase):
    got_subject, body = email(member_factory(language=language), "tier_downgrade_warning", **WARNING)
    assert got_subject == subject and phrase in body
    assert "tier-s2" not in got_subject + body and "60.00" not in got_subject + body


@pytest.mark.parametrize("language, currency, phrase", [
    ("en", "EUR", "spend €60.00 more before 2030-03-20"),
    ("zh-hans", "EUR", "您还需再消费 €60.00 才能保持“Silver”会员等级"),
    ("zh-hans", "CHF", "您还需再消费 60.00 瑞士法郎 才能保持"),
    ("en", None, "spend 60.00 more before 2030-03-20"),  # no currency in the payload: still an amount, not points
])
def test_a_tier_warning_on_spend_is_money_with_its_currency(catalog, member_factory, language, currency, phrase):
    basis(MembershipSettings.Basis.SPEND)
    payload = {**WARNING, **({"currency": currency} if currency else {})}
    _, body = email(member_factory(language=language), "tier_downgrade_warning", **payload)
    assert phrase in body and "积分" not in body and "points" not in body


@pytest.mark.parametrize("language, phrases", [
    ("en", ["Your Plus membership renews on 2030-03-08 for €9.99.", "Your Plus membership ends on 2030-03-08.",
            "Your Plus membership has ended."]),
    ("zh-hans", ["您的付费会员“Plus”将于 2030-03-08 自动续费，费用为 €9.99。", "您的付费会员“Plus”将于 2030-03-08 到期。",
                 "您的付费会员“Plus”已到期"]),
])
def test_membership_messages_name_the_plan_and_price_it_in_its_currency(catalog, member_factory, language, phrases):
    member = member_factory(language=language)
    # The payloads the membership jobs record (members/services/plans.py).
    texts = [email(member, "membership_renewal_reminder", plan="plus-m1", date="2030-03-08", price="9.99",
                   currency="EUR"),
             email(member, "membership_expiry_reminder", plan="plus-m1", date="2030-03-08", price="9.99",
                   currency="EUR"),
             email(member, "membership_ended", plan="plus-m1", ended_at="2030-03-08T00:00:00+00:00")]
    for (subject, body), phrase in zip(texts, phrases, strict=True):
        assert phrase in body, body
        assert "plus-m1" not in subject + body and "EUR" not in subject + body


# The payload the birthday job records (loyalty/services/gifts.py): it knows the reward's code only.
BIRTHDAY = {"year": 2030, "birthday": "2030-03-01", "points": 150, "reward_code": "bday-cake", "tier": "tier-s2",
            "tier_name": "Silver"}


@pytest.mark.parametrize("language, phrases", [
    ("en", ["As a Silver member, you get 150 points as our gift", "A birthday present is waiting for you too."]),
    ("zh-hans", ["作为“Silver”会员，我们送您 150 积分作为生日礼物", "另有一份生日礼物等您领取。"]),
])
def test_the_birthday_greeting_never_shows_the_rewards_code(catalog, member_factory, language, phrases):
    _, body = email(member_factory(language=language), "birthday_gift", **BIRTHDAY)
    assert all(phrase in body for phrase in phrases), body
    assert "bday-cake" not in body


@pytest.mark.parametrize("language, phrase", [
    ("en", "A birthday present is waiting for you too: Birthday cake. Your voucher code: CAKE-7Q2X."),
    ("zh-hans", "另有一份生日礼物等您领取：Birthday cake。优惠券码：CAKE-7Q2X。"),
])
def test_a_reward_named_in_the_payload_comes_with_its_voucher_code(catalog, member_factory, language, phrase):
    payload = {**BIRTHDAY, "reward_name": "Birthday cake", "voucher_code": "CAKE-7Q2X"}
    _, body = email(member_factory(language=language), "birthday_gift", **payload)
    assert phrase in body and "bday-cake" not in body


def test_voucher_messages_show_the_rewards_name_beside_the_voucher_code(db, member_factory):
    member = member_factory(language="en")
    # The payloads the rewards jobs record (rewards/services/gifts.py): the reward's name and the voucher's code.
    _, body = email(member, "birthday_voucher", code="CAKE-7Q2X", reward="Birthday cake", date="2030-04-01",
                    year=2030)
    assert "Your birthday present is waiting: Birthday cake, with voucher code CAKE-7Q2X, valid until 2030-04-01." \
        in body
    subject, body = email(member, "voucher_expiry_reminder", code="CAKE-7Q2X", reward="Birthday cake",
                          date="2030-04-01", days=1)
    assert subject == "Your voucher for Birthday cake expires on 2030-04-01"
    assert "Your voucher for Birthday cake (code CAKE-7Q2X) expires on 2030-04-01 (in 1 day)." in body


def test_every_chinese_text_is_chinese(db, member_factory):
    """With Chinese names in the catalog, no Latin word or code is left in any Chinese message."""
    Tier.objects.create(code="tier-s2", name="银卡", rank=2, threshold=Decimal("500"))
    Plan.objects.create(code="plus-m1", name="尊享卡", kind=Plan.Kind.SUBSCRIPTION, period=Plan.Period.MONTH,
                        price=Decimal("9.99"), currency="CNY")
    member = member_factory(language="zh-hans", name="李雷")
    texts = [
        email(member, "tier_downgrade_warning", **WARNING),
        email(member, "membership_renewal_reminder", plan="plus-m1", date="2030-03-08", price="9.99", currency="CNY"),
        email(member, "membership_expiry_reminder", plan="plus-m1", date="2030-03-08", price="9.99", currency="CNY"),
        email(member, "membership_ended", plan="plus-m1", ended_at="2030-03-08T00:00:00+00:00"),
        email(member, "birthday_gift", **{**BIRTHDAY, "tier_name": "银卡"}),
        email(member, "birthday_voucher", code="8842-1177", reward="生日蛋糕", date="2030-04-01", year=2030),
        email(member, "voucher_expiry_reminder", code="8842-1177", reward="生日蛋糕", date="2030-04-01", days=5),
        email(member, "points_expiring", points=1200, date="2030-04-01", days=30, lead_days=30,
              expires_at="2030-04-01T00:00:00+00:00"),
        email(member, "a_kind_without_its_own_template", campaign="spring-2030", segment_id=7),
    ]
    for subject, body in texts:
        assert not re.search(r"[A-Za-z]", subject + body), subject + body
    assert "您有 1,200 积分将于 2030-04-01 过期" in texts[7][0]
    assert "¥9.99" in texts[1][1]


def test_a_member_without_a_name_is_greeted_without_the_shops_customer_id(catalog, member_factory):
    member = member_factory(name="", external_id="CUST-000981", language="en")
    _, body = email(member, "tier_downgrade_warning", **WARNING)
    assert body.startswith("Hello,") and "CUST-000981" not in body
