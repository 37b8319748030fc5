"""A manager imports a members file in the admin: the preview shows each row's fate, the confirmation writes."""

import pytest

from loyalty.models import Account
from members.models import Member
from tests import office
from tests.browser.conftest import DESKTOP, PHONE, messages
from tests.browser.test_office_clerk import shoot, sign_in

pytestmark = pytest.mark.django_db(transaction=True)

WORDS = {"en": {"new": "New", "update": "Update", "confirm": "Confirm import", "done": "Import finished"},
         "zh-hans": {"new": "新增", "update": "更新", "confirm": "确认导入", "done": "导入成功"}}


@pytest.mark.parametrize("language, width", [("en", DESKTOP), ("zh-hans", PHONE)])
def test_a_manager_imports_members_with_a_preview(live_server, page_at, program, tmp_path, language, width):
    office.staff("boss", "Manager")
    Member.objects.create(external_id="OLD-1", name="Old")
    members = tmp_path / "members.csv"
    members.write_text("external_id,name,email,phone,joined_at,opening_balance\n"
                       "N-1,Ada,ada@example.com,+86 138 0013 8000,2020-05-01,150\n"
                       "OLD-1,,,,,40\n", encoding="utf-8")
    words, base = WORDS[language], live_server.url
    page = page_at(width, language)
    sign_in(page, base, "boss")
    page.goto(f"{base}/admin/members/member/")
    page.locator("a.import_link").click()
    page.locator("#id_import_file").set_input_files(str(members))
    page.locator("#id_format").select_option("0")
    page.locator("input[type=submit]").first.click()

    preview = page.locator("table.import-preview")
    preview.wait_for()
    rows = preview.locator("tbody tr")
    assert words["new"] in rows.nth(0).inner_text() and words["update"] in rows.nth(1).inner_text()
    assert not Member.objects.filter(external_id="N-1").exists()  # the preview wrote nothing
    shoot(page, f"import-preview-{language}-{width}")

    page.locator("input[name=confirm]").click()
    page.wait_for_url(f"{base}/admin/members/member/")
    assert words["done"] in messages(page).inner_text()
    assert dict(Account.objects.values_list("member__external_id", "available")) == {"N-1": 150, "OLD-1": 40}
