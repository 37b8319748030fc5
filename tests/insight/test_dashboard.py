"""The managers' dashboard charts on a small hand-made program: what each shows, its CSV, and a query count that does
not grow with the members."""

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.models import Channel
from insight.models import MemberFacts, MemberSegment, MetricSnapshot, SurveyAnswer
from tests import office

clerk, manager = office.clerk, office.manager  # fixtures

NOW = datetime(2026, 7, 2, 12, tzinfo=UTC)


@pytest.fixture
def program_seen(db, program, member_factory, nps_survey):
    """Five members placed by the nightly run, their facts and NPS answers, and June's monthly metrics."""

    def add(stage, value, loyalty, spend=None, first=None, orders=1):
        member = member_factory(joined_at=datetime(2026, 1, 1, tzinfo=UTC))
        MemberSegment.objects.create(member=member, stage=stage, stage_since=NOW, value_tier=value, loyalty_type=loyalty,
                                     computed_on=NOW)
        if spend is not None:
            MemberFacts.objects.create(member=member, first_order_at=first, last_order_at=first, orders_count=orders,
                                       spend=Decimal(spend))
        return member

    members = [
        add("active", "high", "committed", "1200.00", datetime(2024, 7, 2, 12, tzinfo=UTC), 6),  # 600 a year x 3
        add("active", "general", "advocate", "30.00", datetime(2026, 6, 1, tzinfo=UTC)),  # under a year: 30 x 3
        add("dormant", "low", "inertia", "40.00", datetime(2026, 1, 1, tzinfo=UTC)),  # 120
        add("new", "low", "latent", "10.00", datetime(2026, 6, 20, tzinfo=UTC)),  # 30
        add("prospect", "none", "none"),
    ]
    channel = Channel.named("test-survey")
    for member, score, day in zip(members[:4], (10, 9, 3, 8), (date(2026, 5, 3), date(2026, 6, 3), date(2026, 6, 9),
                                                               date(2026, 7, 1)), strict=True):
        SurveyAnswer.objects.create(survey=nps_survey, member=member, period=str(day), score=score, channel=channel,
                                    answered_at=datetime.combine(day, datetime.min.time(), tzinfo=UTC))
    MetricSnapshot.objects.create(
        period="month", start=date(2026, 6, 1), end=date(2026, 7, 1), computed_at=NOW,
        values={"cohorts": [{"cohort": "2026-05", "members": 4, "active": [2, 1], "retention": ["50.0", "25.0"]},
                            {"cohort": "2026-06", "members": 0, "active": [0], "retention": [None]}]})
    return members


def rows(client, key: str) -> list[list[str]]:
    response = client.get(f"/admin/dashboard/charts/{key}.csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"] == f'attachment; filename="{key}.csv"'
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_each_chart_downloads_its_data_as_csv(client, manager, program_seen):
    client.force_login(manager)
    with time_machine.travel(NOW, tick=False):
        funnel, tiers, matrix = rows(client, "funnel"), rows(client, "value_tiers"), rows(client, "loyalty_matrix")
        nps, cohorts, clv = rows(client, "nps_trend"), rows(client, "cohorts"), rows(client, "clv")
    assert funnel[0] == ["Stage", "Code", "Members", "Share %"]
    assert funnel[1:] == [["Prospects", "prospect", "1", "20.0"], ["New customers", "new", "1", "20.0"],
                          ["Active customers", "active", "2", "40.0"], ["Won back", "won_back", "0", "0.0"],
                          ["Dormant customers", "dormant", "1", "20.0"], ["Churned customers", "churned", "0", "0.0"]]
    assert [r[1:3] for r in tiers[1:]] == [["high", "1"], ["general", "1"], ["low", "2"], ["none", "1"]]
    assert matrix[1:] == [
        ["Latent", "latent", "High attitudinal loyalty", "Low behavioural loyalty", "1", "20.0"],
        ["Committed", "committed", "High attitudinal loyalty", "High behavioural loyalty", "1", "20.0"],
        ["Advocate", "advocate", "High attitudinal loyalty", "High behavioural loyalty", "1", "20.0"],
        ["Not loyal", "none", "Low attitudinal loyalty", "Low behavioural loyalty", "1", "20.0"],
        ["Inertia", "inertia", "Low attitudinal loyalty", "High behavioural loyalty", "1", "20.0"],
        ["Mercenary", "mercenary", "Low attitudinal loyalty", "High behavioural loyalty", "0", "0.0"]]
    # Twelve months to July 2026; May: one promoter (100); June: a promoter and a detractor (0); July: a passive (0).
    assert nps[0] == ["Month", "Answers", "Promoters", "Detractors", "NPS"] and len(nps) == 13
    assert nps[1] == ["2025-08", "0", "0", "0", ""]
    assert nps[-3:] == [["2026-05", "1", "1", "0", "100.0"], ["2026-06", "2", "1", "1", "0.0"],
                        ["2026-07", "1", "0", "0", "0.0"]]
    assert cohorts[1:] == [["2026-05", "4", "0", "2", "50.0"], ["2026-05", "4", "1", "1", "25.0"],
                           ["2026-06", "0", "0", "0", ""]]
    # Simple CLV: 1200 over 2 years x 3 = 1800; 30 x 3 = 90; 40 x 3 = 120; 10 x 3 = 30 (members with orders only).
    assert [(r[0], r[2]) for r in clv[1:] if r[2] != "0"] == [("0", "1"), ("50", "1"), ("100", "1"), ("1000", "1")]
    assert clv[-1] == ["10000", "", "0", "0.0"]


