"""The nightly segments: lifecycle stage, RFM scores and value tier, loyalty type; every change of stage recorded.

Set-based, in keyset batches of member ids, each batch one SQL statement in its own transaction, so memory stays
flat and a run that dies can simply run again (a rerun the same day records no change twice: a change is
recorded only where the stored stage differs). The RFM cut points are computed once per run, over all members
with orders. PostgreSQL only (the production database).

Rules (thresholds in InsightSettings, README "Insight"):
- stage: prospect (潜在客户) never ordered; new (新客户) ordered and joined within new_days; active (活跃客户) last order
  within active_days, or won back (回流客户) if the stored stage was dormant, churned or won back; dormant (沉睡客户)
  last order within churned_days; churned (流失客户) beyond.
- RFM: 1-5 per quintile of last order time, net orders and spend (5 = latest, most, highest); 0 without orders.
  Value tier: R+F+M >= 12 high (高价值), >= 8 general (一般价值), else low (低价值); none without orders.
- loyalty type (忠诚度二维模型): behavioural loyalty = at least repeat_orders net orders, at least repeat_per_year
  orders a year since the first, and stage new, active or won back; attitudinal loyalty = last NPS >= promoter_nps,
  or last CLI >= loyal_cli, or at least advocate_referrals successful referrals made. Both and the referrals:
  advocate (狂热型忠诚/倡导者); both: committed (坚定型忠诚); behavioural only: mercenary (雇佣型忠诚) when at least
  mercenary_share of the orders were paid with points, else inertia (惯性型忠诚); attitudinal only: latent
  (潜在忠诚); neither: none (不忠诚).
"""

import math
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.utils import timezone

from members.models import Member
from referrals.models import Referral

from ..models import InsightSettings, MemberFacts, MemberSegment, StageChange

MEMBERS, FACTS = Member._meta.db_table, MemberFacts._meta.db_table
SEGMENTS, CHANGES, REFERRALS = MemberSegment._meta.db_table, StageChange._meta.db_table, Referral._meta.db_table
NET_ORDERS = "(f.orders_count - f.refunded_orders)"
SUCCESSFUL_REFERRALS = [Referral.Status.QUALIFIED.value, Referral.Status.REWARDED.value]


def _score(name: str, column: str, cuts: list) -> str:
    """1 + how many quintile cut points the value is above, as SQL; 0 when there are no cut points (no orders)."""
    if not cuts:
        return "0"
    return "1 + " + " + ".join(f"({column} > %(cut_{name}_{k})s)::int" for k in range(len(cuts)))


