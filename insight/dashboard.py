"""Selectors of the managers' dashboard charts: lifecycle funnel, value tiers, loyalty-type matrix, NPS trend, cohort
retention and the distribution of lifetime value.

Each reads stored segments, facts, answers or the latest monthly snapshot with one grouped query (no loop over
members), so the dashboard costs the same few queries at any size. Each returns a `Chart`: what the template draws
and the rows its CSV download holds (`columns` and `rows`, numbers as plain values).
"""

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from django.db import connection
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from loyalty.models import Account, ProgramSettings, Transaction
from members.models import Member, TierChange, TierStatus
from referrals.models import Referral

from .models import (
    ChartSnapshot,
    InsightSettings,
    LoyaltyType,
    MemberFacts,
    MemberSegment,
    MetricSnapshot,
    Stage,
    Survey,
    SurveyAnswer,
)
from .rules import nps

CUBE, CLV, POINTS, SUMMARY = "segment-cube", "clv-buckets", "points-by-day", "summary"  # the chart snapshots' keys
SUMMARY_OVERLAP = timedelta(hours=1)
"""How far before its moment the summary's snapshot stops counting ledger rows (and tier changes): a row written by a
database transaction that had not committed when the snapshot was taken is then still read by the dashboard, as
long as no transaction commits more than this after it wrote its row's time."""
POINTS_WINDOW = timedelta(days=90)  # the points per day the nightly snapshot keeps (the dashboard shows 12 weeks)
ISSUED = ["earn", "bonus", "gift", "adjust"]  # positive points of these kinds are points issued
REDEEMED = ["redeem", "redeem_cancel", "redeem_return"]  # net points spent on rewards and at checkout

# The seeds' words: 潜在客户, 新客户, 活跃客户, 回流客户, 沉睡客户, 流失客户 (lifecycle); 高价值, 一般价值, 低价值 (value).
STAGE_LABELS = {Stage.PROSPECT: _("Prospects"), Stage.NEW: _("New customers"), Stage.ACTIVE: _("Active customers"),
                Stage.WON_BACK: _("Won back"), Stage.DORMANT: _("Dormant customers"),
                Stage.CHURNED: _("Churned customers")}
VALUE_LABELS = {"high": _("High value"), "general": _("General value"), "low": _("Low value"),
                "none": _("No orders")}
LOYALTY_LABELS = {LoyaltyType.ADVOCATE: _("Advocate"), LoyaltyType.COMMITTED: _("Committed"),
                  LoyaltyType.LATENT: _("Latent"), LoyaltyType.MERCENARY: _("Mercenary"),
                  LoyaltyType.INERTIA: _("Inertia"), LoyaltyType.NONE: _("Not loyal")}
# 忠诚度二维模型: attitudinal loyalty (rows, high first) x behavioural loyalty (columns, low first).
MATRIX = [(_("High attitudinal loyalty"), [[LoyaltyType.LATENT], [LoyaltyType.COMMITTED, LoyaltyType.ADVOCATE]]),
          (_("Low attitudinal loyalty"), [[LoyaltyType.NONE], [LoyaltyType.INERTIA, LoyaltyType.MERCENARY]])]
CLV_EDGES = [0, 50, 100, 250, 500, 1000, 2500, 5000, 10000]
NPS_MONTHS = 12
YEAR_SECONDS = 365.25 * 86400

CHARTS = {}  # key -> the selector that builds it


@dataclass
class Chart:
    key: str
    title: str
    columns: list
    rows: list = field(default_factory=list)
    draw: dict = field(default_factory=dict)  # what the partial template needs beyond the rows
    csv_url: str = ""  # set by the view that shows it


def chart(fn):
    CHARTS[fn.__name__.removeprefix("chart_")] = fn
    return fn


def _pct(n: int, total: int) -> float:
    return round(100 * n / total, 1) if total else 0.0


