"""The nightly segments on small hand-computed populations."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from insight.models import MemberFacts, MemberSegment, StageChange
from insight.services.segments import segments_compute
from referrals.models import Program, Referral

NOW = datetime(2026, 6, 30, 2, 0, tzinfo=UTC)


def days_ago(n):
    return NOW - timedelta(days=n)


def facts(member, *, first, last, orders, spend, refunded=0, redeemed=0, nps=None, cli=None):
    return MemberFacts.objects.create(member=member, first_order_at=days_ago(first), last_order_at=days_ago(last),
                                      orders_count=orders, refunded_orders=refunded, redeemed_orders=redeemed,
                                      spend=Decimal(spend), last_nps=nps, last_cli=cli)


def segment(member):
    return MemberSegment.objects.get(member=member)


def test_lifecycle_stages_and_their_changes(member_factory):
    old = days_ago(400)
    prospect = member_factory(joined_at=old)
    new = member_factory(joined_at=days_ago(10))
    active = member_factory(joined_at=old)
    dormant = member_factory(joined_at=old)
    churned = member_factory(joined_at=old)
    facts(new, first=5, last=5, orders=1, spend="10")
    facts(active, first=300, last=89, orders=3, spend="30")
    facts(dormant, first=300, last=91, orders=2, spend="20")
    facts(churned, first=300, last=181, orders=1, spend="10")

    stats = segments_compute(now=NOW, batch_size=2)  # three batches
    assert stats == {"members": 5, "stage_changes": 5, "batches": 3}
    assert [segment(m).stage for m in (prospect, new, active, dormant, churned)] == [
        "prospect", "new", "active", "dormant", "churned"]
    assert StageChange.objects.filter(member=dormant, from_stage="", to_stage="dormant").exists()

    # A rerun the same night changes nothing and records nothing.
    assert segments_compute(now=NOW)["stage_changes"] == 0

    # The dormant member orders again: won back, recorded; the others drift one stage on.
    MemberFacts.objects.filter(member=dormant).update(last_order_at=NOW + timedelta(days=1), orders_count=3)
    later = NOW + timedelta(days=2)
    segments_compute(now=later)
    assert segment(dormant).stage == "won_back" and segment(dormant).stage_since == later
    assert segment(active).stage == "dormant"
    assert list(StageChange.objects.filter(changed_at=later).order_by("member_id").values_list(
        "member_id", "from_stage", "to_stage")) == [(active.pk, "active", "dormant"), (dormant.pk, "dormant", "won_back")]
    # Still active at the next run: stays won back, since unchanged.
    segments_compute(now=later + timedelta(days=1))
    assert segment(dormant).stage == "won_back" and segment(dormant).stage_since == later


def test_rfm_quintiles_and_value_tiers(member_factory):
    # Five buyers with distinct recency, frequency and spend: each quintile holds one of them.
    buyers = [member_factory(joined_at=days_ago(400)) for _ in range(5)]
    for i, m in enumerate(buyers):  # i = 0 is the oldest, fewest, smallest
        facts(m, first=300, last=50 - 10 * i, orders=i + 1, spend=str(10 * (i + 1)))
    # Refunded orders do not count towards frequency: 6 placed, 5 refunded in full = 1 net order.
    refunder = member_factory(joined_at=days_ago(400))
    facts(refunder, first=300, last=55, orders=6, refunded=5, spend="5")
    never = member_factory()
    segments_compute(now=NOW)
    scores = [(segment(m).recency, segment(m).frequency, segment(m).monetary) for m in buyers]
    # Six buyers (with the refunder): the cut points are the ceil(6k/5)-th smallest values, the 2nd to 5th; a
    # score is 1 + the cut points a value is above. Last orders 55 (refunder), 50, 40, 30, 20, 10 days ago: cuts at
    # 50, 40, 30, 20 days ago; net orders 1, 1, 2, 3, 4, 5: cuts 1, 2, 3, 4; spend 5, 10, ..., 50: cuts 10 to 40.
    assert scores == [(1, 1, 1), (2, 2, 2), (3, 3, 3), (4, 4, 4), (5, 5, 5)]
    assert [segment(m).value_tier for m in buyers] == ["low", "low", "general", "high", "high"]
    assert (segment(refunder).recency, segment(refunder).frequency, segment(refunder).monetary) == (1, 1, 1)
    assert segment(never).value_tier == "none" and segment(never).recency == 0


def test_the_six_loyalty_types(member_factory):
    make = lambda: member_factory(joined_at=days_ago(400))  # noqa: E731
    none, inertia, mercenary, latent, committed, advocate = (make() for _ in range(6))
    facts(none, first=200, last=20, orders=2, spend="20")  # too few orders, no attitude
    facts(inertia, first=200, last=20, orders=4, spend="40")  # 4 orders in 200 days = 7.3 a year
    facts(mercenary, first=200, last=20, orders=4, redeemed=2, spend="40")  # half paid with points
    facts(latent, first=200, last=20, orders=1, spend="10", nps=10)  # likes us, rarely buys
    facts(committed, first=200, last=20, orders=5, redeemed=3, spend="50", cli=Decimal("5.333"))
    facts(advocate, first=200, last=20, orders=5, spend="50")
    referred = make()
    Referral.objects.create(referrer=advocate, referred=referred, status=Referral.Status.REWARDED, created_at=NOW,
                            program=Program.objects.create(name="Refer"))
    slow = make()
    facts(slow, first=365 * 2, last=20, orders=4, spend="40")  # 2 orders a year: not behaviourally loyal
    segments_compute(now=NOW)
    assert [segment(m).loyalty_type for m in (none, inertia, mercenary, latent, committed, advocate, slow)] == [
        "none", "inertia", "mercenary", "latent", "committed", "advocate", "none"]
