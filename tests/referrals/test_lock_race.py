"""A referral attached between the moment an order decides whom to lock and the moment it locks them."""

from config import earn_set
from loyalty.models import Order
from referrals import services as referral_services
from referrals.services import referral_attach


def test_an_order_racing_a_referral_attach_is_a_conflict_to_retry_not_a_500(api, referral_program, member_factory,
                                                                             code_of, monkeypatch):
    referrer, new = member_factory(), member_factory()
    read_parties = referral_services.referral_parties

    def read_then_attach(*, member_id):
        parties = read_parties(member_id=member_id)  # no referral yet: only the member is locked
        referral_attach(member=new, code=code_of(referrer))  # meanwhile the shop attaches a code
        return parties

    monkeypatch.setattr("config.flows.referrals.referral_parties", read_then_attach)
    read_orders = earn_set.earn_read

    def read_orders_then_attach(**kwargs):  # the same race on the set-based earn (config.earn_set)
        read = read_orders(**kwargs)
        referral_attach(member=new, code=code_of(referrer))
        return read

    monkeypatch.setattr("config.earn_set.earn_read", read_orders_then_attach)
    body = {"member": new.external_id, "order_id": "X1", "amount": "50.00", "currency": "EUR"}
    r = api.post("/api/v1/orders", body, idempotency_key="race-1")

    assert r.status_code == 409 and r.json()["error"]["code"] == "referral_changed"
    assert not Order.objects.exists()
    monkeypatch.undo()
    assert api.post("/api/v1/orders", body, idempotency_key="race-1").status_code == 201  # sent again, it goes through
