"""A manager watches the program on the dashboard and changes a setting, in English and in Chinese."""

import pytest

from loyalty.models import ProgramSettings
from tests import office
from tests.browser.conftest import DESKTOP, PHONE
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
    page.locator("input[name=_save]").click()
    assert words["saved"] in page.locator(".messagelist").inner_text()
    settings = ProgramSettings.objects.get()
    assert (settings.currency, settings.expiry_reminder_days) == ("CNY", [30, 7, 1])

    page.goto(f"{base}/admin/loyalty/programsettings/")
    page.locator("#id_expiry_reminder_days").fill("30, points_expring")
    page.locator("input[name=_save]").click()
    page.locator(".errorlist").first.wait_for()
    assert ProgramSettings.objects.get().expiry_reminder_days == [30, 7, 1]
