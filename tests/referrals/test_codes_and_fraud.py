"""Codes, attaching, loops, fraud checks and the review queue, throttling, bad input."""

from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth.models import Permission, User
from django.utils import timezone

from core.models import AuditLog
from members.models import Member
from referrals.models import Referral, ReferralCode, ReferralReward
from referrals.services import referral_review
from referrals.services.codes import ALPHABET
from tests.factories import MemberFactory
from tests.loyalty.invariants import assert_ledger_balanced, balance_of

pytestmark = pytest.mark.django_db


def test_codes_are_short_readable_and_unique(member_factory, code_of):
    codes = {code_of(member_factory()) for _ in range(50)}
    assert len(codes) == 50
    assert all(len(c) == 8 and set(c) <= set(ALPHABET) for c in codes)
    assert not set("0O1IL") & set(ALPHABET)


def test_a_member_gets_a_code_when_registered_and_reading_it_writes_nothing(api):
    r = api.post("/api/v1/members", {"external_id": "new-1"})
    first = r.json()["referral_code"]
    assert api.get("/api/v1/members/new-1/referrals").json()["code"] == first
    assert ReferralCode.objects.filter(member__external_id="new-1").count() == 1


def test_code_lookup(api, referral_program, member, code_of):
    code = code_of(member)
    r = api.get(f"/api/v1/referral-codes/{code[:4]}-{code[4:].lower()}")
    assert r.status_code == 200 and r.json()["valid"] is True
    r = api.get("/api/v1/referral-codes/ZZZZZZZZ")
    assert r.status_code == 404 and r.json()["error"]["code"] == "referral_code_not_found"


def test_code_lookups_are_rate_limited(api, settings, referral_program):
    settings.REFERRAL_CODE_RATE = "3/hour"
    statuses = [api.get(f"/api/v1/referral-codes/AAAAAAA{c}").status_code for c in "23456"]
    assert statuses == [404, 404, 404, 429, 429]
    r = api.get("/api/v1/referral-codes/AAAAAAA7")
    assert r.json()["error"]["code"] == "throttled"
    assert "Retry-After" in r.headers
    # another end user (the shop passes their address) has their own allowance
    assert api.get("/api/v1/referral-codes/AAAAAAA7?ip=203.0.113.9").status_code == 404


def test_attaching_is_rate_limited_too(api, settings, referral_program, member_factory):
    settings.REFERRAL_CODE_RATE = "2/hour"
    new = member_factory()
    statuses = [api.post(f"/api/v1/members/{new.external_id}/referral", {"code": "AAAAAAAA"}).status_code
                for _ in range(3)]
    assert statuses == [422, 422, 429]


def test_a_bad_code_at_registration_writes_nothing(api, referral_program, register):
    r = register(external_id="newbie", code="NOPE2345")
    assert r.status_code == 422 and r.json()["error"]["code"] == "referral_code_invalid"
    assert not Member.objects.filter(external_id="newbie").exists()
    assert not ReferralCode.objects.exists()


def test_registration_without_a_running_program(api, member, register, code_of):
    r = register(external_id="newbie", code=code_of(member))
    assert r.status_code == 422 and r.json()["error"]["code"] == "referral_program_inactive"
    assert not Member.objects.filter(external_id="newbie").exists()
    assert register(external_id="newbie").status_code == 201  # without a code all is as before


def test_attach_after_sign_up_once_within_the_window(api, referral_program, member, member_factory, code_of):
    new = member_factory()
    url = f"/api/v1/members/{new.external_id}/referral"
    r = api.post(url, {"code": code_of(member)})
    assert r.status_code == 201 and r.json()["status"] == "pending"
    r = api.post(url, {"code": code_of(member_factory())})
    assert r.status_code == 409 and r.json()["error"]["code"] == "referral_exists"
    late = member_factory(joined_at=timezone.now() - timedelta(days=8))
    r = api.post(f"/api/v1/members/{late.external_id}/referral", {"code": code_of(member)})
    assert r.status_code == 422 and r.json()["error"]["code"] == "referral_attach_window_over"
    r = api.post(f"/api/v1/members/{member.external_id}/referral", {"code": code_of(member)})
    assert r.status_code == 422 and r.json()["error"]["code"] == "referral_self"
    assert Referral.objects.count() == 1


