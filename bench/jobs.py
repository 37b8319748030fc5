"""Background jobs at scale (`make bench`, after the API benchmark): the expiry of 1,000,000 due lots and the
birthday run over 1,000,000 members, each beside the same job over 100,000, in a database of its own
(loyalty_bench_jobs, dropped and re-created on each run).

  1. Members, accounts, tiers and due lots are created with set-based SQL (generate_series): 100,000 members with
     one due lot each (cohort A).
  2. Birthday run over those 100,000 members (birth dates spread over the year: about 1/365 have a birthday on a
     given day; the first run also catches up the previous `birthday_catch_up_days` days).
     Settle (expiry) over the 100,000 lots of cohort A.
  3. 900,000 more members (1,000,000 in all); one due lot for each of the 1,000,000 (cohort B), and 5,000 lots
     of an earlier due date (cohort C) for the baseline.
  4. Baseline: a per-lot ORM loop (lock the account, write the expire transaction and the lot movement, zero
     the lot, save the account; one database transaction per lot) over cohort C's 5,000 lots, extrapolated to
     1,000,000 lots. Extrapolated, not measured: a million-lot loop would take longer than the whole benchmark.
  5. Birthday run over the 1,000,000 members (ten days later, so a fresh set of birthdays).
     Settle (expiry) over the 1,000,000 lots of cohort B.
  6. The ledger's balance is checked (every member: account == transactions == lots).

--db, --small, --large and --sample change the database and the sizes (`make bench` with BENCH_QUICK=1 runs it
small). Goals: 1,000,000 lots expired in under 60 s, and at least 10 times faster than the per-lot loop.
Results: bench/out/jobs.json and a table. Exit status 1 when a run failed or the ledger is out of balance;
with --strict, also when a goal is not met.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
OUT = BENCH / "out"
PG = "postgres://postgres@127.0.0.1:5432"
DB = "loyalty_bench_jobs"
SMALL, LARGE, SAMPLE = 100_000, 1_000_000, 5_000
GOALS = {"expire_1m_seconds": 60.0, "speedup_vs_loop": 10.0}
# Lot ids by cohort (transactions and the first lot movement share them): A = i, B = 2M + i, C = 4M + i.
COHORT = {"A": 0, "B": 2_000_000, "C": 4_000_000}

_started = time.monotonic()


def say(message: str) -> None:
    print(f"[{time.monotonic() - _started:6.1f}s] {message}", flush=True)


def setup(db: str = DB, *, fresh: bool = True) -> None:
    """A fresh database `db` (or, with fresh=False, the one already there), migrated, and Django set up on it (the
    insight benchmark uses it too)."""
    if fresh:
        with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
            template = os.environ.get("BENCH_TEMPLATE_DB")  # bench/all.py's migrated copy: see run.recreate_database
            conn.execute(f'CREATE DATABASE "{db}"' + (f' TEMPLATE "{template}"' if template else ""))
    # The jobs only record messages here; delivering them is not what is measured (and goes nowhere).
    env = {**os.environ, "DATABASE_URL": f"{PG}/{db}", "DJANGO_SETTINGS_MODULE": "config.settings.local", "DEBUG": "0",
           "CELERY_BROKER_URL": "", "NOTIFICATIONS_ENQUEUE_ON_COMMIT": "0", "EMAIL_URL": "dummymail://"}
    os.environ.update(env)
    proc = subprocess.run([sys.executable, "manage.py", "migrate", "--noinput"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=600, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"migrate failed:\n{proc.stderr[-3000:]}")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def sql(statement: str, params: dict | None = None) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(statement, params or {})
        return cursor.rowcount


def seed_members(first: int, last: int, joined: datetime, tier_id: int) -> None:
    from django.db import transaction

    with transaction.atomic():
        sql("""INSERT INTO members_member (id, external_id, name, email, phone, card_number, birth_date, timezone, status,
                   marketing_consent, language, joined_at, updated_at)
               SELECT i, 'J-' || i, '', 'j' || i || '@example.com', '', NULL, date '1980-01-01' + (i %% 366),
                   CASE WHEN i %% 10 = 0 THEN 'Asia/Shanghai' ELSE 'UTC' END, 'active', i %% 2 = 0, 'en', %(joined)s, now()
               FROM generate_series(%(first)s, %(last)s) i""", {"first": first, "last": last, "joined": joined})
        sql("""INSERT INTO members_tierstatus (member_id, tier_id, since, pin_reason)
               SELECT i, %(tier)s, %(joined)s, '' FROM generate_series(%(first)s, %(last)s) i""",
            {"first": first, "last": last, "joined": joined, "tier": tier_id})
        sql("""INSERT INTO loyalty_account (member_id, available, pending, lifetime_earned, lifetime_redeemed,
                   lifetime_expired, updated_at)
               SELECT i, 0, 0, 0, 0, 0, now() FROM generate_series(%(first)s, %(last)s) i""", {"first": first, "last": last})
        sql("SELECT setval(pg_get_serial_sequence('members_member', 'id'), %(last)s)", {"last": last})


def seed_lots(cohort: str, first: int, last: int, expires_at: datetime, channel_id: int) -> None:
    """One released lot of 10 points for each member first..last, expiring at `expires_at`, with its earn
    transaction and lot movement, and the account moved accordingly: a balanced ledger."""
    from django.db import transaction

    params = {"first": first, "last": last, "offset": COHORT[cohort], "expires": expires_at,
              "earned": expires_at - timedelta(days=365), "channel": channel_id}
    with transaction.atomic():
        sql("""UPDATE loyalty_account SET available = available + 10, lifetime_earned = lifetime_earned + 10
               WHERE member_id BETWEEN %(first)s AND %(last)s""", params)
        sql("""INSERT INTO loyalty_transaction (id, member_id, kind, points, available_delta, pending_delta, balance_after,
                   pending_after, reference, channel_id, actor_id, reason, idempotency_key, reverses_id, multiplier, details,
                   created_at)
               SELECT %(offset)s + i, i, 'earn', 10, 10, 0, a.available, 0, '', %(channel)s, NULL, 'bench seed',
                   'seed:' || (%(offset)s + i), NULL, 1, '{}'::jsonb, %(earned)s
               FROM generate_series(%(first)s, %(last)s) i JOIN loyalty_account a ON a.member_id = i""", params)
        sql("""INSERT INTO loyalty_lot (id, member_id, source_id, order_id, amount, remaining, released, earned_at,
                   available_at, expires_at)
               SELECT %(offset)s + i, i, %(offset)s + i, NULL, 10, 10, true, %(earned)s, %(earned)s, %(expires)s
               FROM generate_series(%(first)s, %(last)s) i""", params)
        sql("""INSERT INTO loyalty_lotmovement (id, transaction_id, lot_id, points)
               SELECT %(offset)s + i, %(offset)s + i, %(offset)s + i, 10 FROM generate_series(%(first)s, %(last)s) i""",
            params)
        for table in ("loyalty_transaction", "loyalty_lot", "loyalty_lotmovement"):
            sql(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")


def vacuum() -> None:
    from django.db import connection

    with psycopg.connect(f"{PG}/{connection.settings_dict['NAME']}", autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
        conn.execute("CHECKPOINT")


def timed(label: str, fn, *args, **kwargs) -> tuple[float, object]:
    say(f"{label} ...")
    started = time.perf_counter()
    result = fn(*args, **kwargs)
    seconds = time.perf_counter() - started
    say(f"  {seconds:.2f} s: {result}")
    return seconds, result


def per_lot_loop(now: datetime) -> int:
    """The naive expiry: one lot at a time through the ORM, one database transaction each."""
    from django.db import transaction
    from django.db.models import F

    from loyalty.locks import members_locked
    from loyalty.models import Lot, LotMovement, Transaction
    from loyalty.services.ledger import channel_id, system_key

    system = channel_id("system")
    done = 0
    for lot in Lot.objects.filter(remaining__gt=0, expires_at__lte=now).order_by("member_id", "id").iterator(2000):
        with transaction.atomic(), members_locked([lot.member_id]) as accounts:
            account = accounts[lot.member_id]
            account.available -= lot.remaining
            account.lifetime_expired += lot.remaining
            account.save(update_fields=["available", "lifetime_expired", "updated_at"])
            txn = Transaction.objects.create(
                member_id=lot.member_id, kind="expire", points=-lot.remaining, available_delta=-lot.remaining,
                pending_delta=0, balance_after=account.available, pending_after=account.pending, channel_id=system,
                idempotency_key=system_key("expire"), reason="Points reached their expiry date.",
                details={"lots": [lot.pk]}, created_at=now)
            LotMovement.objects.create(transaction=txn, lot=lot, points=-lot.remaining)
            Lot.objects.filter(pk=lot.pk).update(remaining=F("remaining") - lot.remaining)
        done += 1
    return done


LEDGER_CHECK = """
WITH t AS (SELECT member_id, sum(points) p, sum(available_delta) a, sum(pending_delta) d FROM loyalty_transaction GROUP BY 1),
     l AS (SELECT member_id, sum(remaining) FILTER (WHERE released) r, sum(remaining) FILTER (WHERE NOT released) u
           FROM loyalty_lot GROUP BY 1)
