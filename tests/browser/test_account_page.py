"""The members' own page as a member sees it, on a phone and on a desktop, in Simplified Chinese and English.

With UPDATE_SCREENSHOTS=1 the tests also save the page as docs/screenshots/account-<language>-<width>.png, the
pictures the README shows.
"""

import os
import re
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import time_machine
from django.utils import timezone

from loyalty.models import ProgramSettings
from members.models import Plan, Tier
from referrals.models import Program
from referrals.services import referral_code_ensure
from rewards.models import RedemptionRules, Reward
from tests.browser.conftest import DESKTOP, PHONE
from tests.conftest import make_client

pytestmark = pytest.mark.django_db(transaction=True)

DOCS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
# Codes that must never reach a member's eyes.
RAW = ["free_shipping", "priority_service", "lounge_access", "referral:", "reward:", "x1.5", "friend(s)",
       "earn_multiplier", "insufficient_points", "tier_required", "trialing", "fixed_discount", "29.00"]


@pytest.fixture
def shop(channel, settings):
    settings.REFERRAL_LINK_URL = "https://shop.example/join?ref={code}"
    program = ProgramSettings.current()
    program.name, program.currency, program.earn_points, program.earn_amount = "Lotus Rewards", "EUR", 1, Decimal("1")
    program.pending_days, program.expiry_months, program.expiry_reminder_days = 14, 12, [30, 7]
    program.save()
    rules = RedemptionRules.current()
    rules.voucher_valid_days = 60
    rules.save()
    Tier.objects.create(code="silver", name="Silver", rank=1, threshold=0, earn_multiplier=Decimal("1.500"),
                        perks=["free_shipping", "priority_service"])
    gold = Tier.objects.create(code="gold", name="Gold", rank=2, threshold=5000, perks=["lounge_access"])
    Plan.objects.create(code="plus", name="Lotus Plus", kind=Plan.Kind.SUBSCRIPTION, period=Plan.Period.MONTH,
                        price=Decimal("4.99"), currency="EUR")
    Reward.objects.create(code="coffee", name="Free coffee", kind=Reward.Kind.PRODUCT_VOUCHER, points_cost=300,
                          product_sku="COF-1")
    Reward.objects.create(code="tenner", name="10 EUR voucher", kind=Reward.Kind.FIXED_DISCOUNT, points_cost=1000,
                          value=Decimal("10.00"), currency="EUR")
    Reward.objects.create(code="trip", name="Weekend trip", kind=Reward.Kind.PHYSICAL, points_cost=20000)
    Reward.objects.create(code="lounge", name="Lounge day pass", kind=Reward.Kind.PHYSICAL,
                          points_cost=100).tiers.add(gold)
    Program.objects.create(name="Invite friends", active=True, referrer_points=200, welcome_points=50)
    return make_client(channel)


def member_with_history(api, language: str, *, name: str) -> str:
    """A member with points expiring soon, points pending, vouchers, a redemption, a friend, a paid plan."""
    now = timezone.now()
    ext = f"C-{language}"
    with time_machine.travel(now - timedelta(days=350), tick=False):  # these points expire in about 15 days
        api.post("/api/v1/members", {"external_id": ext, "name": name, "email": f"{ext}@example.com",
                                     "timezone": "Asia/Shanghai", "language": language})
        api.post("/api/v1/orders", {"member": ext, "order_id": "A-1001", "amount": "1800.00", "currency": "EUR"})
    with time_machine.travel(now - timedelta(days=60), tick=False):
        api.post("/api/v1/orders", {"member": ext, "order_id": "A-1002", "amount": "1234.00", "currency": "EUR"})
    api.post("/api/v1/orders", {"member": ext, "order_id": "A-1003", "amount": "40.00", "currency": "EUR"})  # pending
    api.post("/api/v1/redemptions", {"member": ext, "reward": "coffee"})
    api.post("/api/v1/redemptions", {"member": ext, "reward": "tenner"})
    api.post(f"/api/v1/members/{ext}/subscriptions", {"plan": "plus", "payment_reference": f"pay-{ext}",
                                                      "amount": "4.99", "currency": "EUR"})
    from members.models import Member

    code = referral_code_ensure(member=Member.objects.get(external_id=ext)).code
    api.post("/api/v1/members", {"external_id": f"F-{language}", "name": "Friend", "referral_code": code})
    return ext


