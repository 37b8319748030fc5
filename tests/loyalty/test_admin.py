import re

import pytest
from django.contrib.auth.models import Group, User

from core.models import AuditLog
from loyalty.models import Transaction


@pytest.fixture
def clerk(db, program):
    user = User.objects.create_user("clerk", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name="Clerk"))
    return user


@pytest.fixture
def manager(db, program):
    user = User.objects.create_user("manager", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name="Manager"))
    return user


def adjust(client, member, points, reason="Goodwill for a late delivery", key="form-1"):
    url = f"/admin/members/member/{member.pk}/adjust/"
    page = client.get(url)
    assert page.status_code == 200
    return client.post(url, {"points": points, "reason": reason, "key": key})


def test_clerk_finds_a_member_by_phone_as_printed(client, clerk, member_factory):
    from members.models import MembershipSettings

    settings = MembershipSettings.current()
    settings.phone_region = "GB"  # a London shop: numbers typed without +44 are British
    settings.save()
    member_factory(phone="+442079460958", name="Ada")
    client.force_login(clerk)
    r = client.get("/admin/members/member/", {"q": "020 7946 0958"})
    assert r.status_code == 200
    assert "Ada" in r.content.decode()


def test_clerk_adjusts_within_the_limit_and_it_is_audited(client, clerk, member):
    client.force_login(clerk)
    r = adjust(client, member, 120)
    assert r.status_code == 302
    txn = Transaction.objects.get()
    assert (txn.kind, txn.points, txn.actor, txn.channel.name) == ("adjust", 120, clerk, "admin")
    assert txn.reason == "Goodwill for a late delivery"
    log = AuditLog.objects.get(action="points.adjust")
    assert log.actor == clerk and log.details["points"] == 120
    page = client.get(f"/admin/members/member/{member.pk}/change/").content.decode()
    assert re.search(r"<strong>120</strong> available", page)
    assert "Goodwill for a late delivery" in page  # the statement is on the member's page


def test_clerk_cannot_exceed_the_limit_but_a_manager_can(client, clerk, manager, member, program):
    program.clerk_adjust_limit = 100
    program.save()
    client.force_login(clerk)
    r = adjust(client, member, 500)
    assert r.status_code == 200
    assert "need a manager" in r.content.decode()
    assert not Transaction.objects.exists()
    client.force_login(manager)
    assert adjust(client, member, 500, key="form-2").status_code == 302
    assert Transaction.objects.get().points == 500


def test_a_reason_is_required(client, clerk, member):
    client.force_login(clerk)
    r = adjust(client, member, 10, reason="   ")
    assert r.status_code == 200
    assert not Transaction.objects.exists()


def test_a_double_submitted_form_adjusts_once(client, clerk, member):
    client.force_login(clerk)
    adjust(client, member, 10, key="same")
    adjust(client, member, 10, key="same")
    assert Transaction.objects.count() == 1


def test_debit_beyond_the_balance_is_refused(client, manager, member):
    client.force_login(manager)
    r = adjust(client, member, -5)
    assert r.status_code == 200
    assert "available" in r.content.decode()
    assert not Transaction.objects.exists()


def test_the_ledger_is_read_only_in_the_admin(client, manager, member):
    client.force_login(manager)
    adjust(client, member, 10)
    txn = Transaction.objects.get()
    assert client.get("/admin/loyalty/transaction/").status_code == 200
    assert client.post(f"/admin/loyalty/transaction/{txn.pk}/change/", {"points": 999}).status_code == 403
    assert client.post(f"/admin/loyalty/transaction/{txn.pk}/delete/", {"post": "yes"}).status_code == 403
    txn.refresh_from_db()
    assert txn.points == 10


def test_a_user_without_the_role_cannot_adjust(client, member, program):
    user = User.objects.create_user("viewer", password="pw", is_staff=True)
    client.force_login(user)
    r = client.post(f"/admin/members/member/{member.pk}/adjust/", {"points": 5, "reason": "x", "key": "k"})
    assert r.status_code == 403
    assert not Transaction.objects.exists()


def test_staff_pages_render(client, manager, member):
    client.force_login(manager)
    for url in ["/admin/", "/admin/loyalty/programsettings/", "/admin/loyalty/refund/?shortfall=yes",
                "/admin/core/apikey/", "/admin/core/auditlog/", "/admin/loyalty/lot/", "/admin/loyalty/order/",
                f"/admin/members/member/{member.pk}/change/"]:
        r = client.get(url, follow=True)
        assert r.status_code == 200, url


def test_manager_creates_an_api_key_in_the_admin_and_sees_it_once(client, manager, channel):
    client.force_login(manager)
    r = client.post("/admin/core/apikey/add/", {"channel": channel.pk, "name": "pos", "scopes": '["members:read"]'},
                    follow=True)
    text = r.content.decode()
    raw = re.search(r"lk_[0-9a-f]{8}_[A-Za-z0-9_\-]+", text).group(0)
    from rest_framework.test import APIClient

    from tests.factories import MemberFactory

    m = MemberFactory()
    assert APIClient(HTTP_AUTHORIZATION=f"Api-Key {raw}").get(f"/api/v1/members/{m.external_id}").status_code == 200
