"""What a fault test does inside the application (`python -m tests.faults.driver COMMAND [ARGS]`, with the fault
settings and the test's own database): set up the program, seed members, run a job in-process, prove the books.
Several commands separated by `--` run in one process. Prints a JSON list, a result per command."""

import json
import sys
from datetime import timedelta

import django


def setup() -> dict:
    from decimal import Decimal

    from core.models import Channel, Scope
    from core.services import api_key_create
    from loyalty.models import ProgramSettings
    from members.models import Tier

    program = ProgramSettings.current()
    program.currency, program.earn_points, program.earn_amount = "EUR", 1, Decimal("10.00")
    program.rounding, program.pending_days = ProgramSettings.Rounding.DOWN, 0
    program.expiry_policy, program.expiry_months = ProgramSettings.ExpiryPolicy.MONTHS_AFTER_EARNING, 12
    program.save()
    Tier.objects.get_or_create(code="gold", defaults={"name": "Gold", "rank": 1, "birthday_gift_points": 50})
    _, raw = api_key_create(channel=Channel.named("webshop"), name="faults", scopes=list(Scope.values))
    return {"api_key": raw}


def _members(prefix: str, count: int, *, with_accounts: bool = True, **fields) -> list[int]:
    from django.utils import timezone

    from loyalty.models import Account
    from members.models import Member, Tier, TierStatus

    joined = timezone.now() - timedelta(days=400)
    members = Member.objects.bulk_create(
        [Member(external_id=f"{prefix}-{i:04d}", email=f"{prefix.lower()}{i}@example.com", timezone="UTC",
                joined_at=joined, **fields) for i in range(count)])
    gold = Tier.objects.get(code="gold")
    TierStatus.objects.bulk_create([TierStatus(member=m, tier=gold, since=joined) for m in members])
    if with_accounts:
        Account.objects.bulk_create([Account(member=m) for m in members])
    return sorted(m.pk for m in members)


def seed_birthdays(prefix: str, count: str) -> dict:
    """`count` members whose birthday is today (UTC), in the Gold tier (50 points of birthday gift)."""
    from django.utils import timezone

    today = timezone.now().date()
    return {"members": _members(prefix, int(count), birth_date=today.replace(year=today.year - 30))}


def seed_due_lots(prefix: str, count: str) -> dict:
    """`count` members, each with one released lot of 10 points that expired yesterday (its earn transaction and
    lot movement written as the ledger writes them: the books balance)."""
    from django.db import connection, transaction
    from django.utils import timezone

    from core.models import Channel

    ids = _members(prefix, int(count), with_accounts=False)
    now = timezone.now()
    params = {"ids": ids, "earned": now - timedelta(days=366), "expires": now - timedelta(days=1),
              "channel": Channel.named("webshop").pk, "prefix": prefix}
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("""INSERT INTO loyalty_account (member_id, available, pending, lifetime_earned, lifetime_redeemed,
                              lifetime_expired, updated_at)
                          SELECT i, 10, 0, 10, 0, 0, now() FROM unnest(%(ids)s::bigint[]) i""", params)
        cursor.execute("""INSERT INTO loyalty_transaction (member_id, kind, points, available_delta, pending_delta,
                              balance_after, pending_after, reference, channel_id, actor_id, reason, idempotency_key,
                              reverses_id, multiplier, details, created_at)
                          SELECT i, 'earn', 10, 10, 0, 10, 0, '', %(channel)s, NULL, 'fault test seed',
                              'seed:' || %(prefix)s || ':' || i, NULL, 1, '{}'::jsonb, %(earned)s
                          FROM unnest(%(ids)s::bigint[]) i""", params)
        cursor.execute("""INSERT INTO loyalty_lot (member_id, source_id, order_id, amount, remaining, released, earned_at,
                              available_at, expires_at)
                          SELECT t.member_id, t.id, NULL, 10, 10, true, %(earned)s, %(earned)s, %(expires)s
                          FROM loyalty_transaction t WHERE t.idempotency_key LIKE 'seed:' || %(prefix)s || ':%%'""",
                       params)
        cursor.execute("""INSERT INTO loyalty_lotmovement (transaction_id, lot_id, points)
                          SELECT l.source_id, l.id, 10 FROM loyalty_lot l WHERE l.member_id = ANY(%(ids)s)""", params)
    return {"members": ids}


def ledger_check() -> dict:
    from loyalty.services import ledger_check_record

    check = ledger_check_record()
    return {"drifted": check.drifted, "members": check.members_checked, "lots": check.lots_checked}


def birthdays() -> dict:
    from loyalty.services import birthdays_gift_due

    return birthdays_gift_due()


def deliver() -> dict:
    from members.services import notifications_deliver_due

    return notifications_deliver_due()


COMMANDS = {f.__name__: f for f in (setup, seed_birthdays, seed_due_lots, ledger_check, birthdays, deliver)}

if __name__ == "__main__":
    # Several commands in one process (one start of Django): `seed_birthdays X 1 -- birthdays`.
    django.setup()
    steps, results = " ".join(sys.argv[1:]).split(" -- "), []
    for step in steps:
        name, *args = step.split()
        results.append(COMMANDS[name](*args))
    print(json.dumps(results, default=str))
