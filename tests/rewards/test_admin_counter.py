"""The counter: a clerk serves a member at the till from the member's page."""

import uuid
from decimal import Decimal

import pytest

from config import flows
from core.models import AuditLog
from loyalty.models import Order, Transaction
from loyalty.selectors import balance_get
from loyalty.services.ledger import channel_id
from rewards.models import Redemption
from rewards.services import reward_redeem
from tests import office

pytestmark = pytest.mark.django_db
clerk, manager = office.clerk, office.manager  # fixtures


def redeem(member, reward, quantity=1) -> Redemption:
    from django.db import transaction

    with transaction.atomic():
        return reward_redeem(member=member, reward_code=reward.code, channel_id=channel_id("admin"),
                             idempotency_key=uuid.uuid4().hex, quantity=quantity)


def page_of(client, member) -> str:
    return client.get(f"/admin/members/member/{member.pk}/change/").content.decode()


def test_a_clerk_records_a_walk_in_purchase_and_the_member_earns(client, clerk, member):
    client.force_login(clerk)
    assert "Record a purchase" in page_of(client, member)
    url = f"/admin/members/member/{member.pk}/purchase/"
    assert client.get(url).status_code == 200
    r = client.post(url, {"amount": "123.45", "order_id": "R-1001", "store": "Main street", "key": "k1"}, follow=True)
    assert "Purchase R-1001 recorded: 12 points." in r.content.decode()
    order = Order.objects.get()
    assert (order.order_id, order.amount, order.currency, order.points_earned) == ("R-1001", Decimal("123.45"), "EUR", 12)
    assert AuditLog.objects.get(action="order.walk_in").actor == clerk
    r = client.post(url, {"amount": "10", "order_id": "R-1001", "key": "k2"})  # the same receipt again
    assert "was already recorded" in r.content.decode()
    assert Order.objects.count() == 1


def test_a_clerk_checks_then_uses_a_voucher_once(client, clerk, member, give, rules, coffee):
    give(member, 1000)
    voucher = redeem(member, coffee).vouchers.get()
    client.force_login(clerk)
    url = f"/admin/members/member/{member.pk}/voucher/"
    r = client.post(url, {"code": voucher.code.lower().replace("-", " ")})
    assert "Valid voucher" in r.content.decode() and "Free coffee" in r.content.decode()
    voucher.refresh_from_db()
    assert voucher.status == "issued"  # checking does not use it
    r = client.post(url, {"code": voucher.code, "use": "1", "order_id": "R-7"}, follow=True)
    assert f"Voucher {voucher.code} used" in r.content.decode()
    voucher.refresh_from_db()
    assert voucher.status == "redeemed" and voucher.redeemed_order_id == "R-7"
    r = client.post(url, {"code": voucher.code, "use": "1"})
    assert "Used on" in r.content.decode()


def test_a_voucher_of_another_member_is_refused(client, clerk, member, member_factory, give, rules, coffee):
    other = member_factory()
    give(other, 1000)
    voucher = redeem(other, coffee).vouchers.get()
    client.force_login(clerk)
    r = client.post(f"/admin/members/member/{member.pk}/voucher/", {"code": voucher.code, "use": "1"})
    assert "belongs to another member" in r.content.decode()
    voucher.refresh_from_db()
    assert voucher.status == "issued"


def test_voiding_the_only_voucher_of_a_redemption_gives_the_points_back(client, clerk, member, give, rules, coffee):
    give(member, 1000)
    voucher = redeem(member, coffee).vouchers.get()
    assert balance_get(member=member).available == 700
    client.force_login(clerk)
    page = page_of(client, member)
    void_url = f"/admin/members/member/{member.pk}/vouchers/{voucher.pk}/void/"
    assert void_url in page
    assert "300" in client.get(void_url).content.decode()
    assert client.post(void_url, {"reason": " ", "key": "v1"}).status_code == 200  # a reason is required
    r = client.post(void_url, {"reason": "Customer changed their mind", "key": "v1"}, follow=True)
    assert "300 points given back" in r.content.decode()
    voucher.refresh_from_db()
    assert voucher.status == "void"
    assert balance_get(member=member).available == 1000
    cancel = Transaction.objects.get(kind="redeem_cancel")
    assert cancel.reason == "Customer changed their mind" and cancel.actor == clerk
    assert AuditLog.objects.get(action="voucher.void_and_refund").details["reason"] == "Customer changed their mind"


def test_voiding_one_of_two_vouchers_gives_nothing_back_until_the_last(client, clerk, member, give, rules, coffee):
    give(member, 1000)
    first, second = redeem(member, coffee, quantity=2).vouchers.order_by("pk")
    client.force_login(clerk)
    r = client.get(f"/admin/members/member/{member.pk}/vouchers/{first.pk}/void/")
    assert "No points come back" in r.content.decode()
    client.post(f"/admin/members/member/{member.pk}/vouchers/{first.pk}/void/", {"reason": "Damaged", "key": "a"})
    first.refresh_from_db()
    assert (first.status, first.void_reason) == ("void", "Damaged")
    assert balance_get(member=member).available == 400
    client.post(f"/admin/members/member/{member.pk}/vouchers/{second.pk}/void/", {"reason": "Both gone", "key": "b"})
    assert balance_get(member=member).available == 1000


def test_a_clerk_cancels_a_redemption_and_the_points_come_back(client, clerk, member, give, rules, mug):
    give(member, 1000)
    redemption = redeem(member, mug)
    client.force_login(clerk)
    url = f"/admin/members/member/{member.pk}/redemptions/{redemption.pk}/cancel/"
    assert url in page_of(client, member)
    r = client.post(url, {"reason": "Out of stock at the store", "key": "c1"}, follow=True)
    assert "500 points given back" in r.content.decode()
    redemption.refresh_from_db()
    assert redemption.status == "cancelled"
    assert balance_get(member=member).available == 1000
    r = client.post(url, {"reason": "again", "key": "c2"})
    assert "cannot be cancelled" in r.content.decode()
    assert balance_get(member=member).available == 1000


def test_a_user_without_the_counter_permissions_sees_no_counter_buttons(client, member, program, give, rules, mug,
                                                                        django_user_model):
    from django.contrib.auth.models import Permission

    give(member, 1000)
    redemption = redeem(member, mug)
    viewer = django_user_model.objects.create_user("viewer", password="pw", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_member"))
    client.force_login(viewer)
    page = page_of(client, member)
    for label in ("Record a purchase", "Use a voucher", "Adjust points", "Change status", "/cancel/"):
        assert label not in page
    for url in (f"/admin/members/member/{member.pk}/purchase/", f"/admin/members/member/{member.pk}/voucher/",
                f"/admin/members/member/{member.pk}/redemptions/{redemption.pk}/cancel/"):
        assert client.post(url, {"amount": "10", "order_id": "x", "key": "k", "reason": "r"}).status_code == 403
    assert not Order.objects.exists()


def test_the_flow_refuses_a_voucher_already_used(member, give, rules, coffee):
    # The page's "cancel" is the flow's: a used voucher keeps its redemption (its points are not given back).
    give(member, 1000)
    redemption = redeem(member, coffee)
    from rewards.services import voucher_redeem

    voucher_redeem(code=redemption.vouchers.get().code, channel_id=channel_id("admin"))
    from django.db import transaction

    from core.errors import Conflict

    with pytest.raises(Conflict), transaction.atomic():
        flows.redemption_cancel(redemption_id=redemption.pk, channel_id=redemption.channel_id,
                                idempotency_key="x", reason="r")
    assert balance_get(member=member).available == 700
