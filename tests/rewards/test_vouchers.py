from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth.models import Group, User
from django.utils import timezone

from core.models import AuditLog
from rewards.models import Voucher

pytestmark = pytest.mark.usefixtures("rules")


@pytest.fixture
def voucher(api, member, give, coffee):
    give(member, 300)
    return api.post("/api/v1/redemptions", {"member": member.external_id, "reward": "coffee"}).json()["vouchers"][0]


def test_validate_does_not_use_the_voucher(api, voucher):
    body = api.get(f"/api/v1/vouchers/{voucher['code']}").json()
    assert body["valid"] is True and body["status"] == "issued" and body["product_sku"] == "COF-1"
    assert api.get(f"/api/v1/vouchers/{voucher['code'].lower().replace('-', '')}").json()["valid"] is True
    assert Voucher.objects.get().status == "issued"


def test_redeem_once_then_409(api, voucher):
    r = api.post(f"/api/v1/vouchers/{voucher['code']}/redeem", {"store": "Berlin-1", "order_id": "POS-9"})
    assert r.status_code == 200 and r.json()["status"] == "redeemed"
    again = api.post(f"/api/v1/vouchers/{voucher['code']}/redeem", {})
    assert again.status_code == 409 and again.json()["error"]["code"] == "voucher_already_redeemed"
    body = api.get(f"/api/v1/vouchers/{voucher['code']}").json()
    assert body["valid"] is False and body["reason"]["code"] == "voucher_already_redeemed"


def test_expired_voucher_is_refused(api, voucher):
    with time_machine.travel(timezone.now() + timedelta(days=31)):
        r = api.post(f"/api/v1/vouchers/{voucher['code']}/redeem", {})
    assert r.status_code == 422 and r.json()["error"]["code"] == "voucher_expired"


def test_voided_by_staff_in_the_admin(client, api, voucher, db):
    manager = User.objects.create_user("m", is_staff=True)
    manager.groups.add(Group.objects.get(name="Manager"))
    client.force_login(manager)
    v = Voucher.objects.get()
    r = client.post(f"/admin/members/member/{v.member_id}/vouchers/{v.pk}/void/",
                    {"reason": "Printed by mistake", "key": "k"}, follow=True)
    assert r.status_code == 200
    assert Voucher.objects.get().status == "void"
    assert AuditLog.objects.filter(action="voucher.void_and_refund", actor=manager).exists()
    r = api.post(f"/api/v1/vouchers/{voucher['code']}/redeem", {})
    assert r.status_code == 422 and r.json()["error"]["code"] == "voucher_void"


def test_unknown_voucher_is_404(api):
    r = api.get("/api/v1/vouchers/AAAA-BBBB-CCCC-DDDD")
    assert r.status_code == 404 and r.json()["error"]["code"] == "voucher_not_found"
    assert api.post("/api/v1/vouchers/AAAA-BBBB-CCCC-DDDD/redeem", {}).status_code == 404