def open_page(live_server, page_at, api, ext, width, language):
    url = api.post(f"/api/v1/members/{ext}/page-links", idempotency_key=False).json()["url"]
    page = page_at(width, language)
    page.goto(live_server.url + url[len("http://testserver"):] if url.startswith("http://testserver") else url)
    page.locator("#available").wait_for()
    return page


@pytest.mark.parametrize("width", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_a_chinese_member_reads_their_page_in_chinese(live_server, page_at, shop, width):
    ext = member_with_history(shop, "zh-hans", name="李雷")
    page = open_page(live_server, page_at, shop, ext, width, "zh-hans")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    text = page.locator("body").inner_text()
    for words in ["积分", "会员等级", "优惠券", "兑换", "邀请", "李雷", "Lotus Rewards", "免费配送", "优先客户服务",
                  "Lounge access", "即将到期", "Lotus Plus", "续订"]:
        assert words in text, words
    assert "Points you can spend" not in text and "Expiring soon" not in text
    assert not [raw for raw in RAW if raw in text]
    assert re.search(r"\d{4}年\d{1,2}月\d{1,2}日", text)  # dates in the Chinese way
    check_vouchers_and_layout(page, width)
    save_screenshot(page, f"account-zh-hans-{width}.png")


@pytest.mark.parametrize("width", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_an_english_member_reads_their_page_in_english(live_server, page_at, shop, width):
    ext = member_with_history(shop, "en", name="Ada Lovelace")
    page = open_page(live_server, page_at, shop, ext, width, "en")
    assert page.locator("html").get_attribute("lang") == "en"
    text = page.locator("body").inner_text()
    for words in ["Points you can spend", "Expiring soon", "Your vouchers", "Free shipping", "Priority customer service",
                  "Gold brings: Lounge access", "You earn 1.5 times the points", "Lotus Plus", "Renews on",
                  "Redeemed for Free coffee",
                  "One friend joined with your code.", "+1,851"]:
        assert words in text, words
    assert not re.search(r"[\u4e00-\u9fff]", text.replace("中文", ""))  # no Chinese but the language switch
    assert not [raw for raw in RAW if raw in text]
    assert page.get_by_label("Your invitation link to share:").input_value().startswith("https://shop.example/join?ref=")
    check_vouchers_and_layout(page, width)
    save_screenshot(page, f"account-en-{width}.png")


def save_screenshot(page, name: str) -> None:
    if os.environ.get("UPDATE_SCREENSHOTS"):
        DOCS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(DOCS / name), full_page=True)


def check_vouchers_and_layout(page, width):
    vouchers = page.locator("#vouchers li.voucher")
    assert vouchers.count() == 2
    for n in range(2):
        qr = vouchers.nth(n).locator("svg.qr")
        assert qr.is_visible()
        box = qr.bounding_box()
        assert box["width"] >= 120 and box["height"] >= 120  # big enough for a till's scanner
        assert re.fullmatch(r"[A-Z0-9]{4}(-[A-Z0-9]{4}){3}", vouchers.nth(n).locator(".voucher-code").inner_text())
    # Nothing wider than the screen: no sideways scrolling on a phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert page.get_by_label(re.compile(".")).count() >= 1  # the tier progress bar has a label


def test_the_member_can_switch_language_on_the_page(live_server, page_at, shop):
    ext = member_with_history(shop, "en", name="Ada")
    page = open_page(live_server, page_at, shop, ext, PHONE, "en")
    page.get_by_role("link", name="中文").click()
    page.locator("html[lang='zh-hans']").wait_for()
    assert "可用积分" in page.locator("body").inner_text()
