"""Referral programs and the review of flagged referrals in the back office."""

from decimal import Decimal

import pytest

from core.models import AuditLog
from referrals.models import Program, ProgramStep, Referral
from tests import office

pytestmark = pytest.mark.django_db
clerk, give, manager = office.clerk, office.give, office.manager  # fixtures


def test_making_another_program_active_switches_in_one_step(client, manager, make_program):
    old = make_program(name="Spring")
    new = Program.objects.create(name="Summer", referrer_points=200)
    client.force_login(manager)
    page = client.get(f"/admin/referrals/program/{new.pk}/change/").content.decode()
    assert 'name="active"' not in page  # not typed, so it can never hit the one-active rule
    r = client.post("/admin/referrals/program/", {"action": "make_active", "_selected_action": [new.pk]},
                    follow=True)
    assert "“Summer” is now the active referral program." in r.content.decode()
    assert list(Program.objects.filter(active=True)) == [new]
    old.refresh_from_db()
    assert not old.active
    assert AuditLog.objects.get(action="referral_program.activate").details == {"previous": [old.pk],
                                                                                 "new": new.pk}


def test_a_manager_defines_multi_tier_steps(client, manager):
    client.force_login(manager)
    page = client.get("/admin/referrals/program/add/").content.decode()
    assert 'name="steps-0-from_count"' in page
    data = {"name": "Ladder", "kind": "multi_tier", "referrer_points": 0, "welcome_points": 0,
            "min_order_amount": "0", "qualify_days": 30, "attach_days": 7, "second_level_percent": 20,
            "device_threshold": 3, "device_window_hours": 24,
            "steps-TOTAL_FORMS": 2, "steps-INITIAL_FORMS": 0, "steps-MIN_NUM_FORMS": 0, "steps-MAX_NUM_FORMS": 1000,
            "steps-0-from_count": 1, "steps-0-points": 100, "steps-1-from_count": 5, "steps-1-points": 250}
    assert client.post("/admin/referrals/program/add/", data).status_code == 302
    assert list(ProgramStep.objects.values_list("from_count", "points")) == [(1, 100), (5, 250)]


def held_referral(member_factory, program) -> Referral:
    from django.utils import timezone

    referrer = member_factory(name="Ann Referrer", email="same@example.com", phone="+8613800138000")
    referred = member_factory(name="Bob Newcomer", email="same@example.com", phone="+8613900139000")
    return Referral.objects.create(referrer=referrer, referred=referred, program=program, code="ABCD2345",
                                   status=Referral.Status.HELD, reasons=["same_email", "many_signups_device"],
                                   device_id="device-42", created_at=timezone.now())


def test_the_review_page_shows_both_parties_and_the_reasons_in_words(client, manager, member_factory,
                                                                     referral_program):
    referral = held_referral(member_factory, referral_program)
    client.force_login(manager)
    listing = client.get("/admin/referrals/referral/").content.decode()
    assert f"/admin/referrals/referral/{referral.pk}/review/" in listing
    page = client.get(f"/admin/referrals/referral/{referral.pk}/review/").content.decode()
    assert "Ann Referrer" in page and "Bob Newcomer" in page and "device-42" in page
    assert "The new member&#x27;s e-mail address is the referrer&#x27;s." in page
    assert "same_email" not in page and "held_for_review" not in page
    r = client.post(f"/admin/referrals/referral/{referral.pk}/review/", {"decision": "reject", "reason": ""})
    assert r.status_code == 200  # a reason is required
    r = client.post(f"/admin/referrals/referral/{referral.pk}/review/",
                    {"decision": "reject", "reason": "Same household, same card"}, follow=True)
    assert "never pay" in r.content.decode()
    referral.refresh_from_db()
    assert referral.status == "rejected" and referral.reviewed_by == manager
    assert AuditLog.objects.get(action="referral.review_reason").details == {
        "approve": False, "reason": "Same household, same card"}


def test_a_clerk_sees_the_review_page_without_the_buttons(client, clerk, member_factory, referral_program):
    referral = held_referral(member_factory, referral_program)
    client.force_login(clerk)
    page = client.get(f"/admin/referrals/referral/{referral.pk}/review/").content.decode()
    assert "Bob Newcomer" in page and "Approve" not in page
    assert client.post(f"/admin/referrals/referral/{referral.pk}/review/",
                       {"decision": "approve", "reason": "ok"}).status_code == 403
    referral.refresh_from_db()
    assert referral.status == "held_for_review"


def test_managers_see_and_change_the_job_schedules(client, manager, clerk):
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    every = IntervalSchedule.objects.create(every=1, period="hours")
    task = PeriodicTask.objects.create(name="deliver notifications", task="members.tasks.x", interval=every)
    client.force_login(manager)
    assert client.get("/admin/django_celery_beat/periodictask/").status_code == 200
    page = client.get(f"/admin/django_celery_beat/periodictask/{task.pk}/change/")
    assert page.status_code == 200 and 'name="enabled"' in page.content.decode()
    client.force_login(clerk)
    assert client.get("/admin/django_celery_beat/periodictask/").status_code == 403


def test_the_dashboard_shows_the_programs_health_to_managers_only(client, manager, clerk, member_factory, give,
                                                                  referral_program):
    from rewards.models import RedemptionRules

    rules = RedemptionRules.current()
    rules.points_per_unit = 100
    rules.save()
    give(member_factory(), 1500)
    give(member_factory(status="closed"), 500)
    held_referral(member_factory, referral_program)
    client.force_login(manager)
    page = client.get("/admin/dashboard/").content.decode()
    assert 'id="office-liability">2000<' in page and "worth 20.00 EUR" in page
    assert "Held for review</td><td>1<" in page
    home = client.get("/admin/").content.decode()
    assert "Open the dashboard" in home
    client.force_login(clerk)
    assert "Open the dashboard" not in client.get("/admin/").content.decode()
    assert client.get("/admin/dashboard/").status_code == 403


def test_the_dashboard_charts_the_points_per_week(manager, member_factory, give):
    from config.office import weekly_points

    give(member_factory(), 300)
    weeks = weekly_points()
    assert len(weeks) == 12 and weeks[-1]["issued"] == 300 and weeks[-1]["issued_pct"] == 100
    assert sum(w["issued"] for w in weeks[:-1]) == 0
    assert Decimal(0) == sum(w["expired"] for w in weeks)
