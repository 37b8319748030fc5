"""Reads never write: a member gets their referral code when registered (by any path), and the pages and endpoints
that show it only read it; the members registered before that were given one by a data migration."""

import importlib
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.contrib.auth.models import User
from django.db import connection

from referrals.models import ReferralCode
from referrals.services import referral_code_ensure
from referrals.services.codes import ALPHABET

pytestmark = pytest.mark.django_db


def test_reading_a_members_referrals_creates_no_code(api, member):
    r = api.get(f"/api/v1/members/{member.external_id}/referrals")
    assert r.status_code == 200 and r.json()["code"] is None
    token = api.post(f"/api/v1/members/{member.external_id}/tokens", idempotency_key=False).json()["token"]
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert api.get("/api/v1/me/referrals").json()["code"] is None
    assert not ReferralCode.objects.exists()


def test_the_members_own_page_creates_no_code(api, client, member):
    token = api.post(f"/api/v1/members/{member.external_id}/tokens", idempotency_key=False).json()["token"]
    client.get(f"/account/?token={token}")
    page = client.get("/account/")
    assert page.status_code == 200 and 'id="referral-code"' not in page.content.decode()
    assert not ReferralCode.objects.exists()


def test_a_member_registered_through_the_api_has_a_code(api):
    r = api.post("/api/v1/members", {"external_id": "new-1"})
    assert r.status_code == 201
    assert ReferralCode.objects.get(member__external_id="new-1").code == r.json()["referral_code"]


def test_a_member_staff_add_in_the_admin_has_a_code(client, program):
    client.force_login(User.objects.create_superuser("boss", password="pw"))
    r = client.post("/admin/members/member/add/", {"external_id": "walk-in-1", "name": "Walk In", "status": "active",
                                                   "timezone": "UTC", "language": "en"})
    assert r.status_code == 302, r.context["adminform"].form.errors if r.context else r
    code = ReferralCode.objects.get(member__external_id="walk-in-1")
    page = client.get(f"/admin/members/member/{code.member_id}/change/").content.decode()
    assert code.code in page


def test_the_data_migration_gives_every_member_without_a_code_one(member_factory):
    members = [member_factory() for _ in range(5)]
    kept = referral_code_ensure(member=members[0]).code
    migration = importlib.import_module("referrals.migrations.0002_backfill_referral_codes")
    migration.give_codes(apps, SimpleNamespace(connection=connection))
    codes = {c.member_id: c.code for c in ReferralCode.objects.all()}
    assert set(codes) == {m.pk for m in members}
    assert codes[members[0].pk] == kept
    assert len(set(codes.values())) == 5
    assert all(len(c) == 8 and set(c) <= set(ALPHABET) for c in codes.values())
    migration.give_codes(apps, SimpleNamespace(connection=connection))  # again: nothing changes
    assert {c.member_id: c.code for c in ReferralCode.objects.all()} == codes
