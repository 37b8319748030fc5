"""Event ingestion benchmark (`make bench`): behaviour events per second through `POST /api/v1/events` in
batches of 1,000, with 50 live campaigns of mixed triggers and two live challenges, served by gunicorn as
bench/run.py serves the API.

One run, self-contained and re-runnable (about a minute and a half):
  1. A fresh database loyalty_bench_events is created and migrated.
  2. Setup (inside Django): --members members (set-based), five event types, 50 live campaigns (20 on each event
     of a type, some paying points, some held back by a tier, store or channel condition; 15 counting N events
     in a sliding window of days; 5 counting events after sign-up; 5 on orders, 3 on stage and 2 on tier
     changes, which events do not trigger but which are live), two live challenges of event types, an API key.
  3. gunicorn (--workers, 4 by default) on 127.0.0.1:PORT, warmed up with a few batches.
  4. --clients threads post pre-built batches (1,000 events each: 200 members, five events each, over the last
     three days, every event id new) for --duration seconds over kept-alive connections.
  5. Events per second (accepted events / wall time), batch latency (p50, p99), what fired; CPU per 1,000 events
     of gunicorn and of the database's backends. Results: bench/out/events.json.
  6. With --pgbench: pgbench tpcb-like on its own database (DB_pgbench) with as many clients, right after, and the
     ratio events/s to its transactions/s (the machine may be shared: the ratio is the figure to compare).

Goal (issue 13): at least 5,000 events/s on this machine. Exit status 1 when a request failed (or, with
--strict, when the goal is not met).

    python bench/events.py [--members 20000] [--duration 20] [--clients 4] [--workers 4] [--port 8767]
                           [--db loyalty_bench_events] [--reuse] [--pgbench]
"""

import argparse
import http.client
import json
import random
import re
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import run  # bench/run.py: databases, gunicorn, CPU accounting

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
OUT = BENCH / "out"
DB = "loyalty_bench_events"
GOAL = 5000.0
BATCH = 1000
PER_MEMBER = 5
# The mix of a shop's behaviour events: mostly views, few reviews (the ones the paying campaigns reward).
WEIGHTS = {"page_viewed": 60, "course_viewed": 20, "video_watched": 10, "item_added": 8, "review_written": 2}
TYPES = {"page_viewed": {"path": {"type": "string", "required": True}},
         "course_viewed": {"course_id": {"type": "string", "required": True}, "seconds": {"type": "integer"}},
         "video_watched": {"video_id": {"type": "string", "required": True}},
         "item_added": {"sku": {"type": "string", "required": True}, "store": {"type": "string"}},
         "review_written": {"stars": {"type": "integer", "required": True}}}

run.use_databases(DB, run.PGBENCH_DB)  # run.py's helpers read these at call time (--db names another)


