"""The back office's sidebar and names in the staff's language: a manager reading the admin in Chinese sees the
models by their Chinese names (sidebar, change list, change form); a clerk's sidebar holds only what a clerk may
open, so no link leads to a refusal."""

import pytest

from tests import office
from tests.browser.conftest import DESKTOP
from tests.browser.test_office_clerk import shoot, sign_in
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db(transaction=True)
give = office.give

MANAGER_ONLY = ["/admin/dashboard/", "/admin/core/apikey/", "/admin/core/auditlog/",
                "/admin/django_celery_beat/periodictask/", "/admin/members/webhookendpoint/"]


def test_the_chinese_admin_names_the_models_in_chinese(live_server, page_at, program, give):
    office.staff("boss", "Manager")
    give(MemberFactory(), 100)
    page = page_at(DESKTOP, "zh-hans")
    base = live_server.url
    sign_in(page, base, "boss")
    sidebar = page.locator("#nav-sidebar-apps").inner_text()
    for name in ("柜台", "会员", "券", "积分交易", "积分计划设置", "推荐计划", "运维", "审计日志"):
        assert name in sidebar
    assert "Transactions" not in sidebar

    page.goto(f"{base}/admin/loyalty/transaction/")
    assert "积分交易" in page.locator("#header-inner").inner_text()
    assert "变动后余额" in page.locator("#result_list").inner_text()  # a column: the field's Chinese name

    page.goto(f"{base}/admin/members/tier/add/")
    form = page.locator("#content").inner_text()
    assert "名称" in form and "级别" in form
    shoot(page, "tier-zh-hans")


def test_a_clerks_sidebar_has_no_link_the_clerk_may_not_open(live_server, page_at, program):
    office.staff("clerk", "Clerk")
    page = page_at(DESKTOP, "en")
    base = live_server.url
    sign_in(page, base, "clerk")
    links = page.locator("#nav-sidebar-apps a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert "/admin/members/member/" in links
    assert not set(MANAGER_ONLY) & set(links)
    for link in links:
        assert page.request.get(f"{base}{link}").status == 200, link
