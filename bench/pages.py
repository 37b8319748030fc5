"""Reads that stay flat at scale (issue 15, goal 5): the thousandth page of a member's statement and of the admin's
ledger list cost what the first page costs.

In a database of its own (loyalty_bench_pages, dropped and re-created on each run), seeded set-based:
1,000,000 members with 10,000,000 earn transactions between them, and one member (DEEP) with 100,000 more.
Timed in this process through Django's test client (the whole request: URL routing, auth, the queries, rendering):

  * the API statement `GET /api/v1/members/DEEP/transactions` (50 a page): the first page, then the `next` links
    followed 1,000 times; the last pages are timed against the first;
  * the admin's ledger list (/admin/loyalty/transaction/, 100 a page, as a superuser): the first page against the
    page 1,000 deep (reached by its `before` key, the id that starts it), and what Django's default list would
    have paid for that page (its COUNT(*) and the OFFSET of 99,900 rows, timed as SQL).

Goal: each deep page within 1.5x of its first page. Results: bench/out/pages.json.

    python bench/pages.py [--members 1000000] [--transactions 10000000] [--deep 100000] [--pages 1000]
                          [--db loyalty_bench_pages]
"""

import argparse
import json
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import jobs  # database setup and raw SQL, shared with the jobs benchmark
from jobs import sql

BENCH = Path(__file__).resolve().parent
OUT = BENCH / "out"
DB = "loyalty_bench_pages"
DEEP = 100_000
GOAL_RATIO = 1.5
REPEAT = 15

_started = time.monotonic()


def say(message: str) -> None:
    print(f"[{time.monotonic() - _started:7.1f}s] {message}", flush=True)