def test_the_charts_on_the_dashboard_in_both_languages(client, manager, clerk, program_seen):
    client.force_login(manager)
    with time_machine.travel(NOW, tick=False):
        page = client.get("/admin/dashboard/").content.decode()
        chinese = client.get("/admin/dashboard/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert 'href="/admin/dashboard/charts/funnel.csv"' in page and 'href="/admin/dashboard/charts/clv.csv"' in page
    assert "Lifecycle funnel" in page and "Active customers" in page and "2 (40.0%)" in page
    assert '<span data-type="committed">Committed: 1</span>' in page
    assert "<title>2026-05: 100.0</title>" in page  # the NPS trend's points
    assert "2026-05</th><td>4</td>" in page  # the cohorts' heat map
    assert "生命周期漏斗" in chinese and "活跃客户" in chinese and "坚定型忠诚" in chinese and "高态度忠诚" in chinese
    client.force_login(clerk)
    assert client.get("/admin/dashboard/charts/funnel.csv").status_code == 403
    client.force_login(manager)
    assert client.get("/admin/dashboard/charts/nothing.csv").status_code == 404


def test_the_dashboard_costs_the_same_queries_for_more_members(client, manager, program_seen, member_factory):
    client.force_login(manager)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/admin/dashboard/").status_code == 200
        return len(captured)

    queries()  # the first request also reads what a process caches (settings rows)
    before = queries()
    for _ in range(4):
        member = member_factory()
        MemberSegment.objects.create(member=member, stage="churned", stage_since=NOW, value_tier="low",
                                     loyalty_type="none", computed_on=NOW)
        MemberFacts.objects.create(member=member, first_order_at=NOW, last_order_at=NOW, orders_count=1,
                                   spend=Decimal("70.00"))
    assert queries() == before <= 30


def test_the_nightly_snapshots_feed_the_charts_and_todays_points_come_from_the_ledger(program_seen, member_factory):
    from config.office import weekly_points
    from insight.dashboard import chart_get
    from insight.services import chart_snapshots_take

    member = program_seen[0]
    with time_machine.travel(datetime(2026, 7, 1, 10, tzinfo=UTC), tick=False):  # Wednesday: yesterday's points
        adjust(member, 70)
    with time_machine.travel(NOW.replace(hour=2), tick=False):
        # The summary counts members up to ID_LAG ids below the newest (a registration in flight holds a lower id): here
        # none, so the dashboard counts these five since the mark.
        assert chart_snapshots_take() == {"segment-cube": 5, "clv-buckets": 4, "points-by-day": 1, "summary": 0}
    with time_machine.travel(NOW, tick=False):
        adjust(member, 30)  # today, after the snapshot: read from the ledger
        MemberSegment.objects.filter(member=member).update(stage="churned")  # not seen until the next night
        funnel = {row[1]: row[2] for row in chart_get(key="funnel").rows}
        weeks = weekly_points()
    assert (funnel["active"], funnel["churned"]) == (2, 0)
    assert (weeks[-1]["week"], weeks[-1]["issued"]) == (date(2026, 6, 29), 100)
    assert sum(w["issued"] for w in weeks[:-1]) == 0


def adjust(member, points: int) -> None:
    import uuid

    from loyalty.services import points_adjust
    from loyalty.services.ledger import channel_id

    points_adjust(member=member, points=points, reason="test", channel_id=channel_id("admin"),
                  idempotency_key=uuid.uuid4().hex, actor=None)


def test_the_member_list_filters_by_segment_with_counts(client, manager, program_seen):
    from insight.models import Tag
    from insight.services import member_tag_attach

    member_tag_attach(member=program_seen[2], tag=Tag.objects.create(code="vip", name="VIP"))
    client.force_login(manager)
    page = client.get("/admin/members/member/?segment=stage:active").content.decode()
    assert "Stage: Active customers (2)" in page and "Tag: VIP (1)" in page
    assert program_seen[0].external_id in page and program_seen[1].external_id in page
    assert program_seen[2].external_id not in page
    tagged = client.get("/admin/members/member/?segment=tag:vip").content.decode()
    assert program_seen[2].external_id in tagged and program_seen[0].external_id not in tagged
