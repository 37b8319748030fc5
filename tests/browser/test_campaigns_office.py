"""A manager simulates a campaign and reads its reach against the control group, in English and in Chinese."""

from datetime import date, timedelta

import pytest

from campaigns.models import Campaign
from tests import office
from tests.browser.conftest import DESKTOP, PHONE, messages
from tests.browser.test_office_clerk import shoot, sign_in
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db(transaction=True)

WORDS = {"en": ("would have reached 1 members", "Reached vs held out"),
         "zh-hans": ("将触达 1 位会员", "触达组与对照组")}


@pytest.mark.parametrize("language, width", [("en", DESKTOP), ("zh-hans", PHONE)])
def test_a_manager_simulates_a_birthday_campaign(live_server, page_at, program, language, width):
    office.staff("boss", "Manager")
    MemberFactory(birth_date=(date.today() - timedelta(days=5)).replace(year=1992))  # a birthday 5 days ago
    campaign = Campaign.objects.create(code="bday", name="Birthday", trigger=Campaign.Trigger.BIRTHDAY,
                                       bonus_points=50, holdout_percent=0)
    page = page_at(width, language)
    base = live_server.url
    sign_in(page, base, "boss")
    page.goto(f"{base}/admin/campaigns/campaign/")
    page.locator(f"input[name=_selected_action][value='{campaign.pk}']").check()
    page.locator("select[name=action]").select_option("simulate")
    page.locator("button[name=index]").click()
    reached, results = WORDS[language]
    assert reached in messages(page).inner_text()
    shoot(page, f"campaign-simulate-{language}-{width}")
    page.goto(f"{base}/admin/campaigns/campaign/{campaign.pk}/change/")
    assert results in page.content()
    assert page.locator("table.campaign-results tr").count() == 3
    shoot(page, f"campaign-results-{language}-{width}")
