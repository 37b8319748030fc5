from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from core.models import AuditLog
from members.models import MembershipSettings, Notification, TierChange, TierStatus
from members.services import tier_pin, tiers_evaluate_due

pytestmark = pytest.mark.usefixtures("tiers", "membership")


def earn(api, member, amount, order_id=None, when=None):
    body = {"member": member.external_id, "order_id": order_id or f"o-{timezone.now().timestamp()}-{amount}",
            "amount": str(amount), "currency": "EUR"}
    if when is not None:
        with time_machine.travel(when, tick=False):
            r = api.post("/api/v1/orders", body)
    else:
        r = api.post("/api/v1/orders", body)
    assert r.status_code == 201, r.json()
    return r.json()


def tier_of(member):
    status = TierStatus.objects.filter(member=member).select_related("tier").first()
    return status.tier.code if status and status.tier else None


def test_the_qualifying_order_upgrades_in_its_own_transaction(api, member):
    assert earn(api, member, "500.00")["tier_upgrade"] == {"from": None, "to": "bronze"}
    body = earn(api, member, "500.00")  # 50 + 50 = 100 qualifying points
    assert body["tier_upgrade"] == {"from": "bronze", "to": "silver"}
    assert tier_of(member) == "silver"
    assert TierChange.objects.filter(member=member, to_tier__code="silver", reason="upgrade").count() == 1
    # The next order earns at the new tier's multiplier, and the transaction says which it used.
    body = earn(api, member, "100.00")
    assert body["points"] == 12 and body["qualifying_points"] == 10
    assert body["transaction"]["multiplier"] == "1.250"


def test_redeeming_never_demotes(api, member):
    earn(api, member, "1000.00")
    assert tier_of(member) == "silver"
    assert api.post("/api/v1/redemptions", {"member": member.external_id, "points": 100}).status_code == 201
    tiers_evaluate_due(now=timezone.now() + timedelta(days=1))
    assert tier_of(member) == "silver"
    assert api.get(f"/api/v1/members/{member.external_id}/balance").json()["tier"]["tier"]["code"] == "silver"


@pytest.mark.parametrize(("window", "old_counts"), [
    ("lifetime", True), ("rolling_12_months", False), ("calendar_year", False),
])
def test_qualification_windows(api, member, membership, window, old_counts):
    membership.window = window
    membership.save()
    now = timezone.now()
    earn(api, member, "800.00", when=now - timedelta(days=400))   # 80 points, long ago
    earn(api, member, "300.00")                                    # 30 points now
    expected = "silver" if old_counts else "bronze"
    assert tier_of(member) == expected


def test_spend_basis(api, member, membership, tiers):
    membership.basis = MembershipSettings.Basis.SPEND
    membership.save()
    earn(api, member, "499.99")
    assert tier_of(member) == "silver"     # 499.99 spend >= 100
    earn(api, member, "0.01")
    assert tier_of(member) == "gold"       # 500.00 spend


def test_tier_progress_says_what_is_needed(api, member):
    earn(api, member, "700.00")
    body = api.get(f"/api/v1/members/{member.external_id}/tier").json()
    assert body["tier"]["code"] == "bronze"
    assert body["progress"]["qualifying"] == "70"
    assert body["progress"]["next_tier"]["code"] == "silver"
    assert Decimal(body["progress"]["needed"]) == 30
    assert body["benefits"]["earn_multiplier"] == "1.000"
    assert [h["to_tier"] for h in body["history"]] == ["bronze"]