def setup(members: int) -> dict:
    """Inside Django (a subprocess with the app's environment): members, event types, campaigns, an API key."""
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from campaigns.models import Campaign, Challenge, EventType
    from core.models import Channel
    from core.services import api_key_create
    from members.models import Member, Tier

    now = datetime.now(UTC)
    Member.objects.bulk_create([Member(external_id=f"E-{n:07d}", name=f"Member {n}", timezone="Asia/Shanghai",
                                       joined_at=now - timedelta(days=n % 400, hours=n % 24))
                                for n in range(1, members + 1)], batch_size=5000)
    types = {name: EventType.objects.create(name=name, attributes=schema) for name, schema in TYPES.items()}
    gold = Tier.objects.create(code="gold", name="Gold", rank=1, threshold=1000)
    names = list(types)
    campaigns = []
    for i in range(20):  # on each event: one paying for a review (once per member), the others held back by a
        # condition (a tier nobody holds, a store or a channel the events do not come from)
        condition = {} if i == 0 else [{"tiers": ["gold"]}, {"stores": ["flagship"]}, {"channels": ["pos"]}][i % 3]
        kind = "review_written" if not condition else names[i % 5]
        campaigns.append(Campaign(code=f"each-{i}", name=f"Each event {i}", trigger=Campaign.Trigger.EVENT,
                                  event_type=types[kind], bonus_points=5, once_per_member=True, **condition))
    for i in range(15):
        campaigns.append(Campaign(code=f"sliding-{i}", name=f"N in a window {i}", trigger=Campaign.Trigger.EVENT_COUNT,
                                  event_type=types[names[i % 5]], event_count=5 + 5 * (i % 4),
                                  window=Campaign.Window.SLIDING, window_days=1 + i % 7, bonus_points=20,
                                  once_per_member=False))
    for i in range(5):
        campaigns.append(Campaign(code=f"sign-up-{i}", name=f"After sign-up {i}", trigger=Campaign.Trigger.EVENT_COUNT,
                                  event_type=types[names[i]], event_count=11, window=Campaign.Window.AFTER_SIGN_UP,
                                  window_hours=24, message_text={"en": "Welcome!"}))
    for i in range(5):
        campaigns.append(Campaign(code=f"order-{i}", name=f"Order {i}", trigger=Campaign.Trigger.ORDER,
                                  bonus_points=10))
    for i in range(3):
        campaigns.append(Campaign(code=f"stage-{i}", name=f"Stage {i}", trigger=Campaign.Trigger.STAGE_CHANGE,
                                  bonus_points=10))
    for i in range(2):
        campaigns.append(Campaign(code=f"tier-{i}", name=f"Tier {i}", trigger=Campaign.Trigger.TIER_CHANGE,
                                  to_tier=gold, bonus_points=10))
    for campaign in campaigns:
        campaign.active = True
    Campaign.objects.bulk_create(campaigns)
    Challenge.objects.create(code="ten-courses", title={"en": "Watch 10 courses in a week"}, event_type=types[
        "course_viewed"], times=10, within_days=7, active=True, bonus_points=100)
    Challenge.objects.create(code="five-reviews", title={"en": "Write 5 reviews in a month"}, event_type=types[
        "review_written"], times=5, within_days=30, active=True, bonus_points=100)
    for name in ("bench", Channel.SYSTEM, Channel.ADMIN):
        Channel.named(name)
    _, raw = api_key_create(channel="bench", name="bench")
    return {"api_key": raw, "campaigns": Campaign.objects.filter(active=True).count(),
            "members": Member.objects.count()}


