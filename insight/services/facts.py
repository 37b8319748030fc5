"""A member's facts, kept up to date by the order flows in their transaction, under the member's ledger lock
(config.flows): each order and refund changes a few counters in one statement (O(1)); nothing rescans the
member's history.

- first/last order: the earliest and latest `occurred_at` seen (a late or imported order may come out of order);
- orders_count: orders placed; refunded_orders: of those, refunded in full; the net orders are the difference;
- spend: order amounts less refunded amounts; average order value = spend / net orders;
- categories: the distinct categories of the order lines (a short list: a shop has few categories);
- mean days between orders = (last - first) / (orders_count - 1);
- redeemed_orders: orders that points paid for (part of) at checkout, for the loyalty types (雇佣型忠诚).

Facts start with the first order recorded after this app was installed.
"""

from decimal import Decimal

from django.db import connection
from django.db.models import Case, F, Value, When
from django.utils import timezone

from loyalty.locks import account_locked
from loyalty.models import Order, Refund
from rewards.models import Redemption

from ..models import HistoricalOrder, MemberFacts

FACTS = MemberFacts._meta.db_table
REDEMPTIONS = Redemption._meta.db_table
PAID_WITH_POINTS = [Redemption.Status.HELD.value, Redemption.Status.COMPLETED.value]

_MERGED = ("(SELECT COALESCE(jsonb_agg(DISTINCT c ORDER BY c), '[]'::jsonb) FROM (SELECT jsonb_array_elements_text("
           "f.categories) UNION SELECT jsonb_array_elements_text(EXCLUDED.categories)) AS s(c))")
ORDERS_UPSERT = f"""
    INSERT INTO {FACTS} AS f (member_id, first_order_at, last_order_at, orders_count, refunded_orders, redeemed_orders,
                              spend, categories, categories_count, updated_at)
    SELECT o.member_id, min(o.at), max(o.at), count(*), 0,
           count(*) FILTER (WHERE EXISTS (SELECT 1 FROM {REDEMPTIONS} r WHERE r.channel_id = o.channel
                                          AND r.order_id = o.order_id AND r.kind = 'checkout'
                                          AND r.status = ANY(%(f_paid)s::text[]))),
           sum(o.amount), c.cats, jsonb_array_length(c.cats), %(now)s
    FROM unnest(%(f_member)s::bigint[], %(f_at)s::timestamptz[], %(f_amount)s::numeric[], %(f_channel)s::bigint[],
                %(f_order)s::text[]) AS o(member_id, at, amount, channel, order_id)
    CROSS JOIN LATERAL (SELECT COALESCE(jsonb_agg(DISTINCT x ORDER BY x), '[]'::jsonb) AS cats
                        FROM unnest(%(f_cat_member)s::bigint[], %(f_cat)s::text[]) AS k(member_id, x)
                        WHERE k.member_id = o.member_id) AS c
    GROUP BY o.member_id, c.cats
    ON CONFLICT (member_id) DO UPDATE SET
        first_order_at = LEAST(f.first_order_at, EXCLUDED.first_order_at),
        last_order_at = GREATEST(f.last_order_at, EXCLUDED.last_order_at),
        orders_count = f.orders_count + EXCLUDED.orders_count,
        redeemed_orders = f.redeemed_orders + EXCLUDED.redeemed_orders,
        spend = f.spend + EXCLUDED.spend,
        categories = {_MERGED},
        categories_count = jsonb_array_length({_MERGED}),
        updated_at = EXCLUDED.updated_at
"""


def orders_facts_params(orders: list[tuple[int, object, Decimal, int, str, list[str]]]) -> dict:
    """The parameters of ORDERS_UPSERT (one statement for any number of orders, several of one member alike) for
    (member id, occurred at, amount, channel id, order id, categories) per order."""
    cats = [(order[0], c) for order in orders for c in sorted({c for c in order[5] if c})]
    return {"f_member": [o[0] for o in orders], "f_at": [o[1] for o in orders], "f_amount": [o[2] for o in orders],
            "f_channel": [o[3] for o in orders], "f_order": [o[4] for o in orders], "f_paid": PAID_WITH_POINTS,
            "f_cat_member": [c[0] for c in cats], "f_cat": [c[1] for c in cats]}


def member_facts_record_order(*, order: Order | HistoricalOrder, categories: list[str]) -> None:
    """Count a new order (with the categories of its lines), or an imported past one, in its member's facts."""
    account_locked(order.member_id)  # asserts the caller (a flow) holds the member's lock
    categories = sorted({c for c in categories if c})
    if connection.vendor == "postgresql":  # one statement on the hot path
        with connection.cursor() as cursor:
            cursor.execute(ORDERS_UPSERT, {"now": timezone.now(), **orders_facts_params(
                [(order.member_id, order.occurred_at, order.amount, order.channel_id, order.order_id, categories)])})
        return
    # Elsewhere (local runs on SQLite) the same in three queries, safe under the member's lock.
    facts = MemberFacts.objects.filter(member_id=order.member_id).first() or MemberFacts(member_id=order.member_id)
    at = order.occurred_at
    facts.first_order_at = min(facts.first_order_at, at) if facts.first_order_at else at
    facts.last_order_at = max(facts.last_order_at, at) if facts.last_order_at else at
    facts.orders_count += 1
    facts.spend += order.amount
    merged = set(facts.categories) | set(categories)
    facts.categories, facts.categories_count = sorted(merged), len(merged)
    facts.redeemed_orders += Redemption.objects.filter(channel_id=order.channel_id, order_id=order.order_id,
                                                       kind=Redemption.Kind.CHECKOUT, status__in=PAID_WITH_POINTS).exists()
    facts.save(force_insert=facts._state.adding)


def member_facts_record_refund(*, order: Order, refund: Refund) -> None:
    """Take a refund off its member's facts (after the ledger recorded it on the order): one UPDATE."""
    account_locked(order.member_id)
    MemberFacts.objects.filter(member_id=order.member_id).update(
        spend=Case(When(spend__gt=refund.amount, then=F("spend") - refund.amount), default=Value(Decimal("0"))),
        refunded_orders=F("refunded_orders") + (1 if order.refunded_amount >= order.amount else 0),
        updated_at=timezone.now())
