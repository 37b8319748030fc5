"""Survey answers and orders at once, with real threads and their own connections against PostgreSQL."""

from collections import Counter
from decimal import Decimal

import pytest

from insight.models import MemberFacts, Survey, SurveyAnswer
from loyalty.models import Transaction
from tests.loyalty.test_concurrency import post, run_together

pytestmark = pytest.mark.django_db(transaction=True)


def test_ten_answers_at_once_under_different_keys_record_one_and_pay_once(api, member):
    Survey.objects.create(code="nps", kind=Survey.Kind.NPS, period=Survey.Period.YEAR, reward_points=50)
    results = run_together(10, lambda i: post(api, f"/api/v1/members/{member.external_id}/survey-answers",
                                              {"survey": "nps", "score": i}, f"answer-{i}"))
    assert Counter(status for status, _, _ in results) == {201: 1, 200: 9}
    first = next(body for status, body, _ in results if status == 201)
    assert all(body["id"] == first["id"] for _, body, _ in results)
    assert SurveyAnswer.objects.count() == 1
    assert list(Transaction.objects.filter(member=member).values_list("kind", "points")) == [("gift", 50)]


def test_orders_at_once_are_all_counted_in_the_facts(api, member):
    results = run_together(8, lambda i: post(api, "/api/v1/orders", {
        "member": member.external_id, "order_id": f"P{i}", "amount": "10.00", "currency": "EUR",
        "lines": [{"sku": f"s{i}", "category": f"c{i % 3}", "amount": "10.00", "quantity": 1}]}, f"order-{i}"))
    assert [status for status, _, _ in results] == [201] * 8
    facts = MemberFacts.objects.get(member=member)
    assert (facts.orders_count, facts.spend, facts.categories) == (8, Decimal("80.00"), ["c0", "c1", "c2"])
