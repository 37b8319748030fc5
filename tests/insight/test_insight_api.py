"""A member's insight, the segments and their members through the shop's API."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import time_machine

from insight import clv
from insight.models import ClvModel, MemberFacts
from insight.services import clv_model_fit, segments_compute

NOW = datetime(2026, 6, 30, 12, 0, tzinfo=UTC)


def facts(member, *, first, last, orders, spend):
    return MemberFacts.objects.create(member=member, first_order_at=NOW - timedelta(days=first),
                                      last_order_at=NOW - timedelta(days=last), orders_count=orders,
                                      spend=Decimal(spend))


def test_a_members_insight_with_both_lifetime_values(api, member_factory):
    member = member_factory(joined_at=NOW - timedelta(days=800))
    facts(member, first=730.5, last=7, orders=4, spend="400.00")
    ClvModel.objects.create(fitted_at=NOW, customers=2357, r=0.243, alpha=4.414, a=0.793, b=2.426,
                            p=6.25, q=3.74, gamma=15.44)
    with time_machine.travel(NOW, tick=False):
        segments_compute()
        r = api.get(f"/api/v1/members/{member.external_id}/insight")
    assert r.status_code == 200, r.json()
    body = r.json()
    assert (body["stage"], body["facts"]["average_order_value"], body["facts"]["orders_count"]) == ("active", "100.00", 4)
    assert body["stage_changes"][0]["to_stage"] == "active"
    # Simple: 100.00 a order x 2 orders a year (4 in 2 years) x 3 years expected.
    assert body["clv"]["simple"] == "600.00"
    # BG/NBD with x = 3 repeats, t_x = 103.286 weeks, T = 104.357 weeks: a recent buyer, likely alive.
    x, t_x, T = 3, (730.5 - 7) / 7, 730.5 / 7
    model = clv.BgNbd(r=0.243, alpha=4.414, a=0.793, b=2.426)
    p_alive = float(clv.p_alive(model, x, t_x, T))
    expected = float(clv.expected_purchases(model, 52, x, t_x, T))
    spend = float(clv.expected_spend(clv.GammaGamma(p=6.25, q=3.74, gamma=15.44), x, 100.0))
    assert body["clv"]["p_alive"] == round(p_alive, 4) == 0.8442
    assert body["clv"]["churn_risk"] == round(1 - p_alive, 4)
    assert body["clv"]["model"] == str(Decimal(expected * spend).quantize(Decimal("0.01")))


def test_a_member_without_orders_has_no_lifetime_value_yet(api, member):
    r = api.get(f"/api/v1/members/{member.external_id}/insight")
    assert r.status_code == 200
    assert r.json()["facts"] is None and r.json()["clv"]["simple"] is None and r.json()["stage"] is None
    assert api.get("/api/v1/members/nobody/insight").status_code == 404


def test_segments_with_counts_and_their_members(api, member_factory):
    old = NOW - timedelta(days=400)
    buyers = [member_factory(joined_at=old) for _ in range(3)]
    facts(buyers[0], first=300, last=10, orders=2, spend="20")
    facts(buyers[1], first=300, last=20, orders=2, spend="20")
    facts(buyers[2], first=300, last=100, orders=1, spend="10")
    member_factory()  # a prospect
    with time_machine.travel(NOW, tick=False):
        segments_compute()
    body = api.get("/api/v1/segments").json()
    stages = {s["segment"]: s["members"] for s in body["segments"]["stage"]}
    assert stages == {"stage:prospect": 1, "stage:new": 0, "stage:active": 2, "stage:dormant": 1, "stage:churned": 0,
                      "stage:won_back": 0}
    assert sum(s["members"] for s in body["segments"]["loyalty"]) == 4
    first = api.get("/api/v1/segments/stage:active/members?limit=1").json()
    second = api.get(f"/api/v1/segments/stage:active/members?limit=1&after={first['next']}").json()
    assert [first["results"][0]["member"], second["results"][0]["member"]] == [buyers[0].external_id,
                                                                             buyers[1].external_id]
    assert second["next"] is None
    bad = api.get("/api/v1/segments/stage:happy/members")
    assert bad.status_code == 404 and bad.json()["error"]["code"] == "not_found"
    assert api.get("/api/v1/segments/stage:active/members?colour=red").status_code == 400


def test_the_member_list_filters_by_segment_with_its_count(api, channel, member_factory):
    from core.models import Scope
    from insight.models import Tag
    from insight.services import member_tag_attach
    from tests.conftest import make_client

    old = NOW - timedelta(days=400)
    buyers = [member_factory(joined_at=old) for _ in range(3)]
    facts(buyers[0], first=300, last=10, orders=2, spend="20")
    facts(buyers[1], first=300, last=20, orders=2, spend="20")
    facts(buyers[2], first=300, last=100, orders=1, spend="10")
    prospect = member_factory()
    with time_machine.travel(NOW, tick=False):
        segments_compute()
    member_tag_attach(member=buyers[2], tag=Tag.objects.create(code="vip", name="VIP"))
    everyone = api.get("/api/v1/members?limit=3").json()
    assert everyone["count"] == 4 and len(everyone["results"]) == 3 and everyone["segment"] is None
    last = api.get(f"/api/v1/members?limit=3&after={everyone['next']}").json()
    assert [r["member"] for r in last["results"]] == [prospect.external_id] and last["next"] is None
    assert last["results"][0]["stage"] == "prospect"
    first = api.get("/api/v1/members?segment=stage:active&limit=1").json()
    assert first["count"] == 2 and first["results"][0] == {
        "member": buyers[0].external_id, "status": "active", "joined_at": old.isoformat().replace("+00:00", "Z"),
        "stage": "active", "value_tier": first["results"][0]["value_tier"], "loyalty_type": "none"}
    second = api.get(f"/api/v1/members?segment=stage:active&limit=1&after={first['next']}").json()
    assert [r["member"] for r in second["results"]] == [buyers[1].external_id] and second["next"] is None
    tagged = api.get("/api/v1/members?segment=tag:vip").json()
    assert (tagged["count"], [r["member"] for r in tagged["results"]]) == (1, [buyers[2].external_id])
    assert api.get("/api/v1/members?segment=stage:happy").status_code == 404
    assert api.get("/api/v1/members?segment=tag:nope").status_code == 404
    assert api.get("/api/v1/members?segment=stage").status_code == 400
    reader = make_client(channel, scopes=[Scope.MEMBERS_READ])
    assert reader.get("/api/v1/members?segment=value:none").json()["count"] == 1


def test_the_nightly_fit_needs_enough_customers_and_stores_its_parameters(member_factory):
    members = [member_factory() for _ in range(30)]
    for i, m in enumerate(members):
        facts(m, first=200 + i, last=(i % 5) * 20, orders=1 + i % 4, spend=str(20 * (1 + i % 4) + i))
    assert clv_model_fit(now=NOW) is not None
    model = ClvModel.objects.get()
    assert model.customers == 30 and all(v > 0 for v in (model.r, model.alpha, model.a, model.b, model.p, model.q))
    MemberFacts.objects.filter(member__in=members[5:]).delete()
    assert clv_model_fit(now=NOW) is None and ClvModel.objects.count() == 1
