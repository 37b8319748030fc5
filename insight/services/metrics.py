"""The program's metrics per period (day, week from Monday, month), per store and per segment, computed set-based
and stored as snapshots. Formulas (README "Insight"; the seeds' definitions):

- NPS 净推荐值 = % promoters (9-10) - % detractors (0-6) of the NPS answers given in the period;
- CSAT 客户满意度 = % of the CSAT answers that are 4 or 5 (and their mean); CLI 客户忠诚度指数 = the mean index;
- customers = members with an order in the `active_days` before an instant: S at the start, E at the end; new N =
  members whose first order falls in the period; CRR 客户保留率 = (E - N) / S x 100; CCR 客户流失率 =
  (S + N - E) / (S + N) x 100; active members = E;
- average order value = (order amounts - refunded amounts) / orders placed in the period; purchase frequency =
  orders / distinct buyers; upsell rate 追加销售率 = buyers of more than one product (distinct SKUs) / buyers of
  exactly one product, in the period;
- points issued (earned, bonuses, gifts), redeemed (net of cancellations and returns), expired, in the period;
  redemption rate = redeemed / issued x 100; breakage = expired / issued x 100; points liability = all members'
  available + pending points when the snapshot was taken.
- programme effect (before vs after joining, N = effect_months): the members who joined at least N months before
  the period's end and have an imported past order in the N months before joining; spend before = their imported
  orders in the N months before joining / (members x N); spend after = their orders (net of refunds) in the N
  months from joining / (members x N); effect = (after - before) / before x 100. Orders of people who are not
  members are not recorded (an order always names a member), so there is no members vs non-members comparison;
  a store filter leaves the effect undefined (past orders carry no store);
- cohort retention (monthly metrics only): cohort = the calendar month a member joined, for the COHORT_MONTHS
  months up to the period's; retention k = % of the cohort with an order (not refunded in full) in calendar month
  k since joining (k = 0 is the month joined), for each month k up to the period's.

A store narrows the orders (and the buyers); a segment (stage:active, value:high, loyalty:advocate) narrows the
members, by their segment as of the last nightly run. PostgreSQL only.
"""

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from django.db import connection
from django.utils import timezone

from core.errors import BadRequest, NotFound
from loyalty.models import Account, Order, OrderLine, Transaction
from members.models import Member

from ..models import (
    HistoricalOrder,
    InsightSettings,
    MemberFacts,
    MemberSegment,
    MemberTag,
    MetricSnapshot,
    Survey,
    SurveyAnswer,
    Tag,
)
from ..rules import nps, ratio

SEGMENT_COLUMNS = {"stage": "stage", "value": "value_tier", "loyalty": "loyalty_type"}
SEGMENT_CHOICES = {"stage": MemberSegment._meta.get_field("stage").choices,
                   "value": MemberSegment._meta.get_field("value_tier").choices,
                   "loyalty": MemberSegment._meta.get_field("loyalty_type").choices}
ORDERS, LINES, TXNS = Order._meta.db_table, OrderLine._meta.db_table, Transaction._meta.db_table
ANSWERS, SURVEYS, FACTS = SurveyAnswer._meta.db_table, Survey._meta.db_table, MemberFacts._meta.db_table
SEGMENTS, ACCOUNTS = MemberSegment._meta.db_table, Account._meta.db_table
MEMBER_TAGS, TAGS = MemberTag._meta.db_table, Tag._meta.db_table
MEMBERS, HISTORY = Member._meta.db_table, HistoricalOrder._meta.db_table
COHORT_MONTHS = 12
MONTH_NUMBER = "(EXTRACT(YEAR FROM {0} AT TIME ZONE 'UTC')::int * 12 + EXTRACT(MONTH FROM {0} AT TIME ZONE 'UTC')::int)"


def segment_parse(segment: str) -> tuple[str, str, str] | None:
    """`stage:active`, `value:high`, `loyalty:advocate`, `tag:vip` -> (kind, value, SQL selecting the segment's
    member ids, with the value as %(seg_value)s); "" -> None; anything else a 404 naming the known segments."""
    if not segment:
        return None
    kind, _, value = segment.partition(":")
    if kind == "tag" and Tag.objects.filter(code=value).exists():
        return kind, value, (f"SELECT mt.member_id FROM {MEMBER_TAGS} mt JOIN {TAGS} t ON t.id = mt.tag_id "
                             "WHERE t.code = %(seg_value)s")
    if kind not in SEGMENT_COLUMNS or value not in {v for v, _ in SEGMENT_CHOICES[kind]}:
        known = ", ".join(f"{k}:{v}" for k, choices in SEGMENT_CHOICES.items() for v, _ in choices)
        raise NotFound(f"Unknown segment {segment!r}.", fields={"segment": [f"One of {known}, or tag:<code>."]})
    return kind, value, f"SELECT member_id FROM {SEGMENTS} WHERE {SEGMENT_COLUMNS[kind]} = %(seg_value)s"


