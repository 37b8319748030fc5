"""A clerk serves a member at the counter, in a real browser, in English and in Chinese: finds the member by the
phone number as the customer says it, sees the balance, records a walk-in purchase, and uses a voucher."""

import os
import uuid
from pathlib import Path

import pytest
from django.db import transaction

from loyalty.selectors import balance_get
from loyalty.services.ledger import channel_id
from rewards.models import RedemptionRules, Reward, Voucher
from rewards.services import reward_redeem
from tests import office
from tests.browser.conftest import DESKTOP, PHONE, messages
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db(transaction=True)
give = office.give

WORDS = {
    "en": {"purchase": "Record a purchase", "voucher": "Use a voucher", "recorded": "Purchase R-5001 recorded: 12 points",
           "valid": "Valid voucher", "used": "used"},
    "zh-hans": {"purchase": "记录消费", "voucher": "使用券", "recorded": "已记录消费 R-5001：12 积分", "valid": "有效的券",
                "used": "已使用"},
}


def shoot(page, name: str) -> None:
    """Screenshots for the README when OFFICE_SCREENSHOTS names a folder."""
    folder = os.environ.get("OFFICE_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"office-{name}.png"), full_page=True)


def sign_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/admin/login/")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill("a long password 1")
    page.locator("#login-form [type=submit]").click()
    page.wait_for_url(f"{base}/admin/")


@pytest.mark.parametrize("language, width", [("en", DESKTOP), ("zh-hans", PHONE)])
def test_a_clerk_serves_a_member_at_the_counter(live_server, page_at, program, give, language, width):
    office.staff("clerk", "Clerk")
    rules = RedemptionRules.current()
    rules.voucher_valid_days = 30
    rules.save()
    coffee = Reward.objects.create(code="coffee", name="Free coffee", kind=Reward.Kind.PRODUCT_VOUCHER,
                                   points_cost=300)
    member = MemberFactory(name="Li Wei", phone="+8613800138000")
    give(member, 1000)
    with transaction.atomic():
        voucher = reward_redeem(member=member, reward_code=coffee.code, channel_id=channel_id("admin"),
                                idempotency_key=uuid.uuid4().hex).vouchers.get()
    words = WORDS[language]
    page = page_at(width, language)
    base = live_server.url
    sign_in(page, base, "clerk")

    page.goto(f"{base}/admin/members/member/")
    page.locator("#searchbar").fill("138 0013 8000")  # as the customer says it, without the country code
    page.locator("#searchbar").press("Enter")
    page.get_by_role("link", name=member.external_id).click()
    assert "700" in page.locator(".office-balance").inner_text()
    shoot(page, f"member-{language}-{width}")

    page.get_by_role("link", name=words["purchase"]).click()
    page.locator("#id_amount").fill("120.00")
    page.locator("#id_order_id").fill("R-5001")
    shoot(page, f"purchase-{language}-{width}")
    page.locator("input[type=submit]").click()
    assert words["recorded"] in messages(page).inner_text()

    page.get_by_role("link", name=words["voucher"]).click()
    page.locator("#id_code").fill(voucher.code.lower())
    page.locator("input[type=submit]").click()
    assert words["valid"] in page.locator("#content h2").first.inner_text()
    shoot(page, f"voucher-{language}-{width}")
    page.locator("input[type=submit]").click()
    assert words["used"] in messages(page).inner_text()
    voucher.refresh_from_db()
    assert voucher.status == Voucher.Status.REDEEMED
    assert balance_get(member=member).pending + balance_get(member=member).available == 712
