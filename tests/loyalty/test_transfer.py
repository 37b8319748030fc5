"""Managers import members with their opening balances and export the ledger of a period, in the admin."""

from datetime import UTC, datetime

import pytest
import time_machine

from core.models import AuditLog
from loyalty.models import Transaction
from loyalty.transfer import MemberImportResource, TransactionExportResource
from members.models import Member
from tests.transfer_helpers import XLSX, confirm, export, preview, staff

MEMBERS = "/admin/members/member/"
LEDGER = "/admin/loyalty/transaction/"
HEADER = "external_id,name,email,phone,birth_date,timezone,language,marketing_consent,card_number,joined_at,opening_balance"


@pytest.fixture
def manager(db, program):
    return staff("Manager")


def balances() -> dict[str, int]:
    return dict(Member.objects.values_list("external_id", "account__available"))


def test_members_file_previews_then_registers_and_gives_opening_balances_once(client, manager, member_factory):
    member_factory(external_id="E-1")
    text = "\n".join([
        HEADER,
        "C-1,Ada,ada@example.com,+44 (0)20 7946-0958,1990-05-01,Europe/London,en,1,,2019-03-04,250",
        "C-2,李雷,lilei@example.com,,,Asia/Shanghai,zh-hans,0,,2020-01-01 09:30,",
        "E-1,,,,,,,,,,100",
    ])
    client.force_login(manager)

    page = preview(client, MEMBERS, text)
    totals = page.context["result"].totals
    assert (totals["new"], totals["update"], totals["skip"]) == (2, 1, 0)
    assert "confirm_form" in page.context
    assert Member.objects.count() == 1 and not Transaction.objects.exists()  # the preview wrote nothing

    assert confirm(client, MEMBERS, page).status_code == 302
    ada = Member.objects.get(external_id="C-1")
    assert (ada.phone, ada.timezone, ada.marketing_consent) == ("+442079460958", "Europe/London", True)
    assert ada.joined_at.date().isoformat() == "2019-03-04"
    assert Member.objects.get(external_id="C-2").language == "zh-hans"
    assert balances() == {"C-1": 250, "C-2": None, "E-1": 100}
    opening = Transaction.objects.get(member=ada)
    assert (opening.kind, opening.reason, opening.details["reason_code"], opening.actor) == (
        "adjust", "Opening balance", "opening_balance", manager)
    assert AuditLog.objects.filter(action="points.adjust", target_id="C-1").exists()

    # The same file again: every row unchanged, nothing registered or given twice.
    again = preview(client, MEMBERS, text)
    assert again.context["result"].totals["skip"] == 3
    confirm(client, MEMBERS, again)
    # A later file cannot give a member a second opening balance either.
    confirm(client, MEMBERS, preview(client, MEMBERS, "external_id,opening_balance\nC-1,999\n"))
    assert (Member.objects.count(), Transaction.objects.count()) == (3, 2)
    assert balances() == {"C-1": 250, "C-2": None, "E-1": 100}


@pytest.mark.parametrize("language, words", [("en", "Not a valid phone number."), ("zh-hans", "不是有效的电话号码")])
def test_a_bad_row_is_named_in_words_and_nothing_is_written(client, manager, language, words):
    text = "\n".join([
        HEADER,
        "C-1,Ada,ada@example.com,,,,,,,,250",
        "C-2,Bob,bob@example.com,call me maybe,,,,,,,10",
        "C-3,Cy,not-an-email,,,,,,,,12.5",
    ])
    client.force_login(manager)
    page = preview(client, MEMBERS, text, headers={"Accept-Language": language})
    html = page.content.decode()
    assert "confirm_form" not in page.context  # nothing can be confirmed while a row is wrong
    assert words in html
    assert ("12.5" in html) and ("不是" in html if language == "zh-hans" else "is not a number of points" in html)
    assert not Member.objects.exists() and not Transaction.objects.exists()


def test_a_batch_refused_at_confirmation_is_rolled_back_whole_and_named(client, manager, member_factory, monkeypatch):
    monkeypatch.setattr(MemberImportResource, "import_batch_size", 2)
    text = "external_id,card_number,opening_balance\nA-1,,10\nA-2,,20\nA-3,CARD-9,30\nA-4,,40\n"
    client.force_login(manager)
    page = preview(client, MEMBERS, text)
    member_factory(external_id="X-9", card_number="CARD-9")  # the shop registers someone with that card meanwhile
    done = confirm(client, MEMBERS, page, follow=True).content.decode()
    assert "Rows 3 to 4 were not imported" in done
    assert balances() == {"A-1": 10, "A-2": 20, "X-9": None}  # the first batch stands, nothing of the second
    fixed = preview(client, MEMBERS, text.replace("CARD-9", "CARD-10"))
    assert [fixed.context["result"].totals[k] for k in ("new", "skip")] == [2, 2]


def test_ledger_of_a_period_exports_as_csv_and_xlsx(client, manager, api, member):
    for when, order in ((datetime(2026, 1, 10, 12, tzinfo=UTC), "O-JAN"), (datetime(2026, 2, 10, 12, tzinfo=UTC), "O-FEB")):
        with time_machine.travel(when, tick=False):
            api.post("/api/v1/orders", {"member": member.external_id, "order_id": order, "amount": "120.00",
                                        "currency": "EUR"})
    client.force_login(manager)
    january = "?created_at__gte=2026-01-01T00:00:00%2B00:00&created_at__lt=2026-02-01T00:00:00%2B00:00"
    rows = export(client, LEDGER, TransactionExportResource, query=january)
    assert rows[0] == ["id", "created_at", "member", "kind", "points", "available_delta", "pending_delta",
                       "balance_after", "pending_after", "reference", "reason", "channel", "staff"]
    assert [(r[2], r[3], r[4], r[9], r[11]) for r in rows[1:]] == [(member.external_id, "earn", "12", "O-JAN", "webshop")]
    sheet = export(client, LEDGER, TransactionExportResource, query=january, file_format=XLSX)
    assert sheet[0][:5] == ["id", "created_at", "member", "kind", "points"]
    assert [(r[2], r[4], r[9]) for r in sheet[1:]] == [(member.external_id, 12, "O-JAN")]
    whole = export(client, LEDGER, TransactionExportResource)
    assert [r[9] for r in whole[1:]] == ["O-JAN", "O-FEB"]


def test_clerks_can_neither_import_nor_export(client, program):
    client.force_login(staff("Clerk"))
    listing = client.get(MEMBERS).content.decode()
    assert "/import/" not in listing and "/export/" not in listing
    assert "/export/" not in client.get(LEDGER).content.decode()
    for url in (f"{MEMBERS}import/", f"{MEMBERS}export/", f"{LEDGER}export/", "/admin/insight/historicalorder/import/",
                "/admin/insight/membersegment/export/"):
        assert client.get(url).status_code == 403, url
    assert client.post(f"{MEMBERS}process_import/", {}).status_code == 403
