"""Phone numbers: read in the program's country, stored and answered in E.164, whichever way they were typed."""

import importlib

import pytest
from django.apps import apps

from members.models import Member, MembershipSettings
from members.phones import InvalidPhone, phone_parse
from tests import office

manager = office.manager  # fixture

LI_WEI = "+8613800138000"


@pytest.mark.parametrize("typed", ["138 0013 8000", "+86 138-0013-8000", "0086 13800138000", "(138) 0013 8000",
                                   "13800138000", "+8613800138000", "8613800138000"])
def test_every_common_way_of_typing_a_chinese_mobile_is_one_number(typed):
    assert phone_parse(typed, region="CN") == LI_WEI


@pytest.mark.parametrize("typed", ["call me", "123456", "138 0013 800", "+86 138 0013 8000 1", "+447700900555"])
def test_what_is_no_valid_number_is_refused(typed):
    with pytest.raises(InvalidPhone):
        phone_parse(typed, region="CN")


def test_the_api_stores_and_answers_e164_and_refuses_a_bad_number_on_the_field(api):
    r = api.post("/api/v1/members", {"external_id": "li-1", "phone": "138 0013 8000"})
    assert r.status_code == 201 and r.json()["phone"] == LI_WEI
    r = api.patch("/api/v1/members/li-1", {"phone": "138 0013 800"})
    assert r.status_code == 422 and list(r.json()["error"]["fields"]) == ["phone"]
    assert Member.objects.get(external_id="li-1").phone == LI_WEI


def test_the_region_staff_set_reads_national_numbers(client, manager, api):
    client.force_login(manager)
    row = MembershipSettings.current()
    url = f"/admin/members/membershipsettings/{row.pk}/change/"
    page = client.get(url, headers={"accept-language": "zh-hans"})
    assert "CN - 中国" in page.content.decode()
    data = {f: v for f, v in MembershipSettings.objects.filter(pk=row.pk).values()[0].items()
            if f not in ("id", "updated_at")}
    r = client.post(url, {**data, "phone_region": "GB"})
    assert r.status_code == 302, r.content.decode()[:3000]
    r = api.post("/api/v1/members", {"external_id": "ada-1", "phone": "020 7946 0958"})
    assert r.json()["phone"] == "+442079460958"


def test_the_migration_normalises_stored_numbers_and_keeps_the_unreadable_as_typed(member_factory, client, manager):
    typed = {"a": "138 0013 8000", "b": "0086 139-0013-9000", "c": "+44 (0)20 7946-0958", "d": "ring the shop",
             "e": ""}
    for external_id, phone in typed.items():
        member_factory(external_id=external_id, phone=phone)
    migration = importlib.import_module("members.migrations.0013_phones_in_e164")
    migration.normalise(apps, None)
    migration.normalise(apps, None)  # re-running changes nothing
    assert dict(Member.objects.values_list("external_id", "phone")) == {
        "a": LI_WEI, "b": "+8613900139000", "c": "+442079460958", "d": "ring the shop", "e": ""}
    client.force_login(manager)
    page = client.get("/admin/members/member/", {"phone_format": "unreadable"}).content.decode()
    assert ">d<" in page and ">a<" not in page
