"""GDPR: a member's data exported whole, and erased by pseudonymisation with the ledger left whole and balanced."""

import uuid

import pytest
from django.core.cache import cache

from core.models import AuditLog, Scope
from loyalty.models import Account, Transaction
from loyalty.services import ledger_check_record
from members.models import Member, MemberToken, Notification
from referrals.models import PaymentFingerprint, Program, Referral
from referrals.services import referral_code_ensure
from tests.conftest import make_client
from tests.office import manager  # noqa: F401 - fixture

pytestmark = pytest.mark.django_db(transaction=True)  # ledger_check_record is durable; the ledger checks at commit

EMAIL, PHONE, NAME = "ada.lovelace@example.org", "+442079460123", "Ada Lovelace"


@pytest.fixture(autouse=True)
def _fresh_throttle_counts():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def privacy_api(channel, program):
    return make_client(channel, scopes=list(Scope.values))


@pytest.fixture
def ada(privacy_api, channel):
    """A member with a history in every app: signed up with a friend's code from a device, earned, redeemed,
    a message recorded, a live token."""
    Program.objects.create(name="Refer a friend", active=True, referrer_points=100, welcome_points=0,
                           min_order_amount=0, qualify_days=30, attach_days=7)
    friend = Member.objects.create(external_id="friend-1", name="Grace Hopper", email="grace@example.org")
    code = referral_code_ensure(member=friend).code
    response = privacy_api.post("/api/v1/members", {
        "external_id": "ada-1", "name": NAME, "email": EMAIL, "phone": PHONE, "birth_date": "1990-12-10",
        "marketing_consent": True, "referral_code": code, "device_id": "device-ada-42", "ip": "203.0.113.7"})
    assert response.status_code == 201, response.content
    assert privacy_api.post("/api/v1/orders", {"member": "ada-1", "order_id": "A-1", "amount": "300.00",
                                               "currency": "EUR"}).status_code == 201
    assert privacy_api.post("/api/v1/redemptions", {"member": "ada-1", "points": 10}).status_code == 201
    member = Member.objects.get(external_id="ada-1")
    Member.objects.filter(pk=member.pk).update(card_number="CARD-0042")
    Notification.objects.create(member=member, kind="points_expiring", dedupe_key="n-1",
                                payload={"name": NAME, "email": EMAIL, "points": 30})
    PaymentFingerprint.objects.create(member=member, fingerprint="fp-visa-4242")
    assert privacy_api.post("/api/v1/members/ada-1/tokens").status_code == 201
    return Member.objects.get(pk=member.pk)


def test_the_export_holds_everything_we_keep_on_the_member(privacy_api, ada):
    response = privacy_api.get("/api/v1/members/ada-1/export")
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["member"]["identity"].items() >= {"name": NAME, "email": EMAIL, "phone": PHONE,
                                                  "birth_date": "1990-12-10", "card_number": "CARD-0042"}.items()
    assert data["member"]["consents"] == {"marketing_consent": True}
    assert [t["kind"] for t in data["ledger"]["statement"]] == ["earn", "redeem"]
    assert data["ledger"]["account"]["available"] == 20
    assert [o["order_id"] for o in data["ledger"]["orders"]] == ["A-1"]
    assert [r["points"] for r in data["rewards"]["redemptions"]] == [10]
    assert data["referrals"]["referred_by"][0].items() >= {"device_id": "device-ada-42", "ip": "203.0.113.7"}.items()
    assert data["member"]["notifications"][0]["payload"]["name"] == NAME
    assert len(data["member"]["tokens"]) == 1 and "token_hash" not in data["member"]["tokens"][0]
    assert "Grace Hopper" not in response.content.decode()  # the friend's data is not the member's
    assert AuditLog.objects.filter(action="member.export", target_id=str(ada.pk)).count() == 1
    assert any(a["action"] == "member.export" for a in privacy_api.get("/api/v1/members/ada-1/export").json()["audit"])


def test_export_and_erasure_need_their_own_scopes(channel, program, ada):
    shop = make_client(channel)  # the default shop scopes
    assert shop.get("/api/v1/members/ada-1/export").status_code == 403
    assert shop.post("/api/v1/members/ada-1/erase", {"reason": "asked"}).status_code == 403
    assert Member.objects.get(pk=ada.pk).name == NAME


