import re
from datetime import timedelta

import time_machine
from django.utils import timezone

from referrals.services import referral_code_ensure


def test_a_member_sees_their_own_page_through_the_link(api, client, member_factory):
    ada, bob = member_factory(name="Ada"), member_factory(name="Bob")
    code = referral_code_ensure(member=ada)  # as registering gives her
    api.post("/api/v1/orders", {"member": ada.external_id, "order_id": "A1", "amount": "120.00", "currency": "EUR"})
    api.post("/api/v1/orders", {"member": bob.external_id, "order_id": "B1", "amount": "990.00", "currency": "EUR"})
    token = api.post(f"/api/v1/members/{ada.external_id}/tokens", idempotency_key=False).json()["token"]

    r = client.get(f"/account/?token={token}")
    assert r.status_code == 302 and r.url == "/account/"  # the token leaves the address bar
    page = client.get("/account/").content.decode()
    assert "Hello, Ada" in page
    assert '<div class="big" id="available">12</div>' in page
    assert "A1" in page and "B1" not in page and "Bob" not in page
    assert f'id="referral-code">{code.code}<' in page


def test_an_expired_link_says_so(api, client, member):
    token = api.post(f"/api/v1/members/{member.external_id}/tokens", idempotency_key=False).json()["token"]
    client.get(f"/account/?token={token}")
    with time_machine.travel(timezone.now() + timedelta(hours=1)):
        r = client.get("/account/")
    assert r.status_code == 401 and "expired" in r.content.decode()
    assert client.get("/account/?token=mt_forged").status_code == 302
    assert client.get("/account/").status_code == 401


# --- What the page says, as a member reads it -------------------------------------------------------------------

def open_page(api, client, member, **headers):
    url = api.post(f"/api/v1/members/{member.external_id}/page-links", idempotency_key=False).json()["url"]
    client.get(url)
    r = client.get("/account/", **headers)
    assert r.status_code == 200
    return r.content.decode()


def test_the_page_speaks_the_members_language(api, client, member_factory):
    li = member_factory(name="李雷", language="zh-hans")
    page = open_page(api, client, li)
    assert '<html lang="zh-hans">' in page and "可用积分" in page and "Points you can spend" not in page
    # ... and the member can switch on the page.
    client.get("/account/?lang=en")
    assert "Points you can spend" in client.get("/account/").content.decode()


def test_a_page_without_a_member_follows_the_browser(client):
    r = client.get("/account/", HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9")
    assert r.status_code == 401 and "此链接已失效" in r.content.decode()


def test_dates_and_numbers_follow_the_language(api, client, member_factory):
    en, zh = member_factory(language="en"), member_factory(language="zh-hans")
    with time_machine.travel("2026-03-05 12:00Z", tick=False):
        for m in (en, zh):
            api.post("/api/v1/orders", {"member": m.external_id, "order_id": f"O-{m.pk}", "amount": "12345.00",
                                        "currency": "EUR"})
        en_page = open_page(api, client, en)  # the program fixture: 1 point per 10.00
        assert '<div class="big" id="available">1,234</div>' in en_page and "03/05/2026" in en_page
        client.session.flush()
        zh_page = open_page(api, client, zh)
    assert '<div class="big" id="available">1234</div>' in zh_page and "2026年3月5日" in zh_page


def test_perks_multiplier_and_referral_bonus_read_as_sentences(api, client, member_factory):
    from decimal import Decimal

    from members.models import Tier, TierStatus

    silver = Tier.objects.create(code="silver", name="Silver", rank=1, threshold=0, earn_multiplier=Decimal("1.500"),
                                 perks=["free_shipping", "priority_service", "secret_garden"])
    ada = member_factory(name="Ada")
    TierStatus.objects.update_or_create(member=ada, defaults={"tier": silver})
    page = open_page(api, client, ada)
    assert "Free shipping" in page and "Priority customer service" in page and "Secret garden" in page
    assert "You earn 1.5 times the points on every purchase." in page
    for raw in ["free_shipping", "priority_service", "x1.5", "friend(s)"]:
        assert raw not in page


def test_expiring_soon_shows_only_spendable_points_due_within_the_reminder_window(api, client, member_factory, program):
    program.pending_days, program.expiry_reminder_days = 14, [30, 7]
    program.save()
    ada = member_factory(timezone="Asia/Shanghai")
    now = timezone.now()
    with time_machine.travel(now - timedelta(days=345), tick=False):  # expires in about 20 days
        api.post("/api/v1/orders", {"member": ada.external_id, "order_id": "OLD", "amount": "500.00", "currency": "EUR"})
    with time_machine.travel(now - timedelta(days=200), tick=False):  # expires in about 165 days: not soon
        api.post("/api/v1/orders", {"member": ada.external_id, "order_id": "MID", "amount": "700.00", "currency": "EUR"})
    api.post("/api/v1/orders", {"member": ada.external_id, "order_id": "NEW", "amount": "900.00", "currency": "EUR"})
    from loyalty.services import points_settle_due

    points_settle_due()
    page = open_page(api, client, ada)
    soon = page.split('id="expiring"')[1].split("</section>")[0]
    assert soon.count('class="expiry-date"') == 1 and "50 points" in soon  # not 70, not the 90 pending
    assert "Asia/Shanghai" in soon


def test_statement_balances_add_up_and_earned_in_all_counts_bonuses_and_adjustments(api, client, member, program):
    program.pending_days = 14
    program.save()
    api.post("/api/v1/orders", {"member": member.external_id, "order_id": "O1", "amount": "300.00", "currency": "EUR"})
    api.post("/api/v1/adjustments", {"member": member.external_id, "points": 40, "reason": "Sorry for the wait"})
    page = open_page(api, client, member)
    rows = re.findall(r'<td class="num (?:plus|minus|)">([+-]?[\d,]+)</td>\s*<td class="num">([\d,]+)</td>', page)
    assert [(int(p.replace(",", "")), int(b.replace(",", ""))) for p, b in rows] == [(40, 70), (30, 30)]
    assert "Earned in all: 70 points" in page
    assert "Credited by our team" in page and "Earned on order O1" in page


def test_vouchers_show_with_a_qr_code_and_redemptions_and_rewards_are_listed(api, client, member):
    from decimal import Decimal

    from loyalty.services import points_adjust
    from loyalty.services.ledger import channel_id
    from rewards.models import Reward

    Reward.objects.create(code="coffee", name="Free coffee", kind=Reward.Kind.PRODUCT_VOUCHER, points_cost=300)
    Reward.objects.create(code="tenner", name="Ten off", kind=Reward.Kind.FIXED_DISCOUNT, points_cost=1000,
                          value=Decimal("10.00"), currency="EUR")
    points_adjust(member=member, points=500, reason="test", channel_id=channel_id("admin"), idempotency_key="g1")
    voucher = api.post("/api/v1/redemptions", {"member": member.external_id, "reward": "coffee"}).json()["vouchers"][0]
    page = open_page(api, client, member)
    vouchers = page.split('id="vouchers"')[1].split("</section>")[0]
    assert voucher["code"] in vouchers and '<svg role="img" aria-label="QR code of voucher ' + voucher["code"] in vouchers
    assert "Redeemed for Free coffee" in page and "reward:coffee" not in page
    assert "800 more points needed." in page  # Ten off: 1000 - the 200 left
