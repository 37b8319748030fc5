"""The insight jobs at scale: the nightly segments (with two rule tags), the CLV fit and the metric snapshots over
1,000,000 members and 10,000,000 orders with their earn transactions (by default), in a database of its own
(loyalty_bench_insight, dropped and re-created on each run).

  1. Set-based seed (generate_series, triggers off while seeding): members joined over three years, their
     accounts, ORDERS_PER_MEMBER orders each on average over the last 1,000 days with one earn transaction each,
     one order line per order of the last 40 days (50 SKUs), an NPS answer from 10 % of the members this month.
  2. The members' facts, from the orders in one GROUP BY (as the order flows would have kept them).
  3. Timed: segments_compute (keyset batches of 5,000), tags_evaluate (two rule tags), clv_model_fit (a sample
     of 50,000), metrics_snapshot_take for yesterday's day, week and month; then segments_compute again (a
     second night: the stage changes are only the drift of one day), and the dashboard's chart snapshots.

  4. Timed: the managers' dashboard (/admin/dashboard/, with its insight charts) requested through Django's test
     client as a manager, after the admin's home page has loaded what a new process loads once (imports,
     translations, templates; timed too): cold (its first request, on a new database connection; PostgreSQL's own
     buffers are as the jobs left them) and warm (the median of three more), and each of its parts alone (the
     points summary and every chart's selector).

Goal (issue 12): the nightly segment and metric jobs under 10 minutes on the 2-core machine, memory flat (the peak
resident size of this process is reported before and after the jobs); the dashboard under one second (issue 10).
Results: bench/out/insight.json.

    python bench/insight.py [--members 1000000] [--orders-per-member 10] [--db loyalty_bench_insight]
                            [--out insight.json] [--dashboard-only]
"""

import argparse
import json
import resource
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jobs  # the jobs benchmark beside this file: database setup and raw SQL
from jobs import sql

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
OUT = BENCH / "out"
PG = "postgres://postgres@127.0.0.1:5432"
DB = "loyalty_bench_insight"
GOAL_SECONDS = 600.0
DASHBOARD_GOAL_SECONDS = 1.0

_started = time.monotonic()


def say(message: str) -> None:
    print(f"[{time.monotonic() - _started:7.1f}s] {message}", flush=True)


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def setup(db: str = DB, *, fresh: bool = True) -> None:
    jobs.setup(db, fresh=fresh)


SEEDED_TABLES = ("members_member", "loyalty_transaction", "loyalty_order", "loyalty_orderline")