SELECT count(*) FROM loyalty_account acc LEFT JOIN t USING (member_id) LEFT JOIN l USING (member_id)
WHERE acc.available + acc.pending <> coalesce(t.p, 0) OR acc.available <> coalesce(t.a, 0)
   OR acc.available <> coalesce(l.r, 0) OR acc.pending <> coalesce(l.u, 0)
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--strict", action="store_true", help="exit 1 when a goal is not met")
    parser.add_argument("--batch-size", type=int, default=10000, help="members per settle batch (default 10000)")
    parser.add_argument("--db", default=DB, help=f"the benchmark's own database (dropped and re-created; default {DB})")
    parser.add_argument("--small", type=int, default=SMALL, help=f"members of the first runs (default {SMALL:,})")
    parser.add_argument("--large", type=int, default=LARGE, help=f"members of the large runs (default {LARGE:,})")
    parser.add_argument("--sample", type=int, default=SAMPLE,
                        help=f"lots of the per-lot loop's sample (default {SAMPLE:,})")
    options = parser.parse_args()
    small, large, sample = options.small, options.large, options.sample
    if not sample <= small < large < COHORT["B"]:
        parser.error(f"sizes must satisfy sample <= small < large < {COHORT['B']:,}")
    OUT.mkdir(exist_ok=True)
    say(f"database {options.db}: re-creating and migrating")
    setup(options.db)

    from core.models import Channel
    from loyalty.models import Transaction
    from loyalty.services import birthdays_gift_due, points_settle_due
    from members.models import Tier

    now = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0)
    joined = now - timedelta(days=800)
    tier = Tier.objects.create(code="silver", name="Silver", rank=1, threshold=0, birthday_gift_points=50)
    seed_channel = Channel.named("bench-seed").pk
    runs: dict = {}

    say(f"seeding {small:,} members with one due lot each (set-based SQL)")
    started = time.perf_counter()
    seed_members(1, small, joined, tier.pk)
    seed_lots("A", 1, small, now - timedelta(days=2), seed_channel)
    vacuum()
    runs["seed_small_s"] = round(time.perf_counter() - started, 1)

    seconds, result = timed(f"birthday run over {small:,} members", birthdays_gift_due, now=now)
    runs["birthdays_100k"] = {"seconds": round(seconds, 2), **result}
    seconds, result = timed(f"settle (expiry) over {small:,} lots", points_settle_due,
                            now=now - timedelta(hours=36), batch_size=options.batch_size)
    runs["expire_100k"] = {"seconds": round(seconds, 2), **result}

    say(f"seeding {large - small:,} more members, {large:,} due lots and {sample:,} baseline lots")
    started = time.perf_counter()
    seed_members(small + 1, large, joined, tier.pk)
    seed_lots("B", 1, large, now - timedelta(days=1), seed_channel)
    seed_lots("C", 1, sample, now - timedelta(days=3), seed_channel)
    vacuum()
    runs["seed_large_s"] = round(time.perf_counter() - started, 1)

    seconds, done = timed(f"baseline: per-lot ORM loop over {sample:,} lots", per_lot_loop, now - timedelta(hours=60))
    runs["loop_sample"] = {"seconds": round(seconds, 2), "lots": done,
                           "extrapolated_1m_seconds": round(seconds * large / max(done, 1), 1)}
    seconds, result = timed(f"birthday run over {large:,} members", birthdays_gift_due, now=now + timedelta(days=10))
    runs["birthdays_1m"] = {"seconds": round(seconds, 2), **result}
    vacuum()
    seconds, result = timed(f"settle (expiry) over {large:,} lots", points_settle_due, now=now,
                            batch_size=options.batch_size)
    runs["expire_1m"] = {"seconds": round(seconds, 2), **result}

    say("checking the ledger of every member")
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(LEDGER_CHECK)
        unbalanced = cursor.fetchone()[0]
    expired = Transaction.objects.filter(kind="expire").count()

    e100, e1m, loop = runs["expire_100k"], runs["expire_1m"], runs["loop_sample"]
    b100, b1m = runs["birthdays_100k"], runs["birthdays_1m"]
    speedup = loop["extrapolated_1m_seconds"] / e1m["seconds"] if e1m["seconds"] else 0.0
    goals = [
        {"name": f"expire {large:,} lots", "measured": f"{e1m['seconds']:.1f} s",
         "target": f"< {GOALS['expire_1m_seconds']:.0f} s", "met": e1m["seconds"] < GOALS["expire_1m_seconds"]},
        {"name": "vs per-lot ORM loop (extrapolated)", "measured": f"{speedup:.1f} x",
         "target": f">= {GOALS['speedup_vs_loop']:.0f} x", "met": speedup >= GOALS["speedup_vs_loop"]},
        {"name": "ledger balanced after the jobs", "measured": f"{unbalanced} members off", "target": "0",
         "met": unbalanced == 0},
    ]
    results = {"finished_at": datetime.now(UTC).isoformat(timespec="seconds"), "cpus": os.cpu_count(),
               "elapsed_s": round(time.monotonic() - _started, 1), "runs": runs, "goals": goals,
               "speedup_vs_loop": round(speedup, 1), "expire_transactions": expired, "batch_size": options.batch_size,
               # the run's sizes: the keys above say 100k and 1m, the default sizes
               "sizes": {"small": small, "large": large, "sample": sample}}
    (OUT / "jobs.json").write_text(json.dumps(results, indent=2) + "\n")
    lines = [
        "", f"Background jobs at scale — {os.cpu_count()} CPUs, settle batches of {options.batch_size} members", "",
        f"{'Run':<44}{small:>12,}{large:>12,}{'ratio':>8}", "-" * 76,
        f"{'expiry (points_settle_due), lots':<44}{e100['seconds']:>10.2f} s{e1m['seconds']:>10.2f} s"
        f"{e1m['seconds'] / max(e100['seconds'], 1e-9):>8.1f}",
        f"{'birthday run (birthdays_gift_due), members':<44}{b100['seconds']:>10.2f} s{b1m['seconds']:>10.2f} s"
        f"{b1m['seconds'] / max(b100['seconds'], 1e-9):>8.1f}",
        f"  birthday members read / gifts given: {b100['members']:,} / {b100['gifts']:,} ({small:,}), "
        f"{b1m['members']:,} / {b1m['gifts']:,} ({large:,}), catch-up window included",
        f"per-lot ORM loop: {loop['lots']:,} lots in {loop['seconds']:.1f} s -> {loop['extrapolated_1m_seconds']:.0f} s "
        f"for {large:,} (extrapolated, not measured)",
        "", f"{'Goal':<44}{'Measured':>16}{'Target':>12}   Status", "-" * 84,
    ]
    lines += [f"{g['name']:<44}{g['measured']:>16}{g['target']:>12}   {'met' if g['met'] else 'NOT MET'}" for g in goals]
    print("\n".join(lines))
    say(f"results written to {(OUT / 'jobs.json').relative_to(ROOT)}")
    failed = unbalanced != 0 or (options.strict and not all(g["met"] for g in goals))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
