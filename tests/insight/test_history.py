"""A shop's past orders, imported for the facts and segments without a single point."""

from datetime import UTC, datetime
from decimal import Decimal

from insight.models import HistoricalOrder, MemberFacts
from insight.services import segments_compute
from loyalty.models import Transaction


def history(api, orders, **kwargs):
    return api.post("/api/v1/order-history", {"orders": orders}, **kwargs)


def test_past_orders_fill_the_facts_once_and_earn_nothing(api, member_factory):
    old = member_factory(joined_at=datetime(2026, 1, 1, tzinfo=UTC))
    rows = [
        {"member": old.external_id, "order_id": "H1", "amount": "80.00", "occurred_at": "2024-03-01T10:00:00Z",
         "categories": ["tea"]},
        {"member": old.external_id, "order_id": "H2", "amount": "40.00", "occurred_at": "2024-09-01T10:00:00Z",
         "categories": ["tea", "cups"]},
    ]
    first = history(api, rows)
    assert first.status_code == 201 and first.json() == {"imported": 2, "skipped": 0}
    # The same file again under a new key: nothing twice.
    again = history(api, rows)
    assert again.status_code == 201 and again.json() == {"imported": 0, "skipped": 2}
    facts = MemberFacts.objects.get(member=old)
    assert (facts.orders_count, facts.spend, facts.categories) == (2, Decimal("120.00"), ["cups", "tea"])
    assert facts.first_order_at.year == 2024 and facts.mean_days_between_orders == 184.0
    assert not Transaction.objects.filter(member=old).exists()
    # A live order after the import counts on top of the history; the member is no prospect.
    assert api.post("/api/v1/orders", {"member": old.external_id, "order_id": "L1", "amount": "30.00",
                                       "currency": "EUR"}).status_code == 201
    facts.refresh_from_db()
    assert (facts.orders_count, facts.spend) == (3, Decimal("150.00"))
    segments_compute()
    assert old.segment.stage == "active"
    # An order id the program already recorded is skipped, not counted twice.
    live = history(api, [{"member": old.external_id, "order_id": "L1", "amount": "30.00",
                          "occurred_at": "2024-01-01T00:00:00Z"}])
    assert live.json() == {"imported": 0, "skipped": 1}


def test_a_bad_row_imports_nothing(api, member):
    r = history(api, [
        {"member": member.external_id, "order_id": "H1", "amount": "10.00", "occurred_at": "2024-03-01T10:00:00Z"},
        {"member": "nobody", "order_id": "H2", "amount": "10.00", "occurred_at": "2024-03-01T10:00:00Z"},
        {"member": member.external_id, "order_id": "H3", "amount": "10.00", "occurred_at": "2999-01-01T00:00:00Z"},
    ])
    assert r.status_code == 422
    assert set(r.json()["error"]["fields"]["orders"]) == {"1", "2"}
    bad_amount = history(api, [{"member": member.external_id, "order_id": "H1", "amount": "-5",
                                "occurred_at": "2024-03-01T10:00:00Z"}])
    assert bad_amount.status_code == 400 and history(api, []).status_code == 400
    assert not HistoricalOrder.objects.exists() and not MemberFacts.objects.exists()