def quintile_cuts(expression: str) -> list:
    """The values at the 20/40/60/80% ranks among members with orders (ceil(n*k/5)-th smallest)."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {FACTS} f WHERE f.orders_count > 0")
        n = cursor.fetchone()[0]
        if not n:
            return []
        cuts = []
        for k in range(1, 5):
            cursor.execute(f"SELECT {expression} FROM {FACTS} f WHERE f.orders_count > 0 ORDER BY 1 "
                           "LIMIT 1 OFFSET %s", [math.ceil(n * k / 5) - 1])
            cuts.append(cursor.fetchone()[0])
        return cuts


_BATCH = """
WITH batch AS (
    SELECT m.id AS member_id, m.joined_at, f.first_order_at, f.last_order_at,
           COALESCE({net}, 0) AS net_orders, COALESCE(f.orders_count, 0) AS orders_count,
           COALESCE(f.redeemed_orders, 0) AS redeemed_orders, COALESCE(f.spend, 0) AS spend, f.last_nps, f.last_cli,
           s.stage AS old_stage, s.stage_since AS old_since,
           (SELECT COUNT(*) FROM {referrals} rr WHERE rr.referrer_id = m.id AND rr.status = ANY(%(referred)s))
               AS referrals
    FROM {members} m LEFT JOIN {facts} f ON f.member_id = m.id LEFT JOIN {segments} s ON s.member_id = m.id
    WHERE m.id > %(after)s AND m.id <= %(upto)s
), staged AS (
    SELECT b.*,
        CASE WHEN b.last_order_at IS NULL THEN 'prospect'
             WHEN b.joined_at >= %(new_cut)s THEN 'new'
             WHEN b.last_order_at >= %(active_cut)s THEN
                 CASE WHEN b.old_stage IN ('dormant', 'churned', 'won_back') THEN 'won_back' ELSE 'active' END
             WHEN b.last_order_at >= %(churn_cut)s THEN 'dormant'
             ELSE 'churned' END AS stage,
        CASE WHEN b.last_order_at IS NULL THEN 0 ELSE {r_score} END AS r,
        CASE WHEN b.last_order_at IS NULL THEN 0 ELSE {f_score} END AS f,
        CASE WHEN b.last_order_at IS NULL THEN 0 ELSE {m_score} END AS m,
        (b.last_nps >= %(promoter_nps)s OR b.last_cli >= %(loyal_cli)s OR b.referrals >= %(advocate_referrals)s)
            IS TRUE AS attitudinal
    FROM batch b
), typed AS (
    SELECT st.*,
        CASE WHEN st.last_order_at IS NULL THEN 'none' WHEN st.r + st.f + st.m >= 12 THEN 'high'
             WHEN st.r + st.f + st.m >= 8 THEN 'general' ELSE 'low' END AS value_tier,
        (st.stage IN ('new', 'active', 'won_back') AND st.net_orders >= %(repeat_orders)s
         AND st.net_orders * 31557600.0 >= %(repeat_per_year)s
             * GREATEST(EXTRACT(EPOCH FROM (%(now)s - st.first_order_at)), 86400)) AS behavioural
    FROM staged st
), placed AS (
    SELECT t.*,
        CASE WHEN t.behavioural AND t.attitudinal AND t.referrals >= %(advocate_referrals)s THEN 'advocate'
             WHEN t.behavioural AND t.attitudinal THEN 'committed'
             WHEN t.behavioural AND t.redeemed_orders >= %(mercenary_share)s * t.orders_count THEN 'mercenary'
             WHEN t.behavioural THEN 'inertia'
             WHEN t.attitudinal THEN 'latent'
             ELSE 'none' END AS loyalty_type
    FROM typed t
), changes AS (
    INSERT INTO {changes} (member_id, from_stage, to_stage, changed_at)
    SELECT member_id, COALESCE(old_stage, ''), stage, %(now)s FROM placed WHERE old_stage IS DISTINCT FROM stage
    RETURNING 1
), upserted AS (
    INSERT INTO {segments} AS s (member_id, stage, stage_since, recency, frequency, monetary, value_tier,
                                 loyalty_type, computed_on)
    SELECT member_id, stage, CASE WHEN old_stage = stage THEN old_since ELSE %(now)s END, r, f, m, value_tier,
           loyalty_type, %(now)s
    FROM placed
    ON CONFLICT (member_id) DO UPDATE SET stage = EXCLUDED.stage, stage_since = EXCLUDED.stage_since,
        recency = EXCLUDED.recency, frequency = EXCLUDED.frequency, monetary = EXCLUDED.monetary,
        value_tier = EXCLUDED.value_tier, loyalty_type = EXCLUDED.loyalty_type, computed_on = EXCLUDED.computed_on
    RETURNING 1
)
SELECT (SELECT COUNT(*) FROM upserted), (SELECT COUNT(*) FROM changes)
"""


def segments_compute(*, now: datetime | None = None, batch_size: int = 5000) -> dict[str, int]:
    """Recompute every member's segments as of `now`; returns counts of members, stage changes and batches."""
    now = now or timezone.now()
    settings = InsightSettings.current()
    cuts = {"r": quintile_cuts("f.last_order_at"), "f": quintile_cuts(NET_ORDERS), "m": quintile_cuts("f.spend")}
    columns = {"r": "b.last_order_at", "f": "b.net_orders", "m": "b.spend"}
    params = {
        "now": now, "new_cut": now - timedelta(days=settings.new_days),
        "active_cut": now - timedelta(days=settings.active_days),
        "churn_cut": now - timedelta(days=settings.churned_days),
        "promoter_nps": settings.promoter_nps, "loyal_cli": settings.loyal_cli,
        "advocate_referrals": settings.advocate_referrals, "repeat_orders": settings.repeat_orders,
        "repeat_per_year": settings.repeat_per_year, "mercenary_share": settings.mercenary_share,
        "referred": SUCCESSFUL_REFERRALS,
    }
    scores = {}
    for name, values in cuts.items():
        scores[f"{name}_score"] = _score(name, columns[name], values)
        params.update({f"cut_{name}_{k}": value for k, value in enumerate(values)})
    sql = _BATCH.format(net=NET_ORDERS, referrals=REFERRALS, members=MEMBERS, facts=FACTS, segments=SEGMENTS,
                        changes=CHANGES, **scores)
    stats = {"members": 0, "stage_changes": 0, "batches": 0}
    last = 0
    while True:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT MAX(id) FROM (SELECT id FROM {MEMBERS} WHERE id > %s ORDER BY id LIMIT %s) AS b",
                           [last, batch_size])
            upto = cursor.fetchone()[0]
        if upto is None:
            return stats
        with transaction.atomic(durable=True), connection.cursor() as cursor:
            cursor.execute(sql, {**params, "after": last, "upto": upto})
            members, changes = cursor.fetchone()
        stats["members"] += members
        stats["stage_changes"] += changes
        stats["batches"] += 1
        last = upto
