from decimal import Decimal

from loyalty.models import Account, Refund, Transaction


def earn(api, member, order_id="O-1", amount="100.00", **extra):
    r = api.post("/api/v1/orders", {"member": member.external_id, "order_id": order_id, "amount": amount,
                                    "currency": "EUR", **extra})
    assert r.status_code == 201, r.json()
    return r.json()


def refund(api, order_id, amount, idempotency_key=None, **extra):
    return api.post(f"/api/v1/orders/{order_id}/refunds", {"amount": amount, **extra}, idempotency_key=idempotency_key)


def account(member):
    return Account.objects.get(member=member)


def test_full_refund_takes_back_everything_the_order_earned(api, member):
    earn(api, member, amount="105.00")  # 10 points
    r = refund(api, "O-1", "105.00")
    assert r.status_code == 201, r.json()
    assert r.json()["points_taken"] == 10 and r.json()["shortfall"] == 0
    assert account(member).available == 0


def test_partial_refunds_are_proportional_and_add_up_to_the_whole(api, member):
    earn(api, member, amount="99.00")  # 9 points
    taken = [refund(api, "O-1", "33.00").json()["points_taken"] for _ in range(3)]
    assert sum(taken) == 9
    assert taken[0] == 3
    assert account(member).available == 0


def test_refund_after_points_were_spent_takes_what_is_available_and_records_the_shortfall(api, member):
    earn(api, member, order_id="O-1", amount="100.00")   # 10
    earn(api, member, order_id="O-2", amount="30.00")    # 3
    assert api.post("/api/v1/redemptions", {"member": member.external_id, "points": 12}).status_code == 201
    r = refund(api, "O-1", "100.00")
    body = r.json()
    assert (body["points_due"], body["points_taken"], body["shortfall"]) == (10, 1, 9)
    assert account(member).available == 0
    assert Refund.objects.filter(shortfall__gt=0).count() == 1  # in staff's review queue


def test_refund_replayed_takes_points_once(api, member):
    earn(api, member, amount="100.00")
    first = refund(api, "O-1", "50.00", idempotency_key="refund-1")
    again = refund(api, "O-1", "50.00", idempotency_key="refund-1")
    assert again.json() == first.json()
    assert Transaction.objects.filter(kind="refund").count() == 1
    assert account(member).available == 5


def test_refund_beyond_the_order_is_refused_and_changes_nothing(api, member):
    earn(api, member, amount="100.00")
    refund(api, "O-1", "60.00")
    r = refund(api, "O-1", "50.00")
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "refund_exceeds_order"
    assert account(member).available == 4
    assert Refund.objects.count() == 1


def test_refund_of_lines_takes_back_what_those_lines_earned(api, member):
    from loyalty.models import CategoryMultiplier

    CategoryMultiplier.objects.create(category="coffee", multiplier=Decimal("3"))
    earn(api, member, amount="100.00", lines=[{"sku": "C1", "category": "coffee", "amount": "50.00"},
                                             {"sku": "B1", "category": "books", "amount": "50.00"}])  # 15 + 5
    r = refund(api, "O-1", "50.00", lines=[{"sku": "C1", "amount": "50.00"}])
    assert r.json()["points_taken"] == 15
    assert account(member).available == 5


def test_refund_of_an_unknown_order_is_404(api):
    r = refund(api, "nope", "1.00")
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "order_not_found"


def test_refund_from_pending_points_lowers_pending(api, member, program):
    program.pending_days = 30
    program.save()
    earn(api, member, amount="100.00")
    refund(api, "O-1", "100.00")
    acc = account(member)
    assert (acc.available, acc.pending) == (0, 0)


def test_line_refunds_take_back_at_the_rate_the_order_earned_at(api, member, program):
    earn(api, member, amount="100.00", lines=[{"sku": "A", "amount": "10.00"}, {"sku": "B", "amount": "90.00"}])
    program.earn_amount = Decimal("1.00")  # staff change the rate afterwards
    program.save()
    r = refund(api, "O-1", "10.00", lines=[{"sku": "A", "amount": "10.00"}])
    assert r.json()["points_due"] == 1


def test_partial_refunds_leave_no_tier_credit_behind(api, member, program):
    from members.models import QualifyingActivity

    earn(api, member, amount="150.00")  # 15 points, all qualifying
    for _ in range(3):
        refund(api, "O-1", "33.33")
    refund(api, "O-1", "50.01")
    assert sum(QualifyingActivity.objects.filter(member=member).values_list("points", flat=True)) == 0
