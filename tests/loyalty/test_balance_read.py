"""The balance as one hand-written statement answers exactly what the ORM read answered before it, for members
in every state a balance shows: no account yet, pending and expiring lots (and lots past their dates before the
jobs ran), a tier with a next tier, a pin and a grace period, a paid plan, another time zone, an inactive member,
and each program setting that changes the statement (basis and window). The reference below is the read as it
was written with the ORM (member, account, lots, `tier_overview` reading its own rows), rendered by
`BalanceSerializer`; the API's body is compared with it byte for byte."""

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.utils import timezone
from rest_framework.renderers import JSONRenderer

from core.models import Channel, Scope
from loyalty.api.serializers import BalanceSerializer
from loyalty.models import Account, Lot, ProgramSettings
from loyalty.services.rules import member_zone
from members.models import Member, MembershipSettings, Plan, Tier, TierStatus
from members.selectors import tier_overview
from members.services import subscription_start, tier_pin
from tests.conftest import ShopClient, make_client

START = datetime(2030, 3, 10, 9, 30, tzinfo=UTC)


def reference_body(member: Member, now) -> bytes:
    """The balance as the ORM read it, one query per part, with the same rules for lots past their dates."""
    member = Member.objects.get(pk=member.pk)
    account = Account.objects.filter(member=member).first() or Account(member_id=member.pk)
    available, pending = account.available, account.pending
    zone = member_zone(member.timezone)
    expiring, releasing = defaultdict(int), defaultdict(int)
    for remaining, released, expires_at, available_at in Lot.objects.filter(
            member=member, remaining__gt=0).order_by("id").values_list(
            "remaining", "released", "expires_at", "available_at"):
        if expires_at is not None and expires_at <= now:
            available, pending = (available - remaining, pending) if released else (available, pending - remaining)
            continue
        if not released and available_at <= now:
            available, pending = available + remaining, pending - remaining
        elif not released:
            releasing[available_at.astimezone(zone).date()] += remaining
        if expires_at is not None:
            expiring[expires_at.astimezone(zone).date()] += remaining
    data = BalanceSerializer({
        "member": member.external_id, "available": available, "pending": pending,
        "lifetime_earned": account.lifetime_earned,
        "expiring": [{"date": d, "points": p} for d, p in sorted(expiring.items())[:6]],
        "pending_release": [{"date": d, "points": p} for d, p in sorted(releasing.items())[:6]],
        "tier": tier_overview(member=member, now=now)}).data
    return JSONRenderer().render(data)


@pytest.fixture
def tiers(db):
    return {code: Tier.objects.create(code=code, name=code.title(), rank=rank, threshold=Decimal(threshold),
                                      earn_multiplier=Decimal(multiplier), perks=perks)
            for rank, (code, threshold, multiplier, perks) in enumerate([
                ("bronze", 0, "1", []), ("silver", 40, "1.25", ["free_shipping"]),
                ("gold", 150, "1.5", ["free_shipping", "lounge"])], start=1)}


def earn(api, member, amount, when, order_id):
    with time_machine.travel(when, tick=False):
        r = api.post("/api/v1/orders", {"member": member.external_id, "order_id": order_id, "amount": str(amount),
                                        "currency": "EUR"})
    assert r.status_code == 201, r.json()


def history(api, member):
    """Orders over a year: some expired by now (the expiry job has not run), some expiring, one pending."""
    for i, (days_ago, amount) in enumerate([(400, "120.00"), (200, "75.50"), (30, "260.00"), (2, "99.00")]):
        earn(api, member, amount, START - timedelta(days=days_ago), f"{member.external_id}-{i}")


def no_account(api, member, tiers):
    """Registered, nothing earned: no account row, no tier status."""


def pending_and_expiring(api, member, tiers):
    history(api, member)


def tier_pinned_in_grace_with_a_plan(api, member, tiers):
    history(api, member)
    plan = Plan.objects.create(code="plus", name="Plus", kind=Plan.Kind.SUBSCRIPTION, period=Plan.Period.MONTH,
                               price=Decimal("9.99"), currency="EUR", earn_multiplier=Decimal("2"),
                               tier_floor=tiers["silver"], perks=["member_prices", "free_shipping"])
    with time_machine.travel(START - timedelta(days=1), tick=False):
        tier_pin(member=member, tier=tiers["gold"], until=START + timedelta(days=20), reason="Goodwill")
        subscription_start(member=member, plan=plan, channel_id=Channel.named("webshop").pk,
                           amount=Decimal("9.99"), currency="EUR", payment_reference="pay-1")
    TierStatus.objects.filter(member=member).update(below_since=START - timedelta(days=3))


