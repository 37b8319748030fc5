"""The ledger's lists page by key: newest first, Older / Newer links, no count of the table, no OFFSET."""

import re

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext

from loyalty.admin import TransactionAdmin


@pytest.fixture
def ledger(api, member):
    for n in range(7):
        assert api.post("/api/v1/adjustments", {"member": member.external_id, "points": n + 1,
                                                  "reason": f"credit {n + 1}"}).status_code == 201
    return member


@pytest.fixture
def staff(client, program):
    client.force_login(User.objects.create_superuser("owner", password="pw"))
    return client


def rows(page: str) -> list[str]:
    return re.findall(r"credit (\d)", page)


def link(page: str, cls: str) -> str | None:
    found = re.search(rf'<a href="([^"]+)" class="{cls}"', page)
    return found and found.group(1).replace("&amp;", "&")


def test_the_ledger_list_pages_by_key_newest_first(staff, ledger, monkeypatch):
    monkeypatch.setattr(TransactionAdmin, "list_per_page", 3)
    monkeypatch.setattr(TransactionAdmin, "list_display", ["id", "reason", "points"])
    url = "/admin/loyalty/transaction/"
    with CaptureQueriesContext(connection) as queries:
        first = staff.get(url).content.decode()
    assert rows(first) == ["7", "6", "5"]
    assert link(first, "keyset-newer") is None
    sql = " ".join(q["sql"].upper() for q in queries)
    assert "COUNT(" not in sql and "OFFSET" not in sql

    second = staff.get(url + link(first, "keyset-older")).content.decode()
    assert rows(second) == ["4", "3", "2"]
    last = staff.get(url + link(second, "keyset-older")).content.decode()
    assert rows(last) == ["1"] and link(last, "keyset-older") is None
    back = staff.get(url + link(last, "keyset-newer")).content.decode()
    assert rows(back) == ["4", "3", "2"]
    assert rows(staff.get(url + link(back, "keyset-newer")).content.decode()) == ["7", "6", "5"]


def test_filters_and_search_keep_their_place_in_the_pages(staff, ledger, member_factory, api, monkeypatch):
    other = member_factory()
    api.post("/api/v1/adjustments", {"member": other.external_id, "points": 9, "reason": "credit 9"})
    monkeypatch.setattr(TransactionAdmin, "list_per_page", 2)
    monkeypatch.setattr(TransactionAdmin, "list_display", ["id", "reason", "points"])
    page = staff.get("/admin/loyalty/transaction/", {"q": ledger.external_id, "kind__exact": "adjust"}).content.decode()
    assert rows(page) == ["7", "6"]
    older = link(page, "keyset-older")
    assert "kind__exact=adjust" in older and f"q={ledger.external_id}" in older
    assert rows(staff.get("/admin/loyalty/transaction/" + older).content.decode()) == ["5", "4"]


def test_a_page_key_that_is_not_a_number_shows_the_first_page(staff, ledger, monkeypatch):
    monkeypatch.setattr(TransactionAdmin, "list_display", ["id", "reason", "points"])
    r = staff.get("/admin/loyalty/transaction/", {"before": "x'; drop"})
    assert r.status_code == 200 and rows(r.content.decode())[0] == "7"