def period_bounds(period: str, day: date) -> tuple[date, date]:
    if period == MetricSnapshot.Period.DAY:
        return day, day + timedelta(days=1)
    if period == MetricSnapshot.Period.WEEK:
        start = day - timedelta(days=day.weekday())
        return start, start + timedelta(days=7)
    if period == MetricSnapshot.Period.MONTH:
        start = day.replace(day=1)
        return start, (start + timedelta(days=32)).replace(day=1)
    raise BadRequest(f"Unknown period {period!r}.", fields={"period": ["One of day, week, month."]})


def _instant(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _one(sql: str, params: dict) -> tuple:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


def _num(value) -> str | None:
    return None if value is None else str(value)


def programme_effect(*, end: date, months: int, store: str = "", segment: str = "") -> dict:
    """Spend per member-month in the `months` before joining (imported past orders) and after (the program's
    orders, net of refunds), for the members who joined at least `months` before `end` with past orders in the
    months before joining (formula in the module's docstring)."""
    if store:  # past orders carry no store
        return {"effect_months": months, "effect_members": 0, "spend_before_per_member_month": None,
                "spend_after_per_member_month": None, "programme_effect": None}
    seg = segment_parse(segment)
    p = {"end": _instant(end), "months": months, "seg_value": seg[1] if seg else None}
    in_segment = "AND m.id IN (" + seg[2] + ")" if seg else ""
    members, before, after = _one(f"""
        WITH cohort AS (
            SELECT m.id, m.joined_at FROM {MEMBERS} m
            WHERE m.joined_at + make_interval(months => %(months)s) <= %(end)s
              {in_segment}
              AND EXISTS (SELECT 1 FROM {HISTORY} h WHERE h.member_id = m.id AND h.occurred_at < m.joined_at
                          AND h.occurred_at >= m.joined_at - make_interval(months => %(months)s)))
        SELECT (SELECT COUNT(*) FROM cohort),
               (SELECT COALESCE(SUM(h.amount), 0) FROM {HISTORY} h JOIN cohort c ON c.id = h.member_id
                WHERE h.occurred_at < c.joined_at AND h.occurred_at >= c.joined_at - make_interval(months => %(months)s)),
               (SELECT COALESCE(SUM(o.amount - o.refunded_amount), 0) FROM {ORDERS} o JOIN cohort c ON c.id = o.member_id
                WHERE o.occurred_at >= c.joined_at AND o.occurred_at < c.joined_at + make_interval(months => %(months)s))
        """, p)
    return {"effect_months": months, "effect_members": members,
            "spend_before_per_member_month": _num(ratio(before, members * months)),
            "spend_after_per_member_month": _num(ratio(after, members * months)),
            "programme_effect": _num(ratio(after - before, before, 100, "0.1"))}


def _month_label(number: int) -> str:
    return f"{(number - 1) // 12:04d}-{(number - 1) % 12 + 1:02d}"


def cohort_retention(*, end: date, store: str = "", segment: str = "") -> list[dict]:
    """The retention of the COHORT_MONTHS monthly cohorts up to the month before `end` (formula in the module's
    docstring): per cohort its label, size, members with an order in month k since joining, and their share."""
    seg = segment_parse(segment)
    last = end.year * 12 + end.month - 1  # the month number of the period's last month (end is exclusive)
    first = last - COHORT_MONTHS + 1
    p = {"first": first, "last": last, "seg_value": seg[1] if seg else None, "store": store}
    in_segment = "AND m.id IN (" + seg[2] + ")" if seg else ""
    in_store = "AND o.store = %(store)s" if store else ""
    with connection.cursor() as cursor:
        cursor.execute(f"""
            SELECT {MONTH_NUMBER.format("m.joined_at")} AS cohort, COUNT(*) FROM {MEMBERS} m
            WHERE {MONTH_NUMBER.format("m.joined_at")} BETWEEN %(first)s AND %(last)s {in_segment}
            GROUP BY 1""", p)
        sizes = dict(cursor.fetchall())
        cursor.execute(f"""
            SELECT cohort, month - cohort AS k, COUNT(DISTINCT member_id) FROM (
                SELECT o.member_id, {MONTH_NUMBER.format("m.joined_at")} AS cohort,
                       {MONTH_NUMBER.format("o.occurred_at")} AS month
                FROM {MEMBERS} m JOIN {ORDERS} o ON o.member_id = m.id
                WHERE m.joined_at >= make_date((%(first)s - 1) / 12, (%(first)s - 1) %% 12 + 1, 1)::timestamp
                                      AT TIME ZONE 'UTC'
                  AND o.occurred_at >= m.joined_at AND o.amount > o.refunded_amount
                  AND o.occurred_at < make_date(%(last)s / 12, %(last)s %% 12 + 1, 1)::timestamp
                                      AT TIME ZONE 'UTC'
                  {in_store} {in_segment}) AS orders
            WHERE cohort BETWEEN %(first)s AND %(last)s
            GROUP BY 1, 2""", p)
        active = {(cohort, k): n for cohort, k, n in cursor.fetchall()}
    out = []
    for cohort in range(first, last + 1):
        size = sizes.get(cohort, 0)
        counts = [active.get((cohort, k), 0) for k in range(last - cohort + 1)]
        out.append({"cohort": _month_label(cohort), "members": size, "active": counts,
                    "retention": [_num(ratio(n, size, 100, "0.1")) for n in counts]})
    return out


def metrics_compute(*, start: date, end: date, store: str = "", segment: str = "", cohorts: bool = False) -> dict:
    """The metrics of [start, end) as a JSON-ready dict (decimals as strings; None where undefined); the cohorts'
    retention with `cohorts` (the monthly metrics), else None."""
    settings = InsightSettings.current()
    seg = segment_parse(segment)
    p = {"start": _instant(start), "end": _instant(end), "store": store,
         "window": timedelta(days=settings.active_days), "seg_value": seg[1] if seg else None}
    in_segment = "AND {alias}.member_id IN (" + seg[2] + ")" if seg else ""
    orders_where = ("o.store = %(store)s " if store else "TRUE ") + in_segment.format(alias="o")

    promoters, detractors, nps_answers, csat_ok, csat_answers, csat_mean, cli_mean, cli_answers = _one(f"""
        SELECT COUNT(*) FILTER (WHERE s.kind = 'nps' AND a.score >= 9), COUNT(*) FILTER (WHERE s.kind = 'nps' AND a.score <= 6),
               COUNT(*) FILTER (WHERE s.kind = 'nps'),
               COUNT(*) FILTER (WHERE s.kind = 'csat' AND a.score >= 4), COUNT(*) FILTER (WHERE s.kind = 'csat'),
               AVG(a.score) FILTER (WHERE s.kind = 'csat'), AVG(a.score) FILTER (WHERE s.kind = 'cli'),
               COUNT(*) FILTER (WHERE s.kind = 'cli')
        FROM {ANSWERS} a JOIN {SURVEYS} s ON s.id = a.survey_id
        WHERE a.answered_at >= %(start)s AND a.answered_at < %(end)s {in_segment.format(alias="a")}""", p)

    customers_start, customers_end, orders, revenue, buyers = _one(f"""
        SELECT COUNT(DISTINCT o.member_id) FILTER (WHERE o.occurred_at >= %(start)s - %(window)s
                                                     AND o.occurred_at < %(start)s),
               COUNT(DISTINCT o.member_id) FILTER (WHERE o.occurred_at >= %(end)s - %(window)s),
               COUNT(*) FILTER (WHERE o.occurred_at >= %(start)s),
               SUM(o.amount - o.refunded_amount) FILTER (WHERE o.occurred_at >= %(start)s),
               COUNT(DISTINCT o.member_id) FILTER (WHERE o.occurred_at >= %(start)s)
        FROM {ORDERS} o
        WHERE o.occurred_at >= LEAST(%(start)s - %(window)s, %(end)s - %(window)s) AND o.occurred_at < %(end)s
              AND {orders_where}""", p)

    (new_customers,) = _one(f"""
        SELECT COUNT(*) FROM {FACTS} f
        WHERE f.first_order_at >= %(start)s AND f.first_order_at < %(end)s {in_segment.format(alias="f")}""", p)

    many, one = _one(f"""
        SELECT COUNT(*) FILTER (WHERE products > 1), COUNT(*) FILTER (WHERE products = 1) FROM (
            SELECT o.member_id, COUNT(DISTINCT l.sku) AS products FROM {ORDERS} o JOIN {LINES} l ON l.order_id = o.id
            WHERE o.occurred_at >= %(start)s AND o.occurred_at < %(end)s AND {orders_where}
            GROUP BY o.member_id) AS per_buyer""", p)

    issued, redeemed, expired = _one(f"""
        SELECT COALESCE(SUM(t.points) FILTER (WHERE t.kind IN ('earn', 'bonus', 'gift')), 0),
               COALESCE(-SUM(t.points) FILTER (WHERE t.kind IN ('redeem', 'redeem_cancel', 'redeem_return')), 0),
               COALESCE(-SUM(t.points) FILTER (WHERE t.kind = 'expire'), 0)
        FROM {TXNS} t WHERE t.created_at >= %(start)s AND t.created_at < %(end)s {in_segment.format(alias="t")}""", p)

    (liability,) = _one(f"SELECT COALESCE(SUM(x.available + x.pending), 0) FROM {ACCOUNTS} x "
                        f"WHERE TRUE {in_segment.format(alias='x')}", p)

    return {
        "nps": _num(nps(promoters, detractors, nps_answers)), "nps_answers": nps_answers,
        "csat": _num(ratio(csat_ok, csat_answers, 100, "0.1")), "csat_mean": _num(
            None if csat_mean is None else Decimal(csat_mean).quantize(Decimal("0.01"))), "csat_answers": csat_answers,
        "cli": _num(None if cli_mean is None else Decimal(cli_mean).quantize(Decimal("0.01"))), "cli_answers": cli_answers,
        "customers_start": customers_start, "customers_end": customers_end, "new_customers": new_customers,
        "crr": _num(ratio(customers_end - new_customers, customers_start, 100, "0.1")),
        "ccr": _num(ratio(customers_start + new_customers - customers_end, customers_start + new_customers, 100, "0.1")),
        "active_members": customers_end,
        "orders": orders, "revenue": _num(revenue or Decimal("0.00")), "buyers": buyers,
        "average_order_value": _num(ratio(revenue or 0, orders)),
        "purchase_frequency": _num(ratio(orders, buyers)),
        "upsell_rate": _num(ratio(many, one)), "buyers_of_several_products": many, "buyers_of_one_product": one,
        "points_issued": int(issued), "points_redeemed": int(redeemed), "points_expired": int(expired),
        "redemption_rate": _num(ratio(redeemed, issued, 100, "0.1")), "breakage": _num(ratio(expired, issued, 100, "0.1")),
        "points_liability": int(liability),
        **programme_effect(end=end, months=max(settings.effect_months, 1), store=store, segment=segment),
        "cohorts": cohort_retention(end=end, store=store, segment=segment) if cohorts else None,
    }


def metrics_snapshot_take(*, period: str, day: date, store: str = "", segment: str = "",
                          now: datetime | None = None) -> MetricSnapshot:
    """Compute the metrics of the period `day` falls in and store them (replacing an earlier snapshot of it)."""
    start, end = period_bounds(period, day)
    values = metrics_compute(start=start, end=end, store=store, segment=segment,
                             cohorts=period == MetricSnapshot.Period.MONTH)
    snapshot, _ = MetricSnapshot.objects.update_or_create(
        period=period, start=start, store=store, segment=segment,
        defaults={"end": end, "values": values, "computed_at": now or timezone.now()})
    return snapshot


def metrics_snapshot_for(*, period: str, day: date, store: str = "", segment: str = "",
                         now: datetime | None = None) -> MetricSnapshot:
    """The stored snapshot of a period if it was taken after the period ended; else the metrics computed now and
    not stored (a read never writes: the nightly job stores the snapshots)."""
    segment_parse(segment)
    start, end = period_bounds(period, day)
    stored = MetricSnapshot.objects.filter(period=period, start=start, store=store, segment=segment).first()
    if stored is not None and stored.computed_at >= _instant(end):
        return stored
    return MetricSnapshot(period=period, start=start, end=end, store=store, segment=segment,
                          values=metrics_compute(start=start, end=end, store=store, segment=segment,
                                                 cohorts=period == MetricSnapshot.Period.MONTH),
                          computed_at=now or timezone.now())