def batch_body(rng: random.Random, tag: str, members: int, now: datetime) -> bytes:
    events = []
    for m in rng.sample(range(1, members + 1), BATCH // PER_MEMBER):
        for k in range(PER_MEMBER):
            kind = rng.choices(list(WEIGHTS), weights=list(WEIGHTS.values()))[0]
            attributes = {"page_viewed": {"path": f"/p/{rng.randrange(500)}"},
                          "course_viewed": {"course_id": f"c-{rng.randrange(40)}", "seconds": rng.randrange(900)},
                          "video_watched": {"video_id": f"v-{rng.randrange(200)}"},
                          "item_added": {"sku": f"sku-{rng.randrange(300)}", "store": "web"},
                          "review_written": {"stars": rng.randrange(1, 6)}}[kind]
            events.append({"event_id": f"{tag}-{m}-{k}", "member": f"E-{m:07d}", "type": kind,
                           "occurred_at": (now - timedelta(minutes=rng.randrange(3 * 24 * 60))).isoformat(),
                           "attributes": attributes})
    return json.dumps({"events": events}).encode()


def post(conn: http.client.HTTPConnection, body: bytes, api_key: str, key: str) -> tuple[int, dict]:
    conn.request("POST", "/api/v1/events", body=body, headers={
        "Authorization": f"Api-Key {api_key}", "Content-Type": "application/json", "Idempotency-Key": key})
    response = conn.getresponse()
    return response.status, json.loads(response.read() or b"{}")


def load(port: int, api_key: str, bodies: list[bytes], clients: int, duration: float) -> dict:
    """Each client posts bodies from the shared list until the time is up (or the bodies run out)."""
    lock, results, errors = threading.Lock(), [], []
    queue = iter(enumerate(bodies))
    deadline = time.monotonic() + duration

    def client() -> None:
        conn = http.client.HTTPConnection(run.HOST, port, timeout=60)
        while time.monotonic() < deadline:
            with lock:
                item = next(queue, None)
            if item is None:
                return
            n, body = item
            started = time.monotonic()
            status, answer = post(conn, body, api_key, f"bench-{hash(body):x}-{n}")
            with lock:
                (results if status == 201 else errors).append((time.monotonic() - started, status, answer))

    wall = run.threads_run(client, clients)
    latencies = sorted(r[0] for r in results)
    recorded = sum(r[2].get("recorded", 0) for r in results)
    return {"batches": len(results), "events": recorded, "seconds": round(wall, 2),
            "events_per_s": round(recorded / wall, 1) if wall else 0.0,
            "fired": sum(r[2].get("fired", 0) for r in results),
            "latency_ms": {"p50": round(1000 * latencies[len(latencies) // 2], 1) if latencies else None,
                           "p99": round(1000 * latencies[int(len(latencies) * 0.99)], 1) if latencies else None},
            "errors": len(errors), "error_samples": [e[1:] for e in errors[:3]]}


def start_gunicorn(workers: int, port: int, log_path: Path, wait: float = 180.0):
    """As bench/run.py starts it, waiting longer for /health (a busy machine boots workers slowly)."""
    if not run.port_free(port):
        raise run.BenchError(f"Something already listens on {run.HOST}:{port}; stop it (or pass --port).")
    log = open(log_path, "w")  # noqa: SIM115  (closed with the process, in run.stop_gunicorn)
    proc = subprocess.Popen([run.venv_tool("gunicorn"), "config.wsgi:application", "-b", f"{run.HOST}:{port}",
                             "--workers", str(workers)], cwd=ROOT, env=run.app_env(), stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    proc.log = log
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise run.BenchError(f"gunicorn exited with {proc.returncode}:\n{log_path.read_text()[-3000:]}")
        try:
            conn = http.client.HTTPConnection(run.HOST, port, timeout=2)
            conn.request("GET", "/health")
            if conn.getresponse().status == 200:
                return proc
        except OSError:
            pass
        time.sleep(0.5)
    run.stop_gunicorn(proc)
    raise run.BenchError(f"gunicorn did not answer /health within {wait:.0f} s")


def pgbench_floor(database: str, clients: int, duration: int) -> dict:
    """pgbench's tpcb-like on its own database (scale 10, re-created), the same number of clients, right after the
    run: what the database alone does on this machine now, so that events/s reads as a ratio on a shared machine."""
    pgbench = run.ensure_pgbench()
    run.use_databases(run.APP_DB, database)
    run.recreate_database(database)
    init = run.run_pgbench(pgbench, "-i", "-s", str(run.PGBENCH_SCALE), "-q", timeout=600)
    if init.returncode != 0:
        raise run.BenchError(f"pgbench -i failed:\n{init.stderr[-2000:]}")
    proc = run.run_pgbench(pgbench, "-b", "tpcb-like", "-c", str(clients), "-j", "2", "-T", str(duration),
                           timeout=duration + 120)
    tps = re.search(r"tps = ([\d.]+) \(without initial connection time\)", proc.stdout + proc.stderr)
    if proc.returncode != 0 or not tps:
        raise run.BenchError(f"pgbench tpcb-like failed:\n{(proc.stdout + proc.stderr)[-2000:]}")
    return {"database": database, "clients": clients, "seconds": duration, "tpcb_like_tps": float(tps.group(1))}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--members", type=int, default=20_000)
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=run.DEFAULT_WORKERS)
    parser.add_argument("--port", type=int, default=8767)
    parser.add_argument("--db", default=DB, help="The benchmark's database (re-created unless --reuse).")
    parser.add_argument("--pgbench", action="store_true",
                        help="After the run, pgbench tpcb-like (database DB_pgbench) for the ratio events/s : tps.")
    parser.add_argument("--strict", action="store_true")
    parser.add_argument("--reuse", action="store_true", help="Keep the database of the last run (no migrate, setup).")
    parser.add_argument("--setup", action="store_true", help=argparse.SUPPRESS)  # the in-Django step
    args = parser.parse_args()
    run.use_databases(args.db, run.PGBENCH_DB)
    if args.setup:
        print(json.dumps(setup(args.members)))
        return 0

    OUT.mkdir(exist_ok=True)
    if args.reuse and (OUT / "events-setup.json").exists():
        prepared = json.loads((OUT / "events-setup.json").read_text())
    else:
        run.recreate_database(args.db, migrated=True)
        run.migrate()
        run.say(f"database {args.db}: re-created and migrated")
        proc = subprocess.run([sys.executable, __file__, "--setup", "--members", str(args.members)], cwd=ROOT,
                              env=run.app_env(), capture_output=True, text=True, timeout=600, check=False)
        if proc.returncode != 0:
            raise run.BenchError(f"setup failed:\n{proc.stderr[-3000:]}")
        prepared = json.loads(proc.stdout.strip().splitlines()[-1])
        (OUT / "events-setup.json").write_text(json.dumps(prepared))
    run.admin_sql("VACUUM ANALYZE", database=args.db)
    run.say(f"setup: {prepared['members']} members, {prepared['campaigns']} live campaigns")

    now = datetime.now(UTC)
    rng = random.Random(13)
    run_tag = f"{int(time.time()) % 100000}"  # event ids new on every run, also with --reuse
    count = int(args.duration * 12_000 / BATCH) + 8  # more than the goal needs; unused ones are not sent
    bodies = [batch_body(rng, f"{run_tag}b{n}", args.members, now) for n in range(count)]
    warm = [batch_body(rng, f"{run_tag}w{n}", args.members, now) for n in range(2 * args.workers)]
    run.say(f"{count} batches of {BATCH} events built")

    gunicorn = None
    try:
        gunicorn = start_gunicorn(args.workers, args.port, OUT / "gunicorn-events.log")
        warmup = load(args.port, prepared["api_key"], warm, args.clients, 60)
        run.say(f"warm-up: {warmup['batches']} batches, {warmup['errors']} errors")
        before = run.cpu_sample(gunicorn.pid)
        result = load(args.port, prepared["api_key"], bodies, args.clients, args.duration)
        after = run.cpu_sample(gunicorn.pid)
    finally:
        run.stop_gunicorn(gunicorn)
    cpu = run.cpu_split(before, after, max(1, result["events"] // 1000), 0.0)
    result["cpu_ms_per_1000_events"] = {"app": cpu.get("app_ms_per_request"), "db": cpu.get("db_ms_per_request"),
                                        "machine_busy_pct": cpu.get("machine_busy_pct")}
    floor = pgbench_floor(f"{args.db}_pgbench", args.clients, int(args.duration)) if args.pgbench else None
    if floor:
        floor["events_per_tpcb_transaction"] = round(result["events_per_s"] / floor["tpcb_like_tps"], 2)
    result |= {"pgbench": floor, "date": datetime.now(UTC).date().isoformat()}
    result |= {"members": prepared["members"], "live_campaigns": prepared["campaigns"], "workers": args.workers,
               "clients": args.clients, "goal_events_per_s": GOAL, "meets_goal": result["events_per_s"] >= GOAL}
    (OUT / "events.json").write_text(json.dumps(result, indent=2))
    print(f"\n| run | events/s | batches | p50 | p99 | fired | errors | app CPU / 1,000 | db CPU / 1,000 |\n"
          f"| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n"
          f"| POST /api/v1/events x {BATCH}, {prepared['campaigns']} live campaigns | {result['events_per_s']:,.0f} | "
          f"{result['batches']} | {result['latency_ms']['p50']} ms | {result['latency_ms']['p99']} ms | "
          f"{result['fired']} | {result['errors']} | {cpu.get('app_ms_per_request')} ms | "
          f"{cpu.get('db_ms_per_request')} ms |\n\nGoal {GOAL:,.0f} events/s: "
          f"{'met' if result['meets_goal'] else 'NOT met'}")
    if floor:
        print(f"pgbench tpcb-like, {args.clients} clients, just after: {floor['tpcb_like_tps']:,.0f} tps; events/s per "
              f"tpcb-like transaction/s: {floor['events_per_tpcb_transaction']}")
    if result["errors"]:
        print(json.dumps(result["error_samples"], indent=2)[:3000])
        return 1
    return 1 if args.strict and not result["meets_goal"] else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except run.BenchError as exc:
        print(f"events benchmark failed: {exc}", file=sys.stderr)
        sys.exit(1)
