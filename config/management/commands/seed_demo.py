"""A small demo program for `make run`: tiers of history for a few members, staff logins, an API key.

The economics are a shop's: 1 point per 1.00 spent and 100 points = 1.00 at checkout, i.e. 1% back, raised by the
tiers (1.25% Silver, 1.5% Gold).

Safe to run again: it seeds once and afterwards only says what is there.
"""

import secrets
from datetime import timedelta
from decimal import Decimal

import time_machine
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.utils import timezone

from config import flows
from core.models import Channel
from core.services import api_key_create
from loyalty import services as loyalty
from loyalty.models import CategoryMultiplier, ProgramSettings
from loyalty.services.rules import LineInput
from members.models import Member, Plan, Tier
from members.services import member_register
from referrals.services import referral_code_ensure
from rewards.models import RedemptionRules
from rewards.services import redemption_create

DEMO_MEMBERS = [
    ("C-1001", "Ada Lovelace", "ada@example.com", "+442079460001", "1985-12-10"),
    ("C-1002", "Grace Hopper", "grace@example.com", "+12025550102", "1976-12-09"),
    ("C-1003", "Alan Turing", "alan@example.com", "+442079460003", "1992-06-23"),
    ("C-1004", "Katherine Johnson", "katherine@example.com", "+12025550104", "2000-02-29"),
]


STAFF = [  # username, group (None: a superuser), what they do
    ("admin", None, "everything"),
    ("manager", "Manager", "runs the program"),
    ("clerk", "Clerk", "serves members"),
]


class Command(BaseCommand):
    help = "Seed a demo program, members with history, staff logins and an API key (once)."

    def add_arguments(self, parser):
        parser.add_argument("--url", default="http://127.0.0.1:8000", help="Where the server answers (for the hints).")

    def handle(self, *args, url: str, **options):
        User = get_user_model()
        if User.objects.filter(username="admin").exists():
            self.stdout.write("Demo data present. Logins: admin, manager, clerk (passwords printed on the first run; "
                              "`.venv/bin/python manage.py changepassword USERNAME` sets a new one).")
            return
        program = ProgramSettings.current()
        program.name, program.currency = "Demo Rewards", "EUR"
        program.earn_points, program.earn_amount = 1, Decimal("1.00")  # 1 point per 1.00 spent
        program.save()
        rules = RedemptionRules.current()
        rules.points_per_unit = 100  # 100 points pay 1.00: 1% back before tiers
        rules.save()
        CategoryMultiplier.objects.get_or_create(category="coffee", defaults={"multiplier": Decimal("2")})
        CategoryMultiplier.objects.get_or_create(category="books", defaults={"multiplier": Decimal("1.5")})
        shop = Channel.named("webshop")
        bronze, _ = Tier.objects.get_or_create(code="bronze", defaults={"name": "Bronze", "rank": 1, "threshold": 0})
        silver, _ = Tier.objects.get_or_create(code="silver", defaults={
            "name": "Silver", "rank": 2, "threshold": 500, "earn_multiplier": Decimal("1.25"),
            "birthday_gift_points": 100, "perks": ["free_shipping"]})
        Tier.objects.get_or_create(code="gold", defaults={
            "name": "Gold", "rank": 3, "threshold": 1500, "earn_multiplier": Decimal("1.5"), "birthday_gift_points": 250,
            "perks": ["free_shipping", "priority_service"]})
        Plan.objects.get_or_create(code="plus", defaults={
            "name": "Plus", "kind": Plan.Kind.SUBSCRIPTION, "period": Plan.Period.MONTH, "price": Decimal("4.99"),
            "currency": "EUR", "trial_days": 14, "earn_multiplier": Decimal("2"), "tier_floor": silver,
            "perks": ["member_prices"]})

        now = timezone.now()
        for n, (external_id, name, email, phone, birth) in enumerate(DEMO_MEMBERS):
            if Member.objects.filter(external_id=external_id).exists():
                continue
            joined = now - timedelta(days=400 - n * 30)
            with time_machine.travel(joined, tick=False):
                member = member_register(external_id=external_id, name=name, email=email, phone=phone,
                                         birth_date=timezone.datetime.fromisoformat(birth).date(),
                                         marketing_consent=n % 2 == 0, joined_at=joined)
                referral_code_ensure(member=member)
            for k in range(6 - n):
                when = joined + timedelta(days=30 * k + 3)
                if when > now:
                    break
                with time_machine.travel(when, tick=False):
                    flows.order_place(
                        member=member, channel_id=shop.pk, order_id=f"{external_id}-{k}",
                        amount=Decimal(60 + 45 * k), currency="EUR", idempotency_key=f"demo-{external_id}-{k}",
                        lines=[LineInput(sku="COF-1", amount=Decimal(20), category="coffee"),
                               LineInput(sku="BK-7", amount=Decimal(30 + 45 * k), category="books")],
                    )
            with time_machine.travel(joined + timedelta(days=200), tick=False):
                try:
                    redemption_create(member=member, points=200, channel_id=shop.pk,
                                      idempotency_key=f"demo-redeem-{external_id}", order_id=f"{external_id}-r")
                except Exception:  # not enough points yet for this member: history without a redemption
                    pass
        loyalty.points_settle_due()

        logins = []
        for username, group, does in STAFF:
            password = secrets.token_urlsafe(12)  # each their own, shown once
            if group is None:
                user = User.objects.create_superuser(username, f"{username}@example.com", password)
            else:
                user = User.objects.create_user(username, f"{username}@example.com", password, is_staff=True)
                user.groups.add(Group.objects.get(name=group))
            logins.append((username, password, does))
        admin = User.objects.get(username="admin")
        _, raw_key = api_key_create(channel=shop, name="demo web shop", created_by=admin)
        self.stdout.write(self.style.SUCCESS("Demo program seeded (shown once, keep it):"))
        self.stdout.write(f"  Staff logins at {url}/admin/:")
        for username, password, does in logins:
            self.stdout.write(f"    {username:8} {password}   ({does})")
        self.stdout.write(f"  API key for channel 'webshop': {raw_key}")
        self.stdout.write(f"  Try: curl -H 'Authorization: Api-Key {raw_key}' {url}/api/v1/members/C-1001/balance")