def test_no_loops_directly_or_indirectly(api, referral_program, member_factory, code_of):
    a, b, c = member_factory(), member_factory(), member_factory()
    assert api.post(f"/api/v1/members/{b.external_id}/referral", {"code": code_of(a)}).status_code == 201
    assert api.post(f"/api/v1/members/{c.external_id}/referral", {"code": code_of(b)}).status_code == 201
    for referrer in (b, c):  # a was referred by nobody, but cannot be by someone below them
        r = api.post(f"/api/v1/members/{a.external_id}/referral", {"code": code_of(referrer)})
        assert r.status_code == 422 and r.json()["error"]["code"] == "referral_loop"
    assert Referral.objects.count() == 2


def test_bad_input_to_every_endpoint(api, referral_program, member, code_of):
    url = f"/api/v1/members/{member.external_id}/referral"
    assert api.post(url, {"code": code_of(member), "extra": 1}).status_code == 400
    assert api.post(url, {}).status_code == 400
    assert api.post(url, {"code": "AAAAAAAA", "ip": "not-an-ip"}).status_code == 400
    assert api.post(url, {"code": "x"}, idempotency_key=False).json()["error"]["code"] == "idempotency_key_missing"
    assert api.post("/api/v1/members/nobody/referral", {"code": code_of(member)}).status_code == 404
    assert api.get("/api/v1/members/nobody/referrals").status_code == 404
    r = api.post("/api/v1/members", {"external_id": "x1", "referral_code": 5, "device_id": "d" * 200})
    assert r.status_code == 400 and "device_id" in r.json()["error"]["fields"]
    r = api.post("/api/v1/orders", {"member": member.external_id, "order_id": "o", "amount": "5.00",
                                    "currency": "EUR", "payment_fingerprint": "f" * 200})
    assert r.status_code == 400 and "payment_fingerprint" in r.json()["error"]["fields"]
    assert api.get("/api/v1/me/referrals").status_code == 403
    assert Referral.objects.count() == 0


def test_same_email_after_normalisation_is_held_then_approve_pays(api, referral_program, register, buy, code_of):
    referrer = MemberFactory(email="jane.doe@gmail.com")
    r = register(code=code_of(referrer), email="JaneDoe+promo@googlemail.com")
    assert r.json()["referral"]["status"] == "held_for_review"
    assert r.json()["referral"]["reasons"] == ["same_email"]
    new = r.json()["external_id"]
    assert buy(new, amount="30.00").json()["referral"]["status"] == "held_for_review"
    assert balance_of(referrer.pk) == (0, 0)

    staff = User.objects.create_user("boss", is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="review_referral"))
    referral = referral_review(referral_id=Referral.objects.get().pk, approve=True, actor=staff)
    assert referral.status == "rewarded"
    assert balance_of(referrer.pk) == (100, 0)
    log = AuditLog.objects.get(action="referral.approve")
    assert log.actor == staff and log.details["reasons"] == ["same_email"]
    assert_ledger_balanced()


def test_same_phone_is_held_and_reject_never_pays(api, referral_program, register, buy, code_of):
    referrer = MemberFactory(phone="+442079460958")
    r = register(code=code_of(referrer), phone="+44 (0)20 7946-0958")
    assert r.json()["referral"]["reasons"] == ["same_phone"]
    staff = User.objects.create_user("boss", is_staff=True)
    referral_review(referral_id=Referral.objects.get().pk, approve=False, actor=staff)
    assert buy(r.json()["external_id"], amount="90.00").status_code == 201
    assert Referral.objects.get().status == "rejected"
    assert balance_of(referrer.pk) == (0, 0)
    assert AuditLog.objects.filter(action="referral.reject", actor=staff).exists()