def secondary_indexes_drop(tables: tuple[str, ...]) -> list[str]:
    """Drop the tables' unique constraints and indexes (not their primary keys) and return the statements that
    re-create them: PostgreSQL builds an index over ten million rows sorted, in one pass, many times faster than it
    maintains it row by row (the first seed of 10,000,000 ledger rows had not finished after 13 minutes)."""
    from django.db import connection

    again = []
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute("""SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint
                              WHERE conrelid = %s::regclass AND contype IN ('u', 'x')""", [table])
            for name, definition in cursor.fetchall():
                cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
                again.append(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
            cursor.execute("""SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
                              WHERE x.indrelid = %s::regclass AND NOT x.indisprimary
                                AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.oid)""", [table])
            for name, definition in cursor.fetchall():
                cursor.execute(f'DROP INDEX "{name}"')
                again.append(definition)
    return again


def seed(members: int, orders: int, now: datetime, channel: int) -> None:
    from django.db import transaction

    p = {"members": members, "orders": orders, "now": now, "channel": channel}
    with transaction.atomic():
        sql("SET LOCAL session_replication_role = replica")  # no triggers or FK checks while seeding
        sql("SET LOCAL maintenance_work_mem = '256MB'")  # this transaction's index builds (not the server's setting)
        recreate = secondary_indexes_drop(SEEDED_TABLES)
        sql("""INSERT INTO members_member (id, external_id, name, email, phone, card_number, birth_date, timezone, status,
                   marketing_consent, language, joined_at, updated_at)
               SELECT i, 'I-' || i, '', '', '', NULL, NULL, 'UTC', 'active', false, 'en',
                   %(now)s - make_interval(days => 1 + (i * 37) %% 1095), %(now)s
               FROM generate_series(1, %(members)s) i""", p)
        say(f"  {members:,} members")
        # Order k belongs to member 1 + k % members (its j-th order, j = k / members), on a day spread over the last
        # 1,000 days by member and by j (before joining is not excluded: the jobs do not care).
        sql("""INSERT INTO loyalty_transaction (id, member_id, kind, points, available_delta, pending_delta, balance_after,
                   pending_after, reference, channel_id, actor_id, reason, idempotency_key, reverses_id, multiplier,
                   details, created_at)
               SELECT k, 1 + k %% %(members)s, 'earn', 1 + k %% 9, 1 + k %% 9, 0, 0, 0, 'O-' || k, %(channel)s, NULL, '',
                   'seed:' || k, NULL, 1, '{}'::jsonb,
                   %(now)s - make_interval(days => ((k %% %(members)s) * 37 + (k / %(members)s) * (k %% 7 + 1) * 53) %% 1000,
                                           secs => k %% 86000)
               FROM generate_series(1, %(orders)s) k
               ORDER BY 17""", p)  # the ledger is written in time order (its BRIN index on created_at relies on it)
        say(f"  {orders:,} transactions")
        sql("""INSERT INTO loyalty_order (id, channel_id, order_id, member_id, amount, currency, store, occurred_at,
                   points_earned, qualifying_points, qualifying_reversed, rate_points, rate_amount, refunded_amount,
                   points_reversed, earn_transaction_id, created_at)
               SELECT k, %(channel)s, 'O-' || k, member_id, (points * 10 + 5)::numeric, 'EUR', 'S' || k %% 5, created_at,
                   points, points, 0, 1, 10, 0, 0, k, created_at
               FROM loyalty_transaction t, LATERAL (SELECT t.id AS k) x""", p)
        say(f"  {orders:,} orders")
        sql("""INSERT INTO loyalty_orderline (order_id, sku, category, quantity, amount, multiplier, points, refunded_amount)
               SELECT o.id, 'SKU-' || o.id %% 50, 'cat-' || o.id %% 7, 1, o.amount, 1, 0, 0
               FROM loyalty_order o WHERE o.occurred_at >= %(now)s - interval '40 days'""", p)
        sql("""INSERT INTO loyalty_account (member_id, available, pending, lifetime_earned, lifetime_redeemed,
                   lifetime_expired, updated_at)
               SELECT m.id, COALESCE(s.points, 0), 0, COALESCE(s.points, 0), 0, 0, %(now)s
               FROM members_member m LEFT JOIN (SELECT member_id, SUM(points) AS points FROM loyalty_transaction
                                                GROUP BY member_id) s ON s.member_id = m.id""", p)
        sql("""INSERT INTO insight_survey (code, kind, title, period, reward_points, active, created_at)
               VALUES ('nps', 'nps', '', 'month', 0, true, %(now)s)""", p)
        sql("""INSERT INTO insight_surveyanswer (survey_id, member_id, period, score, comment, channel_id, answered_at)
               SELECT (SELECT id FROM insight_survey), i, 'x', i %% 11, '', %(channel)s,
                   date_trunc('month', %(now)s) + make_interval(secs => i %% 86400)
               FROM generate_series(1, %(members)s, 10) i""", p)
        start = time.monotonic()
        for statement in recreate:
            sql(statement)
        say(f"  {len(recreate)} indexes and unique constraints built again in {time.monotonic() - start:.1f} s")
        for table in ("members_member", "loyalty_transaction", "loyalty_order"):
            sql(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")


def facts_from_orders() -> None:
    from django.db import transaction

    with transaction.atomic():
        sql("""INSERT INTO insight_memberfacts (member_id, first_order_at, last_order_at, orders_count, refunded_orders,
                   redeemed_orders, spend, categories, categories_count, last_nps, updated_at)
               SELECT o.member_id, MIN(o.occurred_at), MAX(o.occurred_at), COUNT(*), 0, 0, SUM(o.amount), '[]'::jsonb, 0,
                   MAX(a.score)::int, now()
               FROM loyalty_order o LEFT JOIN insight_surveyanswer a ON a.member_id = o.member_id
               GROUP BY o.member_id""")


def sql_value(statement: str):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(statement)
        return cursor.fetchone()[0]


def timed(label: str, fn, **kwargs) -> tuple[float, object]:
    say(f"{label} ...")
    start = time.monotonic()
    result = fn(**kwargs)
    seconds = time.monotonic() - start
    say(f"{label}: {seconds:.1f} s -> {result if not hasattr(result, 'pk') else result.pk}")
    return seconds, result


def seconds(fn) -> float:
    start = time.monotonic()
    fn()
    return round(time.monotonic() - start, 3)


def time_dashboard() -> dict:
    """The dashboard as a manager sees it: cold, warm, and each part alone."""
    from django.contrib.auth.models import Group, User
    from django.db import connection
    from django.test import Client

    from config import office
    from insight import dashboard

    user = User.objects.filter(username="bench-manager").first() or User.objects.create_user(
        "bench-manager", password="a long password 1", is_staff=True)
    user.groups.add(Group.objects.get(name="Manager"))
    client = Client(HTTP_HOST="localhost")
    client.force_login(user)

    def get() -> None:
        response = client.get("/admin/dashboard/")
        assert response.status_code == 200, response.status_code

    first_page = seconds(lambda: client.get("/admin/"))  # a new process: imports, translations, templates
    connection.close()  # the cold request opens its own connection
    cold = seconds(get)
    warm = sorted(seconds(get) for _ in range(3))[1]
    say(f"dashboard: cold {cold:.3f} s, warm {warm:.3f} s (a new process's first admin page: {first_page:.3f} s)")
    parts = {"summary": seconds(office.dashboard_data), "segment_cube": seconds(dashboard.segment_cube)}
    for key in dashboard.CHARTS:
        parts[f"chart_{key}"] = seconds(lambda key=key: dashboard.chart_get(key=key))
    say(f"dashboard parts: {parts}")
    return {"first_admin_page_of_a_process_s": first_page, "dashboard_cold_s": cold, "dashboard_warm_s": warm,
            "dashboard_parts_s": parts,
            "dashboard_goal_met": max(cold, warm) < DASHBOARD_GOAL_SECONDS}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--orders-per-member", type=int, default=10)
    parser.add_argument("--db", default=DB, help="The database to drop, re-create and fill.")
    parser.add_argument("--out", default="insight.json", help="The results' file name in bench/out/.")
    parser.add_argument("--dashboard-only", action="store_true",
                        help="Reuse the database a full run left (not dropped, not seeded, no nightly jobs): take the "
                             "chart snapshots and time the dashboard again.")
    args = parser.parse_args()
    setup(args.db, fresh=not args.dashboard_only)
    from core.models import Channel
    from insight import services
    from insight.models import Tag
    from members.models import Member

    if args.dashboard_only:
        results = {"members": Member.objects.count(), "transactions": sql_value("SELECT count(*) FROM loyalty_transaction")}
        results["chart_snapshots_s"], results["chart_snapshots"] = timed("chart_snapshots_take",
                                                                         services.chart_snapshots_take)
        results.update(time_dashboard())
        OUT.mkdir(exist_ok=True)
        (OUT / args.out).write_text(json.dumps(results, indent=2, default=str))
        print(json.dumps(results, indent=2, default=str))
        return 0

    now = datetime.now(UTC).replace(microsecond=0)
    orders = args.members * args.orders_per_member
    say(f"seeding {args.members:,} members and {orders:,} orders ...")
    seed(args.members, orders, now, Channel.named("bench-seed").pk)
    facts_from_orders()
    sql("VACUUM ANALYZE")
    Tag.objects.create(code="big-spender", name="Big spender", rule_field="spend", rule_op="gte", rule_value="500")
    Tag.objects.create(code="lost", name="Lost", rule_field="stage", rule_op="eq", rule_value="churned")
    rss_before = rss_mb()
    yesterday = (now - timedelta(days=1)).date()
    results = {"members": args.members, "orders": orders, "transactions": orders}
    results["segments_s"], stats = timed("segments_compute", services.segments_compute)
    results["segments"] = stats
    results["tags_s"], results["tags"] = timed("tags_evaluate", services.tags_evaluate)
    results["clv_fit_s"], model = timed("clv_model_fit", services.clv_model_fit)
    results["clv_model"] = {k: getattr(model, k) for k in ("customers", "r", "alpha", "a", "b", "p", "q", "gamma")}
    for period in ("day", "week", "month"):
        results[f"metrics_{period}_s"], _ = timed(f"metrics {period}", services.metrics_snapshot_take, period=period,
                                                  day=yesterday)
    results["segments_second_night_s"], results["segments_second_night"] = timed(
        "segments_compute, next night", services.segments_compute, now=now + timedelta(days=1))
    results["nightly_total_s"] = round(sum(results[k] for k in ("segments_s", "tags_s", "clv_fit_s", "metrics_day_s",
                                                               "metrics_week_s", "metrics_month_s")), 1)
    results["rss_mb_before_jobs"], results["rss_mb_after_jobs"] = round(rss_before, 1), round(rss_mb(), 1)
    results["chart_snapshots_s"], results["chart_snapshots"] = timed("chart_snapshots_take",
                                                                     services.chart_snapshots_take)
    results["nightly_total_s"] = round(results["nightly_total_s"] + results["chart_snapshots_s"], 1)
    results["goal_met"] = results["nightly_total_s"] < GOAL_SECONDS
    results.update(time_dashboard())
    OUT.mkdir(exist_ok=True)
    (OUT / args.out).write_text(json.dumps(results, indent=2, default=str))
    print(json.dumps(results, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
