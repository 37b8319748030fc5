"""Signed links to a member's own page, for e-mails: they work for days, read only, and can be revoked."""

from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth.models import User
from django.utils import timezone

from core.models import AuditLog


@pytest.fixture
def link(api, member):
    r = api.post(f"/api/v1/members/{member.external_id}/page-links", idempotency_key=False)
    assert r.status_code == 201
    return r.json()


def test_a_link_opens_the_members_page_for_weeks(api, client, member, link):
    assert link["url"].startswith("http://testserver/account/?link=")
    assert timedelta(days=29) < timezone.datetime.fromisoformat(link["expires_at"]) - timezone.now() <= timedelta(days=30)
    with time_machine.travel(timezone.now() + timedelta(days=20)):
        r = client.get(link["url"])
        assert r.status_code == 302 and r.url == "/account/"  # the link leaves the address bar
        page = client.get("/account/")
    assert page.status_code == 200 and member.name in page.content.decode()


def test_an_expired_link_is_refused(client, link):
    with time_machine.travel(timezone.now() + timedelta(days=31)):
        client.get(link["url"])
        r = client.get("/account/")
    assert r.status_code == 401 and "expired" in r.content.decode()


def test_a_tampered_link_is_refused(client, link):
    url = link["url"]
    tampered = url[:-3] + ("aaa" if not url.endswith("aaa") else "bbb")
    client.get(tampered)
    assert client.get("/account/").status_code == 401
    client.get("/account/?link=not-a-link")
    assert client.get("/account/").status_code == 401


def test_a_link_for_one_member_cannot_be_turned_into_another(client, api, member_factory):
    from django.core import signing

    other = member_factory()
    forged = signing.dumps({"m": other.pk, "v": 0}, salt="some-other-purpose", compress=True)
    client.get(f"/account/?link={forged}")
    assert client.get("/account/").status_code == 401


def test_the_shop_revokes_every_link_of_a_member_and_new_ones_work(api, client, member, link):
    client.get(link["url"])
    assert client.get("/account/").status_code == 200
    assert api.delete(f"/api/v1/members/{member.external_id}/page-links").status_code == 204
    assert client.get("/account/").status_code == 401  # an open page stops working too
    client.get(link["url"])
    assert client.get("/account/").status_code == 401
    fresh = api.post(f"/api/v1/members/{member.external_id}/page-links", idempotency_key=False).json()
    client.get(fresh["url"])
    assert client.get("/account/").status_code == 200


def test_staff_revoke_a_members_links_in_the_admin(client, api, member, link):
    boss = User.objects.create_superuser("boss", "boss@example.com", "pw")
    staff = type(client)()
    staff.force_login(boss)
    r = staff.post("/admin/members/member/", {"action": "revoke_page_links", "_selected_action": [member.pk]})
    assert r.status_code == 302
    client.get(link["url"])
    assert client.get("/account/").status_code == 401
    assert AuditLog.objects.filter(action="member.page_links_revoke", actor=boss, target_id=str(member.pk)).exists()


def test_a_closed_membership_gets_no_link_and_its_links_stop(api, client, member, link):
    client.get(link["url"])
    member.status = member.Status.CLOSED
    member.save()
    assert client.get("/account/").status_code == 401
    r = api.post(f"/api/v1/members/{member.external_id}/page-links", idempotency_key=False)
    assert r.status_code == 422


def test_the_short_lived_token_still_opens_the_page(api, client, member):
    token = api.post(f"/api/v1/members/{member.external_id}/tokens", idempotency_key=False).json()["token"]
    client.get(f"/account/?token={token}")
    assert client.get("/account/").status_code == 200