def test_grace_warning_and_one_step_downgrade(api, member):
    start = timezone.now()
    earn(api, member, "6000.00", when=start)  # 600: gold
    assert tier_of(member) == "gold"
    # A year and a month later nothing is left in the rolling window.
    later = start + timedelta(days=400)
    tiers_evaluate_due(now=later)
    assert tier_of(member) == "gold"                      # grace starts, no downgrade yet
    tiers_evaluate_due(now=later + timedelta(days=21))
    assert Notification.objects.filter(member=member, kind="tier_downgrade_warning").count() == 1
    tiers_evaluate_due(now=later + timedelta(days=22))     # run again: no second warning
    assert Notification.objects.filter(member=member, kind="tier_downgrade_warning").count() == 1
    tiers_evaluate_due(now=later + timedelta(days=30))
    assert tier_of(member) == "silver"                    # one step, though qualifying for none
    tiers_evaluate_due(now=later + timedelta(days=30))
    assert tier_of(member) == "silver"                    # a rerun changes nothing
    tiers_evaluate_due(now=later + timedelta(days=61))
    assert tier_of(member) == "bronze"
    reasons = list(TierChange.objects.filter(member=member).order_by("id").values_list("reason", "to_tier__code"))
    assert reasons == [("upgrade", "gold"), ("downgrade", "silver"), ("downgrade", "bronze")]


def test_back_above_the_threshold_during_grace_cancels_the_downgrade(api, member):
    start = timezone.now()
    earn(api, member, "1500.00", when=start)  # silver
    later = start + timedelta(days=400)
    tiers_evaluate_due(now=later)
    earn(api, member, "1000.00", when=later + timedelta(days=5))
    tiers_evaluate_due(now=later + timedelta(days=40))
    assert tier_of(member) == "silver"
    assert TierStatus.objects.get(member=member).below_since is None


def test_pinned_tier_holds_until_its_date_and_is_audited(api, member, tiers, django_user_model):
    staff = django_user_model.objects.create_user("mgr", is_staff=True)
    earn(api, member, "100.00")
    until = timezone.now() + timedelta(days=90)
    tier_pin(member=member, tier=tiers["gold"], until=until, reason="Complaint goodwill", actor=staff)
    assert tier_of(member) == "gold"
    assert AuditLog.objects.filter(action="tier.pin", actor=staff).exists()
    tiers_evaluate_due(now=timezone.now() + timedelta(days=60))
    assert tier_of(member) == "gold"
    tiers_evaluate_due(now=until + timedelta(days=1))      # pin over: the grace period starts
    assert tier_of(member) == "gold"
    tiers_evaluate_due(now=until + timedelta(days=32))
    assert tier_of(member) == "silver"


def test_refund_takes_back_qualifying_activity_and_the_tier_it_gave(api, member):
    earn(api, member, "1000.00", order_id="big")
    assert tier_of(member) == "silver"
    api.post("/api/v1/orders/big/refunds", {"amount": "1000.00"})
    body = api.get(f"/api/v1/members/{member.external_id}/tier").json()
    assert body["progress"]["qualifying"] == "0"
    assert tier_of(member) == "bronze"          # the refunded order gave silver: no grace for it
    assert body["downgrade"] is None
    tiers_evaluate_due(now=timezone.now() + timedelta(days=32))
    assert tier_of(member) == "bronze"
    assert not Notification.objects.filter(member=member, kind="tier_downgrade_warning").exists()


def test_evaluation_looks_only_at_members_due_for_review(api, member_factory):
    quiet = [member_factory() for _ in range(5)]
    for m in quiet:
        earn(api, m, "50.00")               # bronze, nothing to lose: no review date
    gold = member_factory()
    earn(api, gold, "6000.00")
    stats = tiers_evaluate_due(now=timezone.now() + timedelta(days=400))
    assert stats["members"] == 1
    assert tiers_evaluate_due(now=timezone.now() + timedelta(days=400))["changes"] == 0


def test_tier_list(api):
    body = api.get("/api/v1/tiers").json()
    assert [t["code"] for t in body] == ["bronze", "silver", "gold"]
    assert body[2]["perks"] == ["free_shipping", "priority_service"]


def test_unpinning_lets_the_evaluation_look_again(api, member, tiers, django_user_model):
    earn(api, member, "100.00")
    tier_pin(member=member, tier=tiers["gold"], until=timezone.now() + timedelta(days=90), reason="VIP event")
    tier_pin(member=member, tier=None, until=None, reason="Event cancelled")
    tiers_evaluate_due(now=timezone.now() + timedelta(days=1))
    tiers_evaluate_due(now=timezone.now() + timedelta(days=32))
    assert tier_of(member) == "silver"
