"""Managers import the shop's order history from a file and export members (balance, tier, segments) and a
segment's members, in the admin."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
import time_machine

from insight.models import HistoricalOrder, MemberFacts
from insight.services import segments_compute
from insight.transfer import MemberExportResource, SegmentMembersResource
from loyalty.models import Transaction
from members.models import Member, Tier
from tests.transfer_helpers import XLSX, confirm, export, preview, staff

HISTORY = "/admin/insight/historicalorder/"
NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
FILE = "\n".join([
    "member,member_joined_at,member_name,member_email,order_id,amount,occurred_at,categories",
    "H-1,2019-02-01,Ada,ada@example.com,P-1,80.00,2024-03-01 10:00,tea|cups",
    "H-1,,,,P-2,40.00,2026-05-20T10:00:00+08:00,tea",
    "OLD,,,,P-3,15.50,2025-01-05,",
])


@pytest.fixture
def manager(db, program):
    return staff("Manager")


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False):
        yield


def test_order_history_file_previews_then_fills_the_facts_once_without_points(client, manager, member_factory, clock):
    old = member_factory(external_id="OLD", joined_at=datetime(2026, 1, 1, tzinfo=UTC))
    client.force_login(manager)
    page = preview(client, HISTORY, FILE)
    assert page.context["result"].totals["new"] == 3 and "confirm_form" in page.context
    assert not HistoricalOrder.objects.exists() and Member.objects.count() == 1  # the preview wrote nothing

    assert confirm(client, HISTORY, page).status_code == 302
    ada = Member.objects.get(external_id="H-1")
    assert (ada.name, ada.email, ada.joined_at) == ("Ada", "ada@example.com", datetime(2019, 2, 1, tzinfo=UTC))
    facts = MemberFacts.objects.get(member=ada)
    assert (facts.orders_count, facts.spend, facts.categories) == (2, Decimal("120.00"), ["cups", "tea"])
    assert MemberFacts.objects.get(member=old).spend == Decimal("15.50")
    assert old.joined_at == Member.objects.get(pk=old.pk).joined_at  # a known member is left as they are
    assert not Transaction.objects.exists()  # history earns no points
    segments_compute()
    assert Member.objects.get(pk=ada.pk).segment.stage == "active"

    again = preview(client, HISTORY, FILE)
    assert again.context["result"].totals["skip"] == 3
    confirm(client, HISTORY, again)
    assert (HistoricalOrder.objects.count(), Member.objects.count()) == (3, 2)
    assert MemberFacts.objects.get(member=ada).orders_count == 2


def test_a_bad_history_row_is_named_and_nothing_of_the_file_is_written(client, manager, clock):
    text = FILE + "\nH-2,,,,P-4,12.5.0,2024-01-01,\nH-3,,,,P-5,10.00,2030-01-01,\nH-3,,,,P-1,10.00,2024-01-01,"
    client.force_login(manager)
    page = preview(client, HISTORY, text, headers={"Accept-Language": "zh-hans"})
    html = page.content.decode()
    assert "confirm_form" not in page.context
    assert "12.5.0" in html and "不是" in html and "未来" in html and "出现了两次" in html
    assert not HistoricalOrder.objects.exists() and not Member.objects.exists()


def test_members_export_with_balance_tier_and_segment(client, manager, api, member_factory):
    gold = Tier.objects.create(code="gold", name="Gold", rank=1, threshold=Decimal(0))
    ada = member_factory(external_id="A-1", name="=HYPERLINK(1)", birth_date=datetime(1990, 5, 1).date())
    api.post("/api/v1/orders", {"member": "A-1", "order_id": "O-1", "amount": "250.00", "currency": "EUR"})
    segments_compute()
    client.force_login(manager)
    rows = export(client, "/admin/members/member/", MemberExportResource)
    head = rows[0]
    assert head == ["external_id", "name", "email", "phone", "birth_date", "status", "joined_at", "available", "pending",
                    "lifetime_earned", "tier", "stage", "value_tier", "loyalty_type"]
    row = dict(zip(head, rows[1], strict=True))
    assert (row["external_id"], row["birth_date"], row["available"], row["lifetime_earned"], row["tier"], row["stage"]) == (
        "A-1", "1990-05-01", "25", "25", gold.code, ada.segment.stage)
    assert row["name"] == "'=HYPERLINK(1)"  # text a spreadsheet would run stays text
    form = client.get("/admin/members/member/export/", headers={"Accept-Language": "zh-hans"}).content.decode()
    assert "可用积分 (available)" in form and "生命周期阶段 (stage)" in form  # the columns offered, in words
    sheet = export(client, "/admin/members/member/", MemberExportResource, file_format=XLSX)
    assert sheet[0] == head and dict(zip(head, sheet[1], strict=True))["available"] == 25


def test_a_segment_exports_its_members(client, manager, api, member_factory):
    buyer, idle = member_factory(external_id="B-1"), member_factory(external_id="I-1")
    api.post("/api/v1/orders", {"member": buyer.external_id, "order_id": "O-1", "amount": "50.00", "currency": "EUR"})
    segments_compute()
    client.force_login(manager)
    stage = Member.objects.get(pk=buyer.pk).segment.stage
    assert Member.objects.get(pk=idle.pk).segment.stage != stage
    rows = export(client, "/admin/insight/membersegment/", SegmentMembersResource, query=f"?stage__exact={stage}")
    assert rows[0][:5] == ["external_id", "name", "email", "phone", "stage"]
    assert [(r[0], r[4]) for r in rows[1:]] == [("B-1", stage)]