def day_start(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def _stored(key: str) -> ChartSnapshot | None:
    return ChartSnapshot.objects.filter(key=key).first()


def segment_cube_live() -> dict[tuple[str, str, str], int]:
    rows = MemberSegment.objects.values_list("stage", "value_tier", "loyalty_type").annotate(n=Count("pk")).order_by()
    return {(stage, value, loyalty): n for stage, value, loyalty, n in rows}


def segment_cube() -> dict[tuple[str, str, str], int]:
    """Members per (stage, value tier, loyalty type), as of the last nightly run (its snapshot; counted now when
    there is none yet): one grouped result feeds three charts."""
    stored = _stored(CUBE)
    if stored is None:
        return segment_cube_live()
    return {(stage, value, loyalty): n for stage, value, loyalty, n in stored.data}


def points_per_day_live(*, start: datetime, end: datetime) -> dict[date, list[int]]:
    """[issued, redeemed, expired] points per UTC day of [start, end), from the ledger in one grouped query."""
    with connection.cursor() as cursor:
        cursor.execute(f"""
            SELECT (t.created_at AT TIME ZONE 'UTC')::date,
                   COALESCE(SUM(t.points) FILTER (WHERE t.kind = ANY(%(issued)s) AND t.points > 0), 0),
                   COALESCE(-SUM(t.points) FILTER (WHERE t.kind = ANY(%(redeemed)s)), 0),
                   COALESCE(-SUM(t.points) FILTER (WHERE t.kind = 'expire'), 0)
            FROM {Transaction._meta.db_table} t WHERE t.created_at >= %(start)s AND t.created_at < %(end)s
            GROUP BY 1""", {"start": start, "end": end, "issued": ISSUED, "redeemed": REDEEMED})
        return {day: [int(i), int(r), int(e)] for day, i, r, e in cursor.fetchall()}


def points_per_day(*, start: datetime, now: datetime) -> dict[date, list[int]]:
    """Points per day from `start` to `now`: the days the nightly snapshot holds, and the ledger's rows since."""
    stored = _stored(POINTS)
    days: dict[date, list[int]] = {}
    live_from = start
    if stored is not None and datetime.fromisoformat(stored.data["until"]) > start:
        live_from = min(datetime.fromisoformat(stored.data["until"]), day_start(now))
        days = {d: v for d, v in ((date.fromisoformat(k), v) for k, v in stored.data["days"].items())
                if start.date() <= d < live_from.date()}
        if datetime.fromisoformat(stored.data["until"]) - POINTS_WINDOW > start:  # older than the snapshot keeps
            days.update(points_per_day_live(start=start, end=datetime.fromisoformat(stored.data["until"]) -
                                            POINTS_WINDOW))
    days.update(points_per_day_live(start=live_from, end=now + timedelta(microseconds=1)))
    return days


def _sum_by(cube: dict, index: int) -> dict[str, int]:
    out: dict[str, int] = {}
    for key, n in cube.items():
        out[key[index]] = out.get(key[index], 0) + n
    return out


@chart
def chart_funnel(*, cube: dict | None = None, **_kw) -> Chart:
    counts = _sum_by(segment_cube() if cube is None else cube, 0)
    total, top = sum(counts.values()), max([1, *counts.values()])
    bars = [{"code": stage, "label": label, "n": counts.get(stage, 0), "pct": _pct(counts.get(stage, 0), total),
             "width": round(100 * counts.get(stage, 0) / top, 1)} for stage, label in STAGE_LABELS.items()]
    return Chart("funnel", _("Lifecycle funnel"), [_("Stage"), _("Code"), _("Members"), _("Share %")],
                 [[str(b["label"]), b["code"], b["n"], b["pct"]] for b in bars], {"bars": bars, "total": total})


@chart
def chart_value_tiers(*, cube: dict | None = None, **_kw) -> Chart:
    counts = _sum_by(segment_cube() if cube is None else cube, 1)
    total, top = sum(counts.values()), max([1, *counts.values()])
    bars = [{"code": tier, "label": label, "n": counts.get(tier, 0), "pct": _pct(counts.get(tier, 0), total),
             "width": round(100 * counts.get(tier, 0) / top, 1)} for tier, label in VALUE_LABELS.items()]
    return Chart("value_tiers", _("Value tiers (RFM)"), [_("Value tier"), _("Code"), _("Members"), _("Share %")],
                 [[str(b["label"]), b["code"], b["n"], b["pct"]] for b in bars], {"bars": bars, "total": total})


@chart
def chart_loyalty_matrix(*, cube: dict | None = None, **_kw) -> Chart:
    counts = _sum_by(segment_cube() if cube is None else cube, 2)
    total = sum(counts.values())
    grid, rows = [], []
    for attitude, cells in MATRIX:
        line = []
        for behaviour, types in zip((_("Low behavioural loyalty"), _("High behavioural loyalty")), cells, strict=True):
            kinds = [{"code": t, "label": LOYALTY_LABELS[t], "n": counts.get(t, 0)} for t in types]
            n = sum(k["n"] for k in kinds)
            line.append({"kinds": kinds, "n": n, "pct": _pct(n, total), "shade": round(0.08 + 0.6 * n / total, 2)
                         if total else 0})
            rows += [[str(k["label"]), k["code"], str(attitude), str(behaviour), k["n"], _pct(k["n"], total)]
                     for k in kinds]
        grid.append({"label": attitude, "cells": line})
    return Chart("loyalty_matrix", _("Loyalty types"),
                 [_("Loyalty type"), _("Code"), _("Attitudinal"), _("Behavioural"), _("Members"), _("Share %")], rows,
                 {"grid": grid, "total": total,
                  "columns": [_("Low behavioural loyalty"), _("High behavioural loyalty")]})


@chart
def chart_nps_trend(*, now: datetime | None = None, **_kw) -> Chart:
    """NPS per calendar month, the last NPS_MONTHS months (this one included), from the answers in one query."""
    now = now or timezone.now()
    this_month = now.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    months = []
    for back in range(NPS_MONTHS - 1, -1, -1):
        y, m = divmod(this_month.year * 12 + this_month.month - 1 - back, 12)
        months.append(datetime(y, m + 1, 1, tzinfo=UTC))
    with connection.cursor() as cursor:
        cursor.execute(f"""
            SELECT date_trunc('month', a.answered_at AT TIME ZONE 'UTC') AS month,
                   COUNT(*) FILTER (WHERE a.score >= 9), COUNT(*) FILTER (WHERE a.score <= 6), COUNT(*)
            FROM {SurveyAnswer._meta.db_table} a
            WHERE a.survey_id IN (SELECT id FROM {Survey._meta.db_table} WHERE kind = %s) AND a.answered_at >= %s
            GROUP BY 1""", [Survey.Kind.NPS.value, months[0]])
        found = {month.date(): (p, d, n) for month, p, d, n in cursor.fetchall()}
    points, rows = [], []
    for i, month in enumerate(months):
        p, d, n = found.get(month.date(), (0, 0, 0))
        score = nps(p, d, n)
        rows.append([month.strftime("%Y-%m"), n, p, d, None if score is None else float(score)])
        if score is not None:  # SVG: x 40..580 over the months, y 20 (+100) .. 180 (-100)
            points.append({"x": 40 + i * 540 / (NPS_MONTHS - 1), "y": round(100 - float(score) * 0.8, 1),
                           "score": score, "month": rows[-1][0]})
    return Chart("nps_trend", _("NPS by month"), [_("Month"), _("Answers"), _("Promoters"), _("Detractors"), "NPS"],
                 rows, {"points": points, "polyline": " ".join(f"{p['x']:.1f},{p['y']}" for p in points),
                        "months": [{"x": 40 + i * 540 / (NPS_MONTHS - 1), "label": r[0][2:]}
                                   for i, r in enumerate(rows)]})


@chart
def chart_cohorts(**_kw) -> Chart:
    """The cohorts' retention of the latest monthly snapshot of the whole program (the nightly job stores it)."""
    snapshot = (MetricSnapshot.objects.filter(period=MetricSnapshot.Period.MONTH, store="", segment="",
                                              values__cohorts__isnull=False).order_by("-start").first())
    cohorts = (snapshot.values.get("cohorts") or []) if snapshot else []
    width = max([0, *(len(c["retention"]) for c in cohorts)])
    grid = [{"cohort": c["cohort"], "members": c["members"],
             "cells": [{"pct": r, "shade": round(float(r) / 100, 2) if r is not None else 0}
                       for r in c["retention"]]} for c in cohorts]
    rows = [[c["cohort"], c["members"], k, c["active"][k], None if r is None else float(r)]
            for c in cohorts for k, r in enumerate(c["retention"])]
    return Chart("cohorts", _("Cohort retention"),
                 [_("Month joined"), _("Members"), _("Months since joining"), _("With an order"), _("Retention %")],
                 rows, {"grid": grid, "months": list(range(width)), "as_of": snapshot.start if snapshot else None})


@chart
def chart_clv(*, now: datetime | None = None, **_kw) -> Chart:
    """How many members' simple lifetime value falls in each bucket: AOV x orders a year x expected lifetime =
    spend / max(years since the first order, 1) x expected lifetime (members with orders), as of the nightly
    snapshot (computed now when there is none yet)."""
    stored = _stored(CLV)
    found = ({int(k): n for k, n in stored.data.items()} if stored is not None
             else clv_buckets_live(now=now or timezone.now()))
    currency = ProgramSettings.current().currency
    found[1] = found.get(1, 0) + found.pop(0, 0)  # a negative value (refunds) counts in the first bucket
    total, top = sum(found.values()), max([1, *found.values()])
    bars = []
    for i, low in enumerate(CLV_EDGES, start=1):
        high = CLV_EDGES[i] if i < len(CLV_EDGES) else None
        n = found.get(i, 0)
        bars.append({"low": low, "high": high, "n": n, "pct": _pct(n, total), "height": round(100 * n / top, 1),
                     "label": f"{low}-{high}" if high is not None else f"{low}+"})
    return Chart("clv", _("Lifetime value (simple CLV)"), [_("From"), _("Below"), _("Members"), _("Share %")],
                 [[b["low"], b["high"], b["n"], b["pct"]] for b in bars], {"bars": bars, "currency": currency,
                                                                            "total": total})


def clv_buckets_live(*, now: datetime) -> dict[int, int]:
    """Members with orders per CLV_EDGES bucket of their simple CLV (width_bucket: 0 below the first edge)."""
    lifetime = InsightSettings.current().expected_lifetime_years
    with connection.cursor() as cursor:
        cursor.execute(f"""
            SELECT width_bucket(f.spend / GREATEST(EXTRACT(EPOCH FROM %(now)s - f.first_order_at) / %(year)s, 1)
                                * %(lifetime)s, %(edges)s::numeric[]) AS bucket, COUNT(*)
            FROM {MemberFacts._meta.db_table} f
            WHERE f.orders_count > f.refunded_orders AND f.first_order_at IS NOT NULL
            GROUP BY 1""", {"now": now, "year": YEAR_SECONDS, "lifetime": lifetime,
                            "edges": [Decimal(e) for e in CLV_EDGES]})
        return dict(cursor.fetchall())


def dashboard_charts(*, now: datetime | None = None) -> list[Chart]:
    """Every chart of the dashboard, the segment charts from one shared query."""
    cube = segment_cube()
    return [fn(cube=cube, now=now) for fn in CHARTS.values()]


def chart_get(*, key: str, now: datetime | None = None) -> Chart | None:
    fn = CHARTS.get(key)
    return fn(now=now) if fn else None



# The summary (outstanding points, members, tiers, referrals): totals that grow with the program, kept by the nightly
# snapshot; the dashboard adds what happened since, from rows found by an index on their time or id. Each total
# and the rows it is later completed with are read in one statement, so under PostgreSQL's snapshot of that
# statement the two agree exactly: the outstanding points are the accounts' sum less the ledger rows from `since`
# (every account moves with its ledger rows in one transaction: available + pending == the sum of its rows).


def _one(statement: str, params: dict) -> tuple:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchone()


def _tier_moves(since: str) -> str:
    """SQL: (tier_id, members gained) from the tier changes since `since` (a parameter's name)."""
    return f"""SELECT tier, SUM(n) AS n FROM (
                   SELECT to_tier_id AS tier, COUNT(*) AS n FROM {TierChange._meta.db_table}
                   WHERE created_at >= %({since})s AND to_tier_id IS NOT NULL GROUP BY 1
                   UNION ALL SELECT from_tier_id, -COUNT(*) FROM {TierChange._meta.db_table}
                   WHERE created_at >= %({since})s AND from_tier_id IS NOT NULL GROUP BY 1) moves GROUP BY 1"""


# The members and referrals the snapshot counts are those up to this many ids below the newest: a registration still
# in flight when the snapshot ran holds an id below the newest, and the dashboard counts every id above the mark live.
ID_LAG = 1000


def summary_base_live(*, now: datetime) -> dict:
    """What the summary's snapshot stores, in one statement (one consistent view): the outstanding points and the
    members per tier as of `since` (= now - SUMMARY_OVERLAP; the accounts' and tiers' totals less the ledger rows and
    tier changes from then), the members and referrals per status up to an id a little below the newest (ID_LAG),
    with that mark."""
    t, a, m, r = (Transaction._meta.db_table, Account._meta.db_table, Member._meta.db_table,
                  Referral._meta.db_table)
    since = now - SUMMARY_OVERLAP
    available, pending, members, last_member, tiers, referrals, last_referral = _one(f"""
        WITH member_mark AS (SELECT GREATEST(COALESCE(MAX(id), 0) - %(lag)s, 0) AS wm FROM {m}),
             referral_mark AS (SELECT GREATEST(COALESCE(MAX(id), 0) - %(lag)s, 0) AS wm FROM {r})
        SELECT (SELECT COALESCE(SUM(available), 0) FROM {a})
                 - (SELECT COALESCE(SUM(available_delta), 0) FROM {t} WHERE created_at >= %(since)s),
               (SELECT COALESCE(SUM(pending), 0) FROM {a})
                 - (SELECT COALESCE(SUM(pending_delta), 0) FROM {t} WHERE created_at >= %(since)s),
               (SELECT COUNT(*) FROM {m} WHERE id <= (SELECT wm FROM member_mark)), (SELECT wm FROM member_mark),
               (SELECT COALESCE(jsonb_object_agg(tier, n), '{{}}') FROM (
                   SELECT tier, SUM(n) AS n FROM (
                       SELECT tier_id AS tier, COUNT(*) AS n FROM {TierStatus._meta.db_table}
                       WHERE tier_id IS NOT NULL GROUP BY 1
                       UNION ALL SELECT tier, -n FROM ({_tier_moves("since")}) moved) x GROUP BY 1) tiers),
               (SELECT COALESCE(jsonb_object_agg(status, n), '{{}}') FROM (
                   SELECT status, COUNT(*) AS n FROM {r} WHERE id <= (SELECT wm FROM referral_mark) GROUP BY 1) referrals),
               (SELECT wm FROM referral_mark)""", {"since": since, "lag": ID_LAG})
    return {"since": since.isoformat(), "available": int(available), "pending": int(pending), "members": members,
            "last_member": last_member, "tiers": {str(k): int(n) for k, n in _json(tiers).items()},
            "referrals": {k: int(n) for k, n in _json(referrals).items()}, "last_referral": last_referral}


def _json(value) -> dict:
    return json.loads(value) if isinstance(value, str) else value


def summary_base(now: datetime) -> dict:
    """The stored summary, or (before the first nightly run) one computed now: the same arithmetic either way."""
    stored = _stored(SUMMARY)
    return stored.data if stored is not None else summary_base_live(now=now)


def program_summary(*, now: datetime | None = None, base: dict | None = None) -> dict:
    """The dashboard's totals from the summary's snapshot and, in one more statement, what happened since: the
    ledger's rows (exact outstanding points), the members registered since and those not active now (a partial
    index; active = all - those), the tier changes, the referrals attached since in their status now (a referral's
    later moves, qualified or rewarded, show after the next nightly run). A fixed number of queries at any size."""
    base = base or summary_base(now or timezone.now())
    t, m, r = Transaction._meta.db_table, Member._meta.db_table, Referral._meta.db_table
    available, pending, new, not_active, tiers, referrals = _one(f"""
        SELECT (SELECT COALESCE(SUM(available_delta), 0) FROM {t} WHERE created_at >= %(since)s),
               (SELECT COALESCE(SUM(pending_delta), 0) FROM {t} WHERE created_at >= %(since)s),
               (SELECT COUNT(*) FROM {m} WHERE id > %(last_member)s),
               (SELECT COUNT(*) FROM {m} WHERE status <> %(active)s),
               (SELECT COALESCE(jsonb_object_agg(tier, n), '{{}}') FROM ({_tier_moves("since")}) tiers),
               (SELECT COALESCE(jsonb_object_agg(status, n), '{{}}') FROM (
                   SELECT status, COUNT(*) AS n FROM {r} WHERE id > %(last_referral)s GROUP BY 1) referrals)""",
                                                                     {**base, "since": datetime.fromisoformat(base["since"]),
                                                                      "active": Member.Status.ACTIVE.value})
    everyone = base["members"] + new
    tier_counts = {int(k): n for k, n in base["tiers"].items()}
    for k, n in _json(tiers).items():
        tier_counts[int(k)] = tier_counts.get(int(k), 0) + int(n)
    referral_counts = dict(base["referrals"])
    for k, n in _json(referrals).items():
        referral_counts[k] = referral_counts.get(k, 0) + int(n)
    return {"points": {"available": base["available"] + int(available), "pending": base["pending"] + int(pending)},
            "members": {"all": everyone, "active": everyone - not_active}, "tiers": tier_counts,
            "referrals": referral_counts}
