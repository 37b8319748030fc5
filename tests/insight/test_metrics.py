"""The metrics of a month on a small hand-computed program (formulas in insight/services/metrics.py and README)."""

from datetime import UTC, date, datetime

import pytest
import time_machine

from insight import services
from insight.models import MetricSnapshot
from insight.services.metrics import metrics_snapshot_for, metrics_snapshot_take
from insight.services.segments import segments_compute


def at(day: str):
    return time_machine.travel(datetime.fromisoformat(day + "T12:00:00+00:00"), tick=False)


@pytest.fixture
def june(api, channel, member_factory, nps_survey, csat_survey, cli_survey):
    """Customers before June: A (20 April), B (20 March), D (15 May). In June: A again, C new, D again (two products),
    C refunds 10.00 of 50.00, A redeems 9 points; surveys answered."""
    a, b, c, d = (member_factory(joined_at=datetime(2026, 1, 1, tzinfo=UTC)) for _ in range(4))

    def order(m, order_id, amount, day, skus=(), store=""):
        lines = [{"sku": s, "category": "x", "amount": "1.00", "quantity": 1} for s in skus]
        with at(day):
            r = api.post("/api/v1/orders", {"member": m.external_id, "order_id": order_id, "amount": amount,
                                            "currency": "EUR", "lines": lines, "store": store})
        assert r.status_code == 201, r.json()

    order(b, "B1", "40.00", "2026-03-20")
    order(a, "A1", "20.00", "2026-04-20")
    order(d, "D1", "10.00", "2026-05-15")
    order(a, "A2", "100.00", "2026-06-05", ["shirt"])
    order(c, "C1", "50.00", "2026-06-10")
    order(d, "D2", "30.00", "2026-06-20", ["shirt", "tie"], store="S2")
    with at("2026-06-21"):
        assert api.post("/api/v1/orders/C1/refunds", {"amount": "10.00"}).status_code == 201
        assert api.post("/api/v1/redemptions", {"member": a.external_id, "points": 9}).status_code == 201
        for m, score in zip((a, b, c, d), (10, 9, 7, 3), strict=True):
            services.survey_answer_record(member=m, survey_code="nps-q", channel_id=channel.pk,
                                          answer=services.AnswerInput(score=score))
        for m, score in zip((a, b, c), (5, 4, 2), strict=True):
            services.survey_answer_record(member=m, survey_code="csat", channel_id=channel.pk,
                                          answer=services.AnswerInput(score=score))
        services.survey_answer_record(member=a, survey_code="cli", channel_id=channel.pk,
                                      answer=services.AnswerInput(recommend=6, buy_again=6, try_other=6))
        services.survey_answer_record(member=b, survey_code="cli", channel_id=channel.pk,
                                      answer=services.AnswerInput(recommend=3, buy_again=3, try_other=3))
    return a, b, c, d


def test_the_metrics_of_a_month(june):
    with at("2026-07-02"):
        values = metrics_snapshot_for(period="month", day=date(2026, 6, 15)).values
    assert values == {
        "nps": "25.0", "nps_answers": 4,  # promoters 2 (10, 9), detractors 1 (3) of 4
        "csat": "66.7", "csat_mean": "3.67", "csat_answers": 3,  # 4 and 5 of 5, 4, 2
        "cli": "4.50", "cli_answers": 2,  # (6 + 3) / 2
        # S = ordered in the 90 days before 1 June: A, B, D; E = in the 90 days before 1 July: A, C, D; N = C.
        "customers_start": 3, "customers_end": 3, "new_customers": 1,
        "crr": "66.7", "ccr": "25.0", "active_members": 3,  # (3 - 1) / 3; (3 + 1 - 3) / (3 + 1)
        "orders": 3, "revenue": "170.00", "buyers": 3,  # 100 + (50 - 10) + 30
        "average_order_value": "56.67", "purchase_frequency": "1.00",
        "upsell_rate": "1.00", "buyers_of_several_products": 1, "buyers_of_one_product": 1,  # D: 2 SKUs, A: 1
        # Issued in June: earned (1 point per 10.00) 10 + 5 + 3, and 4 x 50 for the NPS answers; A redeemed 9.
        "points_issued": 218, "points_redeemed": 9, "points_expired": 0,
        "redemption_rate": "4.1", "breakage": "0.0",  # 9 / 218
        "points_liability": 215,  # 2 + 4 + 1 before June, 218 in June, - 1 (C's refund) - 9
        # No member has imported past orders: no programme effect to measure.
        "effect_months": 6, "effect_members": 0, "spend_before_per_member_month": None,
        "spend_after_per_member_month": None, "programme_effect": None,
        # All four joined in January 2026 (the cohorts before it, from July 2025, are empty): in March B ordered,
        # in April A, in May D, in June A, C (refunded in part only) and D.
        "cohorts": [*({"cohort": f"2025-{m:02d}", "members": 0, "active": [0] * (19 - m),
                       "retention": [None] * (19 - m)} for m in range(7, 13)),
                    {"cohort": "2026-01", "members": 4, "active": [0, 0, 1, 1, 1, 3],
                     "retention": ["0.0", "0.0", "25.0", "25.0", "25.0", "75.0"]},
                    *({"cohort": f"2026-{m:02d}", "members": 0, "active": [0] * (7 - m),
                       "retention": [None] * (7 - m)} for m in range(2, 7))],
    }


