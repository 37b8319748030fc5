"""Staff moving a tier's threshold reaches the members it concerns."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from members.models import Notification, Tier, TierStatus
from members.services import tiers_evaluate_due
from tests.members.test_tiers import earn, tier_of

pytestmark = pytest.mark.usefixtures("tiers", "membership")


def edit_threshold(client, tier, threshold):
    r = client.post(f"/admin/members/tier/{tier.pk}/change/", {
        "code": tier.code, "name": tier.name, "rank": tier.rank, "threshold": threshold,
        "earn_multiplier": tier.earn_multiplier, "birthday_gift_points": tier.birthday_gift_points,
        "birthday_reward_code": "", "perks": "[]", "active": "on"})
    assert r.status_code == 302, r.content.decode()[:2000]


@pytest.fixture
def staff(client, admin_user):
    client.force_login(admin_user)
    return client


def test_a_raised_threshold_warns_and_downgrades_after_the_grace(api, member, member_factory, tiers, staff, membership):
    membership.window = "lifetime"  # no window would ever move: only the threshold change can bring a review
    membership.save()
    earn(api, member, "1500.00")                 # 150: silver
    keeps = member_factory()
    earn(api, keeps, "3000.00")                  # 300: silver, and still above the new threshold
    edit_threshold(staff, tiers["silver"], "200")
    now = timezone.now()
    tiers_evaluate_due(now=now + timedelta(days=1))
    assert tier_of(member) == "silver"                        # grace, not an instant downgrade
    tiers_evaluate_due(now=now + timedelta(days=21))
    warning = Notification.objects.get(member=member, kind="tier_downgrade_warning")
    assert Decimal(warning.payload["needed"]) == 50
    tiers_evaluate_due(now=now + timedelta(days=31))
    assert tier_of(member) == "bronze"
    assert tier_of(keeps) == "silver"
    assert not Notification.objects.filter(member=keeps).exists()


def test_a_lowered_threshold_moves_members_up_at_the_review(api, member, member_factory, tiers, staff):
    earn(api, member, "3000.00")                 # 300: silver
    below = member_factory()
    earn(api, below, "1500.00")                  # 150: stays silver
    edit_threshold(staff, tiers["gold"], "250")
    tiers_evaluate_due(now=timezone.now() + timedelta(minutes=1))
    assert tier_of(member) == "gold"
    assert tier_of(below) == "silver"
    assert api.get(f"/api/v1/members/{member.external_id}/tier").json()["history"][0]["reason"] == "upgrade"


def test_scheduling_is_one_statement_whatever_the_number_of_members(api, member_factory, tiers,
                                                                     django_assert_max_num_queries):
    from members.services import tier_threshold_review_schedule

    for _ in range(6):
        earn(api, member_factory(), "1500.00")   # silver
    silver = tiers["silver"]
    silver.threshold = Decimal(200)
    silver.save()
    with django_assert_max_num_queries(3):
        assert tier_threshold_review_schedule(tier=silver, old_threshold=Decimal(100)) == 6
    assert TierStatus.objects.filter(review_at__isnull=False).count() == 6
    gold = Tier.objects.get(code="gold")
    assert tier_threshold_review_schedule(tier=gold, old_threshold=gold.threshold) == 0   # unchanged: nobody
