"""A manager watches the program on the dashboard and changes a setting, in English and in Chinese."""

import pytest

from loyalty.models import ProgramSettings
from tests import office
from tests.browser.conftest import DESKTOP, PHONE, messages
from tests.browser.test_office_clerk import shoot, sign_in
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db(transaction=True)
give = office.give

WORDS = {
    "en": {"dashboard": "Open the dashboard", "liability": "Outstanding points", "saved": "was changed successfully"},
    "zh-hans": {"dashboard": "打开仪表板", "liability": "未使用积分", "saved": "成功"},
}


@pytest.mark.parametrize("language, width", [("en", DESKTOP), ("zh-hans", PHONE)])
def test_a_manager_watches_the_dashboard_and_changes_a_setting(live_server, page_at, program, give, language,
                                                               width):
    office.staff("boss", "Manager")
    for points in (1200, 300):
        give(MemberFactory(), points)
    words = WORDS[language]
    page = page_at(width, language)
    base = live_server.url
    sign_in(page, base, "boss")
    assert program.name in page.locator("#site-name").inner_text()
    shoot(page, f"home-{language}-{width}")

    page.get_by_role("link", name=words["dashboard"]).click()
    assert words["liability"] in page.locator(".office-grid").first.inner_text()
    assert page.locator("#office-liability").inner_text() == "1500"
    assert page.locator(".office-week").count() == 12
    shoot(page, f"dashboard-{language}-{width}")

    page.goto(f"{base}/admin/loyalty/programsettings/")
    page.locator("#id_currency").select_option("CNY")
    page.locator("#id_expiry_reminder_days").fill("30, 7, 1")
    shoot(page, f"settings-{language}-{width}")
    page.locator("[name=_save]").click()
    assert words["saved"] in messages(page).inner_text()
    settings = ProgramSettings.objects.get()
    assert (settings.currency, settings.expiry_reminder_days) == ("CNY", [30, 7, 1])

    # The History button of the settings' page: who changed what from what to what.
    page.goto(f"{base}/admin/loyalty/programsettings/1/change/")
    page.goto(base + page.locator("a[href$='/programsettings/1/history/']").first.get_attribute("href"))
    row = page.locator("#result_list tbody tr").first.inner_text()
    assert "boss" in row and "EUR → CNY" in row
    shoot(page, f"history-{language}-{width}")

    page.goto(f"{base}/admin/loyalty/programsettings/")
    page.locator("#id_expiry_reminder_days").fill("30, points_expring")
    page.locator("[name=_save]").click()
    page.locator(".field-expiry_reminder_days .text-red-600").first.wait_for()
    assert ProgramSettings.objects.get().expiry_reminder_days == [30, 7, 1]


@pytest.mark.parametrize("language, width", [("zh-hans", DESKTOP)])
def test_a_manager_reviews_a_flagged_referral(live_server, page_at, program, language, width):
    from django.utils import timezone

    from referrals.models import Program, Referral

    office.staff("boss", "Manager")
    referral_program = Program.objects.create(name="Refer a friend", active=True)
    referrer = MemberFactory(name="Wang Fang", email="family@example.com")
    referred = MemberFactory(name="Wang Lei", email="family@example.com")
    referral = Referral.objects.create(referrer=referrer, referred=referred, program=referral_program,
                                       code="ABCD2345", status=Referral.Status.HELD, reasons=["same_email"],
                                       device_id="ios-7f3a", ip="203.0.113.9", created_at=timezone.now())
    page = page_at(width, language)
    base = live_server.url
    sign_in(page, base, "boss")
    page.goto(f"{base}/admin/referrals/referral/?status__exact=held_for_review")
    page.get_by_role("link", name="审核").click()
    assert "新会员的电子邮件与推荐人相同" in page.locator(".office-reasons").inner_text()
    assert "Wang Fang" in page.locator(".office-parties").inner_text()
    page.locator("#id_reason").fill("同一家庭，同一邮箱")
    shoot(page, f"review-{language}-{width}")
    page.get_by_role("button", name="拒绝").click()
    assert "已拒绝" in messages(page).inner_text()
    referral.refresh_from_db()
    assert referral.status == Referral.Status.REJECTED
