"""A member's facts follow their orders and refunds as they come, in the order flows' transaction."""

from decimal import Decimal

from insight.models import MemberFacts


def order(api, member, order_id, amount, at, categories=()):
    lines = [{"sku": f"{order_id}-{c}", "category": c, "amount": "1.00", "quantity": 1} for c in categories]
    r = api.post("/api/v1/orders", {"member": member.external_id, "order_id": order_id, "amount": amount,
                                    "currency": "EUR", "occurred_at": at, "lines": lines})
    assert r.status_code == 201, r.json()
    return r


def test_orders_and_refunds_keep_the_facts(api, member):
    order(api, member, "A", "100.00", "2026-01-10T10:00:00Z", ["shoes", "socks"])
    order(api, member, "C", "60.00", "2026-03-11T10:00:00Z", ["socks"])
    order(api, member, "B", "20.00", "2026-02-01T10:00:00Z", ["hats"])  # arrives late, out of order
    facts = MemberFacts.objects.get(member=member)
    assert facts.first_order_at.isoformat() == "2026-01-10T10:00:00+00:00"
    assert facts.last_order_at.isoformat() == "2026-03-11T10:00:00+00:00"
    assert (facts.orders_count, facts.spend, facts.average_order_value) == (3, Decimal("180.00"), Decimal("60.00"))
    assert (facts.categories, facts.categories_count) == (["hats", "shoes", "socks"], 3)
    assert facts.mean_days_between_orders == 30.0  # 60 days over two gaps

    assert api.post("/api/v1/orders/A/refunds", {"amount": "40.00"}).status_code == 201
    facts.refresh_from_db()
    assert (facts.spend, facts.net_orders, facts.average_order_value) == (Decimal("140.00"), 3, Decimal("46.67"))

    assert api.post("/api/v1/orders/B/refunds", {}).status_code == 201  # the rest of B: refunded in full
    facts.refresh_from_db()
    assert (facts.spend, facts.refunded_orders, facts.net_orders) == (Decimal("120.00"), 1, 2)
    assert facts.average_order_value == Decimal("60.00")


def test_a_refused_order_or_refund_leaves_the_facts_alone(api, member):
    order(api, member, "A", "100.00", "2026-01-10T10:00:00Z")
    dup = api.post("/api/v1/orders", {"member": member.external_id, "order_id": "A", "amount": "5.00",
                                      "currency": "EUR"})
    too_much = api.post("/api/v1/orders/A/refunds", {"amount": "500.00"})
    assert dup.status_code == 409 and too_much.status_code == 422
    facts = MemberFacts.objects.get(member=member)
    assert (facts.orders_count, facts.spend, facts.refunded_orders) == (1, Decimal("100.00"), 0)