def test_same_payment_fingerprint_is_held(api, referral_program, member, register, buy, code_of):
    buy(member.external_id, payment_fingerprint="card-abc")
    new = register(code=code_of(member)).json()["external_id"]
    r = buy(new, payment_fingerprint="card-abc")
    assert r.json()["referral"]["status"] == "held_for_review"
    assert r.json()["referral"]["reasons"] == ["same_payment"]
    assert not ReferralReward.objects.exists()


def test_a_different_payment_fingerprint_pays(api, referral_program, member, register, buy, code_of):
    buy(member.external_id, payment_fingerprint="card-abc")
    new = register(code=code_of(member)).json()["external_id"]
    assert buy(new, payment_fingerprint="card-xyz").json()["referral"]["status"] == "rewarded"


def test_many_sign_ups_from_one_device_or_network(api, make_program, member, register, code_of):
    make_program(device_threshold=3, device_window_hours=24)
    code = code_of(member)
    held = [register(code=code, device_id="phone-1").json()["referral"]["status"] for _ in range(3)]
    assert held == ["pending", "pending", "held_for_review"]
    assert Referral.objects.order_by("id").last().reasons == ["many_signups_device"]
    nets = [register(code=code, ip="198.51.100.7").json()["referral"]["reasons"] for _ in range(3)]
    assert nets == [[], [], ["many_signups_network"]]
    with time_machine.travel(timezone.now() + timedelta(hours=25)):
        assert register(code=code, device_id="phone-1").json()["referral"]["status"] == "pending"


def test_a_code_of_a_closed_member_is_held(api, referral_program, member, register, code_of):
    code = code_of(member)
    member.status = Member.Status.CLOSED
    member.save()
    assert register(code=code).json()["referral"]["reasons"] == ["referrer_closed"]


def test_review_of_a_referral_that_is_not_held_is_refused(referral_program, member, member_factory, api, code_of):
    from core.errors import Conflict

    new = member_factory()
    api.post(f"/api/v1/members/{new.external_id}/referral", {"code": code_of(member)})
    with pytest.raises(Conflict):
        referral_review(referral_id=Referral.objects.get().pk, approve=True, actor=None)


def test_admin_lists_filters_and_reviews(client, referral_program, register, code_of):
    referrer = MemberFactory(email="a@example.com")
    register(code=code_of(referrer), email="a@example.com")
    admin_user = User.objects.create_superuser("root", "root@example.com", "pw")
    client.force_login(admin_user)
    assert client.get("/admin/referrals/referral/?status__exact=held_for_review").status_code == 200
    assert client.get("/admin/referrals/program/add/").status_code == 200
    assert client.get(f"/admin/referrals/referralcode/?q={code_of(referrer)}").status_code == 200
    r = client.post(f"/admin/referrals/referral/{Referral.objects.get().pk}/review/",
                    {"decision": "reject", "reason": "Same e-mail address"})
    assert r.status_code == 302
    assert Referral.objects.get().status == "rejected"
    assert AuditLog.objects.get(action="referral.reject").actor == admin_user


def test_registration_with_codes_is_rate_limited_but_plain_sign_up_is_not(register, settings, referral_program):
    settings.REFERRAL_CODE_RATE = "2/hour"
    statuses = [register(code=f"NOPE234{c}").status_code for c in "567"]
    assert statuses == [422, 422, 429]
    assert register().status_code == 201


def test_changing_the_address_does_not_escape_the_channel_allowance(api, settings, referral_program):
    settings.REFERRAL_CODE_RATE = "100/hour"
    settings.REFERRAL_CODE_CHANNEL_RATE = "3/hour"
    statuses = [api.get(f"/api/v1/referral-codes/AAAAAAA{c}?ip=203.0.113.{n}").status_code
                for n, c in enumerate("23456")]
    assert statuses == [404, 404, 404, 429, 429]


def test_same_phone_typed_another_way_than_the_referrers_stored_number_is_held(api, referral_program, register,
                                                                               code_of):
    referrer = MemberFactory(phone="13800138000")  # as an old admin form stored it, without the country code
    r = register(code=code_of(referrer), phone="0086 138-0013-8000")
    assert r.json()["phone"] == "+8613800138000"
    assert r.json()["referral"]["reasons"] == ["same_phone"]
