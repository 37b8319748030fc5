"""The Chinese back office as a manager sees it, at desktop and phone width: the member's page, a campaign's page and
the dashboard show no English label, help text or choice (except names and codes that read the same in both)."""

import re

import pytest

from campaigns.models import Campaign
from tests import office
from tests.browser.conftest import DESKTOP, PHONE
from tests.browser.test_office_clerk import shoot, sign_in
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db(transaction=True)

ENGLISH = re.compile(r"\b[A-Za-z]{3,}\b")
SAME_IN_BOTH = {"NPS", "CSAT", "CLI", "RFM", "CLV", "SKU", "CSV", "EUR", "UTC", "ISO", "HMAC", "SHA256", "JSON",
                "E.164", "Webhook"}
# The texts a person reads about each field: labels, help texts, the choices of a select, the headings.
TEXTS = "label, .help, [id$=_helptext], select option, h1, h2, h3, th, legend, #content-main a, #content a"


def english_on(page) -> set[str]:
    found = set()
    for text in page.locator(TEXTS).all_inner_texts():
        found |= {word for word in ENGLISH.findall(text) if word not in SAME_IN_BOTH}
    return found


@pytest.mark.parametrize("width", [DESKTOP, PHONE])
def test_the_chinese_admin_reads_chinese(live_server, page_at, program, width):
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    office.staff("boss", "Manager")
    if not PeriodicTask.objects.filter(name="Ledger check").exists():  # a job the migrations schedule, as run shows it
        PeriodicTask.objects.create(name="Ledger check", task="loyalty.tasks.ledger_check",
                                    crontab=CrontabSchedule.objects.create(minute="40", hour="3"))
    member = MemberFactory(name="王芳")  # names are data: Chinese here, so any English left is ours
    campaign = Campaign.objects.create(code="bday", name="生日礼", trigger=Campaign.Trigger.BIRTHDAY,
                                       bonus_points=50, holdout_percent=0)
    page = page_at(width, "zh-hans")
    base = live_server.url
    sign_in(page, base, "boss")
    found = {}
    for name, path in [("member", f"/admin/members/member/{member.pk}/change/"),
                       ("campaign", f"/admin/campaigns/campaign/{campaign.pk}/change/"),
                       ("dashboard", "/admin/dashboard/")]:
        page.goto(f"{base}{path}")
        shoot(page, f"zh-{name}-{width}")
        found[name] = english_on(page)
    assert not any(found.values()), found
