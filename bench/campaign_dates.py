"""The campaigns' daily date-trigger job at scale (`make bench`): birthday and anniversary campaigns over
1,000,000 members (by default), in a database of its own (loyalty_bench_campaigns, dropped and re-created on each
run).

  1. Set-based seed (generate_series): members with birth dates spread over the year and joining dates spread
     over three years (about 1/365 of them have a birthday, and as many a joining anniversary, on a given day),
     their ledger accounts.
  2. Two live campaigns: a birthday one (10 points and a message) and an anniversary one (10 points), with a 10 %
     control group on the anniversary.
  3. Timed: campaigns' dates_evaluate for one day (reads only the members due, through the `member_birthday` and
     `member_joined` indexes, in keyset batches of 500), then the same day again (a rerun: pays nothing twice).

Goal: the daily job over 1,000,000 members in under 60 s on the 2-core machine; the rerun fires nothing.
Results: bench/out/campaign_dates.json.

    python bench/campaign_dates.py [--members 1000000] [--db loyalty_bench_campaigns]

`--db` names another database when several people benchmark on one server (it is dropped and re-created).
"""

import argparse
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import jobs  # the jobs benchmark beside this file: database setup and raw SQL
from jobs import sql

BENCH = Path(__file__).resolve().parent
OUT = BENCH / "out"
DB = "loyalty_bench_campaigns"
GOAL_SECONDS = 60.0

_started = time.monotonic()


def say(message: str) -> None:
    print(f"[{time.monotonic() - _started:7.1f}s] {message}", flush=True)


def seed(members: int, now: datetime) -> None:
    from django.db import transaction

    with transaction.atomic():
        sql("""INSERT INTO members_member (id, external_id, name, email, phone, card_number, birth_date, timezone, status,
                   marketing_consent, language, joined_at, updated_at, page_link_version)
               SELECT i, 'C-' || i, '', '', '', NULL, date '1970-01-01' + (i::bigint * 7919 %% 15000)::int,
                   'UTC', 'active', i %% 2 = 0, CASE WHEN i %% 3 = 0 THEN 'zh-hans' ELSE 'en' END,
                   %(now)s - make_interval(days => 1 + (i::bigint * 104729 %% 1095)::int) - make_interval(mins => i %% 1440),
                   now(), 0
               FROM generate_series(1, %(members)s) i""", {"members": members, "now": now})
        sql("""INSERT INTO loyalty_account (member_id, available, pending, lifetime_earned, lifetime_redeemed,
                   lifetime_expired, updated_at)
               SELECT i, 0, 0, 0, 0, 0, now() FROM generate_series(1, %(members)s) i""", {"members": members})
        sql("SELECT setval(pg_get_serial_sequence('members_member', 'id'), %(members)s)", {"members": members})


def timed(label: str, fn, **kwargs) -> tuple[float, object]:
    say(f"{label} ...")
    started = time.perf_counter()
    result = fn(**kwargs)
    seconds = time.perf_counter() - started
    say(f"  {seconds:.2f} s: {result}")
    return round(seconds, 2), result


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--db", default=DB, help="the benchmark's own database (dropped and re-created)")
    args = parser.parse_args()
    jobs.setup(args.db)
    from campaigns.models import Campaign
    from campaigns.services import dates_evaluate
    from loyalty.models import ProgramSettings

    program = ProgramSettings.current()
    program.currency = "EUR"
    program.save()
    now = datetime(2026, 11, 20, 0, 15, tzinfo=UTC)
    say(f"seeding {args.members:,} members ...")
    seed(args.members, now)
    sql("VACUUM ANALYZE")
    Campaign.objects.create(code="bench-birthday", name="Birthday", active=True, trigger=Campaign.Trigger.BIRTHDAY,
                            bonus_points=10, once_per_member=False,
                            message_text={"en": "Happy birthday", "zh-hans": "生日快乐"})
    Campaign.objects.create(code="bench-anniversary", name="Anniversary", active=True,
                            trigger=Campaign.Trigger.ANNIVERSARY, bonus_points=10, once_per_member=False,
                            holdout_percent=10)
    results = {"date": datetime.now(UTC).date().isoformat(), "members": args.members, "goal_s": GOAL_SECONDS}
    results["daily_s"], results["daily"] = timed("dates_evaluate", dates_evaluate, now=now)
    results["rerun_s"], results["rerun"] = timed("dates_evaluate, rerun of the day", dates_evaluate, now=now)
    results["goal_met"] = results["daily_s"] < GOAL_SECONDS and results["rerun"]["fired"] == 0
    OUT.mkdir(exist_ok=True)
    (OUT / "campaign_dates.json").write_text(json.dumps(results, indent=2, default=str))
    print(json.dumps(results, indent=2, default=str))
    say(f"{results['date']}: the day's {results['daily']['fired']:,} firings over {args.members:,} members in "
        f"{results['daily_s']:.2f} s (goal {GOAL_SECONDS:.0f} s: {'met' if results['goal_met'] else 'NOT met'}), "
        f"the rerun {results['rerun_s']:.2f} s firing {results['rerun']['fired']}")
    return 0 if results["rerun"]["fired"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
