"""The History page: every data change of the program's configuration and members, who made it, old -> new."""

import pytest
from django.apps import apps

from loyalty.models import ProgramSettings
from members.models import Member, Tier
from members.services import member_erase
from tests import office
from tests.loyalty.test_admin_settings import URL, settings_form

pytestmark = pytest.mark.django_db
clerk, manager = office.clerk, office.manager  # fixtures
HISTORY = "/admin/core/datachange/"


def test_a_managers_currency_change_is_in_the_history_with_who_and_old_and_new(client, manager):
    client.force_login(manager)
    assert client.post(URL, settings_form(currency="USD")).status_code == 302
    assert ProgramSettings.objects.get().currency == "USD"
    page = client.get(HISTORY, {"model": "loyalty.programsettings"}).content.decode()
    row = next(r for r in page.split("<tr") if "Currency: EUR → USD" in r)
    assert "manager" in row and "changed" in row
    # The settings page's History button opens this object's history, in Chinese for a Chinese-speaking manager.
    r = client.get("/admin/loyalty/programsettings/1/history/", follow=True, headers={"accept-language": "zh-hans"})
    page = r.content.decode()
    assert r.redirect_chain and "变更记录" in page and "EUR → USD" in page and "manager" in page


def test_a_bulk_update_outside_any_request_is_recorded_by_the_database(client, manager):
    Tier.objects.create(code="gold", name="Gold", rank=2, threshold=1000)
    Tier.objects.filter(code="gold").update(threshold=1500)  # no save(), no signal: the trigger still sees it
    client.force_login(manager)
    page = client.get(HISTORY, {"model": "members.tier"}).content.decode()
    row = next(r for r in page.split("<tr") if "1000.00 → 1500.00" in r)
    assert "system" in row and "Tier #" in row and "gold" in row


def test_the_history_is_read_only_and_for_managers(client, manager, clerk, member):
    Member.objects.filter(pk=member.pk).update(name="Li Lei")
    client.force_login(manager)
    page = client.get(HISTORY).content.decode()
    assert "Li Lei" in page
    assert f"{HISTORY}add/" not in page and 'name="action"' not in page  # no add button, no delete action
    assert client.get(f"{HISTORY}add/").status_code == 403
    client.force_login(clerk)
    assert client.get(HISTORY).status_code == 403


def test_a_shops_api_write_names_its_channel_and_erasure_removes_the_members_history(api, client, manager):
    assert api.post("/api/v1/members", {"external_id": "z-1", "name": "Zelda", "phone": "138 0013 8000"}).status_code == 201
    member = Member.objects.get(external_id="z-1")
    client.force_login(manager)
    page = client.get(HISTORY, {"model": "members.member", "object": member.pk}).content.decode()
    assert "API: webshop" in page and "+8613800138000" in page
    member_erase(member=member, reason="asked", actor=manager, channel_id=None)
    assert not apps.get_model("members", "MemberEvent").objects.filter(pgh_obj_id=member.pk).exists()


@pytest.fixture
def prepared_statements(transactional_db):
    """The connection as production runs it with DATABASE_PREPARE_THRESHOLD: server-side binding, every statement
    prepared from its first run."""
    from django.db import connection

    options = connection.settings_dict.setdefault("OPTIONS", {})
    saved = dict(options)
    connection.close()
    options.update(server_side_binding=True, prepare_threshold=0)
    yield
    connection.close()
    options.clear()
    options.update(saved)


def test_with_prepared_statements_writes_in_a_request_work_and_still_name_who_made_them(prepared_statements,
                                                                                       api, client, manager):
    from pghistory.models import Context

    client.force_login(manager)
    for currency in ("USD", "EUR", "USD"):  # the same statements again: prepared by now
        assert client.post(URL, settings_form(currency=currency)).status_code == 302
        assert api.post("/api/v1/members", {"external_id": f"p-{currency}{Member.objects.count()}",
                                            "name": "Pat"}).status_code == 201
    member = Member.objects.get(external_id="p-USD0")
    for n in range(3):  # an earn writes no tracked table: its statements carry no history context
        assert api.post("/api/v1/orders", {"member": member.external_id, "order_id": f"o-{n}", "amount": "50.00",
                                           "currency": "USD"}).status_code == 201
    page = client.get(HISTORY, {"model": "loyalty.programsettings"}).content.decode()
    assert page.count("Currency: EUR → USD") == 2 and "manager" in page
    page = client.get(HISTORY, {"model": "members.member", "object": member.pk}).content.decode()
    assert "API: webshop" in page
    # A write outside any request after all that is the system's, not the last request's.
    Tier.objects.create(code="gold", name="Gold", rank=2, threshold=1000)
    event = apps.get_model("members", "TierEvent").objects.get(pgh_obj__code="gold")
    assert event.pgh_context_id is None or not Context.objects.filter(id=event.pgh_context_id).exists()