def test_erasure_pseudonymises_the_member_and_leaves_the_ledger_whole(privacy_api, ada):
    balance_before = privacy_api.get("/api/v1/members/ada-1/balance").json()
    transactions_before = list(Transaction.objects.filter(member=ada).values_list("id", "points", "balance_after"))
    token = MemberToken.objects.get(member=ada)

    response = privacy_api.post("/api/v1/members/ada-1/erase", {"reason": "Member's request, ticket 77"})

    assert response.status_code == 200, response.content
    pseudonym = response.json()["external_id"]
    assert pseudonym.startswith("erased-") and response.json()["status"] == "closed"
    member = Member.objects.get(pk=ada.pk)
    assert (member.name, member.email, member.phone, member.birth_date, member.card_number) == ("", "", "", None, None)
    assert privacy_api.get("/api/v1/members/ada-1").status_code == 404
    referral = Referral.objects.get(referred=member)
    assert (referral.device_id, referral.ip) == ("", None)
    assert not PaymentFingerprint.objects.filter(member=member).exists()
    assert Notification.objects.get(member=member).payload == {}
    assert not MemberToken.objects.filter(pk=token.pk).exists()
    # the ledger: untouched, balanced, and the balance reads as before under the pseudonym
    assert list(Transaction.objects.filter(member=member).values_list("id", "points", "balance_after")) == \
        transactions_before
    assert Account.objects.get(member=member).available == balance_before["available"] == 20
    assert privacy_api.get(f"/api/v1/members/{pseudonym}/balance").json()["available"] == 20
    assert ledger_check_record().drifted == 0
    # audited with the reason; the consent the member had given is kept there
    entry = AuditLog.objects.get(action="member.erase", target_id=str(member.pk))
    assert entry.details == {"reason": "Member's request, ticket 77", "consent_at_erasure": {"marketing_consent": True}}
    # nothing of her identity is left in what we hold
    export = privacy_api.get(f"/api/v1/members/{pseudonym}/export").content.decode()
    for personal in (NAME, EMAIL, PHONE, "1990-12-10", "CARD-0042", "device-ada-42", "203.0.113.7", "fp-visa-4242"):
        assert personal not in export, personal


def test_erasure_needs_a_reason_and_a_replay_answers_the_same(privacy_api, ada):
    refused = privacy_api.post("/api/v1/members/ada-1/erase", {"reason": "  "})
    assert refused.status_code == 400
    assert Member.objects.get(pk=ada.pk).email == EMAIL
    key = uuid.uuid4().hex
    first = privacy_api.post("/api/v1/members/ada-1/erase", {"reason": "asked"}, idempotency_key=key)
    again = privacy_api.post("/api/v1/members/ada-1/erase", {"reason": "asked"}, idempotency_key=key)
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json()
    assert AuditLog.objects.filter(action="member.erase").count() == 1


def test_a_manager_exports_and_erases_from_the_members_page(client, manager, ada):  # noqa: F811
    client.force_login(manager)
    page = client.get(f"/admin/members/member/{ada.pk}/change/").content.decode()
    assert "Export data" in page and "Erase personal data" in page

    download = client.get(f"/admin/members/member/{ada.pk}/export/")
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith("attachment")
    assert download.json()["member"]["identity"]["email"] == EMAIL

    unconfirmed = client.post(f"/admin/members/member/{ada.pk}/erase/", {"reason": "asked at the till"})
    assert unconfirmed.status_code == 200 and Member.objects.get(pk=ada.pk).email == EMAIL
    done = client.post(f"/admin/members/member/{ada.pk}/erase/", {"reason": "asked at the till", "confirm": "on"})
    assert done.status_code == 302
    member = Member.objects.get(pk=ada.pk)
    assert (member.email, member.status) == ("", Member.Status.CLOSED)
    entry = AuditLog.objects.get(action="member.erase")
    assert entry.actor == manager and entry.details["reason"] == "asked at the till"
    assert ledger_check_record().drifted == 0


def test_a_clerk_sees_neither_button_and_cannot_erase(client, ada):
    from tests.office import staff

    client.force_login(staff("clerk", "Clerk"))
    page = client.get(f"/admin/members/member/{ada.pk}/change/").content.decode()
    assert "Export data" not in page and "Erase personal data" not in page
    assert client.get(f"/admin/members/member/{ada.pk}/export/").status_code == 403
    assert client.post(f"/admin/members/member/{ada.pk}/erase/", {"reason": "x", "confirm": "on"}).status_code == 403
    assert Member.objects.get(pk=ada.pk).email == EMAIL