def seed(members: int, transactions: int, deep: int, channel: int, now: datetime) -> int:
    from django.db import transaction

    p = {"members": members, "transactions": transactions, "deep": deep, "channel": channel, "now": now}
    with transaction.atomic():
        sql("SET LOCAL session_replication_role = replica")  # no triggers or FK checks while seeding
        sql("""INSERT INTO members_member (id, external_id, name, email, phone, card_number, birth_date, timezone, status,
                   marketing_consent, language, joined_at, updated_at)
               SELECT i, CASE WHEN i = %(members)s + 1 THEN 'DEEP' ELSE 'P-' || i END, '', '', '', NULL, NULL, 'UTC',
                   'active', false, 'en', %(now)s - make_interval(days => 1 + i %% 1000), %(now)s
               FROM generate_series(1, %(members)s + 1) i""", p)
        # The 10,000,000 spread over every member, then DEEP's 100,000, interleaved with nobody (the newest rows).
        sql("""INSERT INTO loyalty_transaction (id, member_id, kind, points, available_delta, pending_delta, balance_after,
                   pending_after, reference, channel_id, actor_id, reason, idempotency_key, reverses_id, multiplier,
                   details, created_at)
               SELECT k, CASE WHEN k > %(transactions)s THEN %(members)s + 1 ELSE 1 + k %% %(members)s END, 'earn',
                   1 + k %% 9, 1 + k %% 9, 0, 0, 0, 'O-' || k, %(channel)s, NULL, '', 'seed:' || k, NULL, 1, '{}'::jsonb,
                   %(now)s - make_interval(secs => %(transactions)s + %(deep)s - k)
               FROM generate_series(1, %(transactions)s + %(deep)s) k""", p)
        for table in ("members_member", "loyalty_transaction"):
            sql(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
    sql("VACUUM ANALYZE members_member")
    sql("VACUUM ANALYZE loyalty_transaction")
    return members + 1


def clock(fn) -> float:
    start = time.perf_counter()
    response = fn()
    elapsed = (time.perf_counter() - start) * 1000
    assert response.status_code == 200, (response.status_code, response.content[:300])
    return elapsed


def median_ms(fn) -> float:
    fn()  # warm: the plan cache and the rows' pages
    return round(statistics.median(clock(fn) for _ in range(REPEAT)), 2)


def statement(api_key: str, pages: int) -> dict:
    from django.test import Client

    client = Client(HTTP_AUTHORIZATION=f"Api-Key {api_key}")
    url = "/api/v1/members/DEEP/transactions"
    first = median_ms(lambda: client.get(url))
    link, walked, started = url, 0, time.perf_counter()
    while walked < pages:
        body = client.get(link).json()
        link, walked = body["next"], walked + 1
    walk_s = time.perf_counter() - started
    deep = median_ms(lambda: client.get(link))
    return {"first_page_ms": first, "deep_page_ms": deep, "ratio": round(deep / first, 2),
            "walk_s": round(walk_s, 1), "goal_met": deep / first <= GOAL_RATIO}


def admin_ledger(pages: int) -> dict:
    from django.contrib.auth.models import User
    from django.db import connection
    from django.test import Client

    client = Client()
    client.force_login(User.objects.create_superuser("bench-owner", password="x" * 20))
    url = "/admin/loyalty/transaction/"
    per_page = 100
    first = median_ms(lambda: client.get(url))
    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM loyalty_transaction ORDER BY id DESC OFFSET %s LIMIT 1", [(pages - 1) * per_page - 1])
        before = cursor.fetchone()[0]
    deep = median_ms(lambda: client.get(url, {"before": before}))

    def offset_page():  # what Django's paginator does for ?p=1000: count, then skip 99,900 rows (1,000 pages deep)
        with connection.cursor() as cursor:
            cursor.execute("SELECT COUNT(*) FROM loyalty_transaction")
            cursor.execute("SELECT id FROM loyalty_transaction ORDER BY id DESC OFFSET %s LIMIT %s",
                           [(pages - 1) * per_page, per_page])
            cursor.fetchall()

        class Done:
            status_code = 200
        return Done()

    return {"first_page_ms": first, "deep_page_ms": deep, "ratio": round(deep / first, 2),
            "offset_deep_page_sql_ms": median_ms(offset_page), "goal_met": deep / first <= GOAL_RATIO}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--transactions", type=int, default=10_000_000)
    parser.add_argument("--deep", type=int, default=DEEP, help=f"the deep member's transactions (default {DEEP:,})")
    parser.add_argument("--pages", type=int, default=1000, help="how deep the deep pages are (default 1,000)")
    parser.add_argument("--db", default=DB, help=f"the benchmark's own database (dropped and re-created; default {DB})")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a goal is not met")
    args = parser.parse_args()
    if args.deep < 50 * (args.pages + 1) or args.transactions < 100 * args.pages:
        parser.error("--deep must hold 50 x (--pages + 1) transactions and --transactions 100 x --pages")
    jobs.setup(args.db)
    import logging

    from django.conf import settings

    logging.disable(logging.INFO)  # one log line per request would be most of the output

    settings.ALLOWED_HOSTS = ["*"]
    from core.models import Channel
    from core.services import api_key_create

    channel = Channel.named("bench-pages")
    _, api_key = api_key_create(channel=channel, name="bench")
    say(f"seeding {args.members:,} members, {args.transactions:,} transactions and a member with {args.deep:,} ...")
    seed(args.members, args.transactions, args.deep, channel.pk, datetime.now(UTC).replace(microsecond=0))
    say("seeded")
    results = {"date": datetime.now(UTC).date().isoformat(), "members": args.members + 1,
               "transactions": args.transactions + args.deep, "pages_deep": args.pages, "goal_ratio": GOAL_RATIO}
    results["statement"] = statement(api_key, args.pages)
    say(f"statement: {results['statement']}")
    results["admin_ledger"] = admin_ledger(args.pages)
    say(f"admin ledger: {results['admin_ledger']}")
    OUT.mkdir(exist_ok=True)
    (OUT / "pages.json").write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))
    met = results["statement"]["goal_met"] and results["admin_ledger"]["goal_met"]
    return 1 if args.strict and not met else 0


if __name__ == "__main__":
    sys.exit(main())
