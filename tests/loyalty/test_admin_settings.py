"""Program settings that cannot be typed wrong: one slip there would stop all earning."""

import pytest

from loyalty.models import ProgramSettings
from tests import office

pytestmark = pytest.mark.django_db
manager = office.manager  # fixtures

URL = "/admin/loyalty/programsettings/1/change/"


def settings_form(**changes) -> dict:
    p = ProgramSettings.current()
    data = {"name": p.name, "currency": p.currency, "earn_points": p.earn_points, "earn_amount": p.earn_amount,
            "rounding": p.rounding, "pending_days": p.pending_days, "expiry_policy": p.expiry_policy,
            "expiry_months": p.expiry_months, "expiry_month": p.expiry_month, "expiry_day": p.expiry_day,
            "refund_policy": p.refund_policy, "clerk_adjust_limit": p.clerk_adjust_limit,
            "expiry_reminder_days": "30, 7", "birthday_catch_up_days": p.birthday_catch_up_days}
    return {**data, **changes}


@pytest.mark.parametrize("typed", ["eur", "euro", "XXX"])
def test_a_currency_that_is_not_iso_4217_is_refused_and_earning_goes_on(client, manager, api, member, typed):
    client.force_login(manager)
    page = client.get(URL).content.decode()
    assert '<option value="EUR" selected>EUR - Euro</option>' in page  # a list to choose from, not a text box
    r = client.post(URL, settings_form(currency=typed))
    assert r.status_code == 200 and "Select a valid choice" in r.content.decode()
    assert ProgramSettings.objects.get().currency == "EUR"
    r = api.post("/api/v1/orders", {"member": member.external_id, "order_id": "o-1", "amount": "50.00",
                                    "currency": "EUR"})
    assert r.status_code == 201


def test_reminder_days_are_a_list_of_days(client, manager):
    client.force_login(manager)
    r = client.post(URL, settings_form(expiry_reminder_days="30, seven"))
    assert "is not a number of days from 1 to 365" in r.content.decode()
    assert ProgramSettings.objects.get().expiry_reminder_days == [30, 7]
    assert client.post(URL, settings_form(expiry_reminder_days="60, 14, 3")).status_code == 302
    assert ProgramSettings.objects.get().expiry_reminder_days == [60, 14, 3]
    client.post(URL, settings_form(expiry_reminder_days=""))
    assert ProgramSettings.objects.get().expiry_reminder_days == []


def test_the_header_shows_the_programs_name_in_the_staff_language(client, manager):
    client.force_login(manager)
    client.post(URL, settings_form(name="Tea House Rewards"))
    page = client.get("/admin/").content.decode()
    assert "Tea House Rewards" in page and "Django administration" not in page
    page = client.get("/admin/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "Tea House Rewards" in page and "最近动作" in page and "后台" in page  # Django's strings and ours


def test_a_settings_change_is_audited_with_its_old_and_new_values(client, manager):
    from core.models import AuditLog

    client.force_login(manager)
    assert client.post(URL, settings_form(currency="CNY", earn_amount="12.50")).status_code == 302
    log = AuditLog.objects.get(action="programsettings.change")
    assert log.actor == manager
    assert log.details["changes"] == {"currency": {"old": "EUR", "new": "CNY"},
                                      "earn_amount": {"old": "10.00", "new": "12.50"}}


def test_the_history_page_says_what_changed_from_what_to_what(client, manager):
    client.force_login(manager)
    client.post(URL, settings_form(currency="CNY"))
    page = client.get("/admin/loyalty/programsettings/1/history/", follow=True).content.decode()
    assert "Currency: EUR → CNY" in page
