"""Managers define event types and campaigns in the admin; events and firings are read-only there."""

from campaigns.models import Campaign, EventType
from tests.office import manager  # noqa: F401 - fixture

CAMPAIGN = {"code": "welcome", "name": "Welcome", "active": "on", "trigger": "stage_change", "to_stage": "new",
            "event_count": 1, "window": "after_sign_up", "window_hours": 24, "window_days": 1,
            "tiers": "[]", "stages": "[]", "stores": "[]", "channels": "[]", "bonus_points": 50,
            "message_subject": "{}", "message_text": "{}", "once_per_member": "on",
            "value_tiers": "[]", "loyalty_types": "[]", "weekdays": "[]", "languages": "[]", "boost_valid_days": 30,
            "limit_period": "month", "holdout_percent": 0}


def test_a_manager_defines_an_event_type_and_a_campaign(client, manager):  # noqa: F811
    client.force_login(manager)
    r = client.post("/admin/campaigns/eventtype/add/", {
        "name": "course_viewed", "attributes": '{"course_id": {"type": "string", "required": true}}', "active": "on"})
    assert r.status_code == 302
    bad = client.post("/admin/campaigns/eventtype/add/", {"name": "x", "attributes": '{"a": {"type": "date"}}'})
    assert bad.status_code == 200 and "needs a type" in bad.content.decode()

    assert client.post("/admin/campaigns/campaign/add/", CAMPAIGN).status_code == 302
    assert Campaign.objects.get(code="welcome").bonus_points == 50
    no_effect = client.post("/admin/campaigns/campaign/add/", CAMPAIGN | {"code": "none", "bonus_points": 0})
    assert "at least one effect" in no_effect.content.decode()
    no_type = client.post("/admin/campaigns/campaign/add/", CAMPAIGN | {"code": "ev", "trigger": "event_count"})
    assert "needs its event type" in no_type.content.decode()
    assert EventType.objects.count() == 1

    for name in ("event", "firing"):
        assert client.get(f"/admin/campaigns/{name}/").status_code == 200
        assert client.get(f"/admin/campaigns/{name}/add/").status_code == 403


def test_campaigns_catalog_is_complete_and_compiled():
    import gettext
    from pathlib import Path

    from tests.test_translations import po_entries

    folder = Path(__file__).resolve().parents[2] / "campaigns" / "locale" / "zh_Hans" / "LC_MESSAGES"
    entries = po_entries(folder / "django.po")
    with (folder / "django.mo").open("rb") as f:
        catalog = gettext.GNUTranslations(f)
    assert entries and all(entries.values())
    assert all(catalog.gettext(k) == v for k, v in entries.items() if '\\"' not in k)