def a_plan_that_has_run_out(api, member, tiers):
    history(api, member)
    plan = Plan.objects.create(code="pass", name="Pass", kind=Plan.Kind.ONE_TIME, duration_days=30,
                               price=Decimal("5.00"), currency="EUR", earn_multiplier=Decimal("3"))
    with time_machine.travel(START - timedelta(days=40), tick=False):  # live by its status, over by its date
        subscription_start(member=member, plan=plan, channel_id=Channel.named("webshop").pk,
                           amount=Decimal("5.00"), currency="EUR", payment_reference="pay-2")


def another_time_zone_and_inactive(api, member, tiers):
    history(api, member)
    Member.objects.filter(pk=member.pk).update(timezone="Pacific/Kiritimati", status=Member.Status.SUSPENDED)


def an_unknown_time_zone(api, member, tiers):
    history(api, member)
    Member.objects.filter(pk=member.pk).update(timezone="Mars/Olympus")


SCENARIOS = [no_account, pending_and_expiring, tier_pinned_in_grace_with_a_plan, a_plan_that_has_run_out,
             another_time_zone_and_inactive, an_unknown_time_zone]
SETTINGS = [(MembershipSettings.Basis.POINTS, MembershipSettings.Window.ROLLING_12_MONTHS),
            (MembershipSettings.Basis.SPEND, MembershipSettings.Window.CALENDAR_YEAR),
            (MembershipSettings.Basis.POINTS, MembershipSettings.Window.LIFETIME)]


@pytest.mark.parametrize("basis,window", SETTINGS)
@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.__name__)
def test_the_balance_answers_what_the_orm_read_answered(api, member, tiers, scenario, basis, window):
    program = ProgramSettings.current()
    program.pending_days = 14  # the last order is still inside its return window
    program.save()
    settings = MembershipSettings.current()
    settings.basis, settings.window = basis, window
    settings.save()
    scenario(api, member, tiers)
    for moment in (START, START + timedelta(days=20)):  # and after the pending lot's release, without the job
        with time_machine.travel(moment, tick=False):
            app = ShopClient()  # the member's app, with a member-scoped token
            token = api.post(f"/api/v1/members/{member.external_id}/tokens", idempotency_key=False).json()["token"]
            app.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
            by_key = api.get(f"/api/v1/members/{member.external_id}/balance")
            by_token = app.get("/api/v1/me/balance")
            expected = reference_body(member, timezone.now())
        assert by_key.status_code == by_token.status_code == 200
        assert by_key.content == by_token.content == expected


def test_the_states_differ_where_a_member_would_see_it(api, member, tiers):
    """The scenarios above are not all the same empty answer."""
    program = ProgramSettings.current()
    program.pending_days = 14
    program.save()
    tier_pinned_in_grace_with_a_plan(api, member, tiers)
    with time_machine.travel(START, tick=False):
        body = api.get(f"/api/v1/members/{member.external_id}/balance").json()
    assert (body["available"], body["pending"], body["lifetime_earned"]) == (7 + 26, 9, 12 + 7 + 26 + 9)
    assert body["pending_release"] == [{"date": "2030-03-22", "points": 9}]
    assert [e["points"] for e in body["expiring"]] == [7, 26, 9]  # the oldest lot (12) expired before the job ran
    assert body["tier"]["pinned"]["tier"] == "gold" and body["tier"]["downgrade"]["downgrade_on"] == "2030-04-06"
    assert body["tier"]["benefits"] == {"earn_multiplier": "2.000", "perks": ["free_shipping", "lounge",
                                                                              "member_prices"], "plan": "plus"}


def test_the_statement_is_the_same_text_for_every_member_and_moment(api, member_factory, tiers):
    """One text per program setting, so the driver prepares it once per connection instead of planning it anew."""
    seen = []

    def capture(execute, sql, params, many, context):
        seen.append(sql)
        return execute(sql, params, many, context)

    members = [member_factory() for _ in range(2)]
    history(api, members[0])
    with connection.execute_wrapper(capture):
        for i, m in enumerate(members):
            with time_machine.travel(START + timedelta(days=40 * i), tick=False):
                assert api.get(f"/api/v1/members/{m.external_id}/balance").status_code == 200
    balance = [sql for sql in seen if "array_agg" in sql]
    assert len(balance) == 2 and balance[0] == balance[1]


def test_unknown_members_and_keys_without_the_scope_are_refused_as_before(api, member):
    r = api.get("/api/v1/members/NOBODY/balance")
    assert r.status_code == 404 and r.json()["error"]["code"] == "member_not_found"
    narrow = make_client(Channel.named("webshop"), scopes=[Scope.POINTS_EARN])
    r = narrow.get(f"/api/v1/members/{member.external_id}/balance")
    assert r.status_code == 403 and "members:read" in r.json()["error"]["message"]
