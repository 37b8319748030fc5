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
def june(api, member_factory, nps_survey, csat_survey, cli_survey):
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
            services.survey_answer_record(member=m, survey_code="nps-q", channel_id=1,
                                          answer=services.AnswerInput(score=score))
        for m, score in zip((a, b, c), (5, 4, 2), strict=True):
            services.survey_answer_record(member=m, survey_code="csat", channel_id=1,
                                          answer=services.AnswerInput(score=score))
        services.survey_answer_record(member=a, survey_code="cli", channel_id=1,
                                      answer=services.AnswerInput(recommend=6, buy_again=6, try_other=6))
        services.survey_answer_record(member=b, survey_code="cli", channel_id=1,
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
