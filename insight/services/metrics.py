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

A store narrows the orders (and the buyers); a segment (stage:active, value:high, loyalty:advocate) narrows the
members, by their segment as of the last nightly run. PostgreSQL only.
"""

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from django.db import connection
from django.utils import timezone

from core.errors import BadRequest, NotFound
from loyalty.models import Account, Order, OrderLine, Transaction

from ..models import InsightSettings, MemberFacts, MemberSegment, MemberTag, MetricSnapshot, Survey, SurveyAnswer, Tag
from ..rules import nps, ratio

SEGMENT_COLUMNS = {"stage": "stage", "value": "value_tier", "loyalty": "loyalty_type"}
SEGMENT_CHOICES = {"stage": MemberSegment._meta.get_field("stage").choices,
                   "value": MemberSegment._meta.get_field("value_tier").choices,
                   "loyalty": MemberSegment._meta.get_field("loyalty_type").choices}
ORDERS, LINES, TXNS = Order._meta.db_table, OrderLine._meta.db_table, Transaction._meta.db_table
ANSWERS, SURVEYS, FACTS = SurveyAnswer._meta.db_table, Survey._meta.db_table, MemberFacts._meta.db_table
SEGMENTS, ACCOUNTS = MemberSegment._meta.db_table, Account._meta.db_table
MEMBER_TAGS, TAGS = MemberTag._meta.db_table, Tag._meta.db_table


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


def metrics_compute(*, start: date, end: date, store: str = "", segment: str = "") -> dict:
    """The metrics of [start, end) as a JSON-ready dict (decimals as strings; None where undefined)."""
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
    }


def metrics_snapshot_take(*, period: str, day: date, store: str = "", segment: str = "",
                          now: datetime | None = None) -> MetricSnapshot:
    """Compute the metrics of the period `day` falls in and store them (replacing an earlier snapshot of it)."""
    start, end = period_bounds(period, day)
    values = metrics_compute(start=start, end=end, store=store, segment=segment)
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
                          values=metrics_compute(start=start, end=end, store=store, segment=segment),
                          computed_at=now or timezone.now())