def test_a_closed_period_is_served_from_its_snapshot_and_filters_narrow_it(june):
    a, b, c, d = june
    with at("2026-07-02"):
        first = metrics_snapshot_take(period="month", day=date(2026, 6, 1))  # the nightly job, after the month
        again = metrics_snapshot_for(period="month", day=date(2026, 6, 30))
        store = metrics_snapshot_for(period="month", day=date(2026, 6, 1), store="S2").values
        segments_compute()
        dormant = metrics_snapshot_for(period="month", day=date(2026, 6, 1), segment="stage:dormant").values
    assert again.pk == first.pk and MetricSnapshot.objects.count() == 1  # reads store nothing
    assert (store["orders"], store["revenue"], store["buyers"], store["upsell_rate"]) == (1, "30.00", 1, None)
    # On 2 July B (last order 20 March, 104 days before) is the only dormant member.
    assert (dormant["customers_start"], dormant["customers_end"], dormant["orders"]) == (1, 0, 0)
    assert (dormant["nps"], dormant["nps_answers"], dormant["points_liability"]) == ("100.0", 1, 54)  # 4 + 50


def test_metrics_through_the_api(api, june):
    with at("2026-06-22"):
        r = api.get("/api/v1/metrics?period=week&date=2026-06-20")
        bad = api.get("/api/v1/metrics?period=year")
        bad_segment = api.get("/api/v1/metrics?period=day&segment=stage:happy")
    assert r.status_code == 200, r.json()
    body = r.json()
    assert (body["start"], body["end"], body["values"]["orders"]) == ("2026-06-15", "2026-06-22", 1)
    assert bad.status_code == 400 and "period" in bad.json()["error"]["fields"]
    assert bad_segment.status_code == 404 and "segment" in bad_segment.json()["error"]["fields"]


def test_reading_the_metrics_of_a_running_period_stores_nothing(db):
    from insight.models import MetricSnapshot

    metrics_snapshot_for(period="month", day=date.today())
    assert not MetricSnapshot.objects.exists()


@pytest.fixture
def history(api, member_factory):
    """X joined 15 January 2026, Y 31 January, Z 20 January (no past orders), W 1 June (too recent for a July
    snapshot). Past orders: X 60.00 in September and 30.00 in December 2025 (and 500.00 in June 2025, more than six
    months before joining); Y 30.00 in October; W 10.00 in May 2026. X then orders 120.00 (1 February) and 60.00
    (1 May, 20.00 refunded), and 70.00 on 1 August (past the six months); Z orders 40.00 on 1 March."""
    when = {"X": "2026-01-15", "Y": "2026-01-31", "Z": "2026-01-20", "W": "2026-06-01"}
    m = {k: member_factory(joined_at=datetime.fromisoformat(day + "T00:00:00+00:00")) for k, day in when.items()}
    past = [("X", "h1", "500.00", "2025-06-01"), ("X", "h2", "60.00", "2025-09-01"), ("X", "h3", "30.00", "2025-12-01"),
            ("Y", "h4", "30.00", "2025-10-01"), ("W", "h5", "10.00", "2026-05-01")]
    with at("2026-06-02"):
        r = api.post("/api/v1/order-history", {"orders": [
            {"member": m[k].external_id, "order_id": oid, "amount": amount, "occurred_at": day + "T10:00:00Z"}
            for k, oid, amount, day in past]})
    assert r.status_code == 201, r.json()
    for k, oid, amount, day in [("X", "X1", "120.00", "2026-02-01"), ("Z", "Z1", "40.00", "2026-03-01"),
                                ("X", "X2", "60.00", "2026-05-01"), ("X", "X3", "70.00", "2026-08-01")]:
        with at(day):
            r = api.post("/api/v1/orders", {"member": m[k].external_id, "order_id": oid, "amount": amount,
                                            "currency": "EUR"})
        assert r.status_code == 201, r.json()
        if oid == "X2":
            with at(day):
                assert api.post("/api/v1/orders/X2/refunds", {"amount": "20.00"}).status_code == 201
    return m


def test_the_programme_effect_and_the_cohorts_of_a_month(api, history):
    with at("2026-08-02"):
        body = api.get("/api/v1/metrics?period=month&date=2026-07-10").json()
        values = metrics_snapshot_take(period="month", day=date(2026, 7, 1)).values
        week = metrics_snapshot_for(period="week", day=date(2026, 7, 1)).values  # too early for X's and Y's six months
        last_week = metrics_snapshot_for(period="week", day=date(2026, 7, 31)).values
        store = metrics_snapshot_for(period="month", day=date(2026, 7, 1), store="S1").values
    # X and Y: 60 + 30 + 30 = 120.00 before, over 2 members x 6 months; after: 120 + (60 - 20) = 160.00.
    assert (values["effect_members"], values["spend_before_per_member_month"],
            values["spend_after_per_member_month"], values["programme_effect"]) == (2, "10.00", "13.33", "33.3")
    # The January cohort (X, Y, Z): February X, March Z, May X; nothing since. June's cohort (W): no orders.
    january = next(c for c in values["cohorts"] if c["cohort"] == "2026-01")
    assert january == {"cohort": "2026-01", "members": 3, "active": [0, 1, 1, 0, 1, 0, 0],
                       "retention": ["0.0", "33.3", "33.3", "0.0", "33.3", "0.0", "0.0"]}
    assert [c["cohort"] for c in values["cohorts"]][-2:] == ["2026-06", "2026-07"]
    assert values["cohorts"][-2]["members"] == 1 and values["cohorts"][-2]["active"] == [0, 0]
    assert (week["effect_members"], week["programme_effect"], week["cohorts"]) == (0, None, None)
    assert (last_week["effect_members"], last_week["programme_effect"]) == (2, "33.3")
    assert store["programme_effect"] is None  # past orders carry no store
    assert body["values"]["programme_effect"] == "33.3" and body["values"]["cohorts"][5] == january

