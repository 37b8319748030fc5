"""Batch and hot-member benchmark (`make bench`; issue 15 goals 3 and 4), beside pgbench tpcb-like in the same run.

One run, self-contained and re-runnable:
  1. wrk and pgbench as bench/run.py finds them; fresh databases loyalty_bench_batch and loyalty_pgbench_batch
     (--database, --pgbench-database), migrated and seeded as bench/run.py seeds (--members members, three orders
     each), pgbench -i -s 10.
  2. gunicorn (--workers sync workers, a --timeout long enough for a batch) on 127.0.0.1:--port.
  3. Batch: --clients threads post pre-built `POST /api/v1/orders/batch` bodies of --batch-size orders (random
     seeded members, every key and order id new) over kept-alive connections until --duration seconds have
     passed; the batches in flight then finish. Orders/s = orders placed / wall time. Errors: a batch answered
     other than 200, and every order in a batch's results that was not placed.
  4. Hot members: wrk with bench/load.lua's `mixed` mode (half earns, half 1-point redemptions) on the first
     --hot members only, then the same mix over every seeded member (uniform), --duration seconds each; the
     deadlocks of the app's database over both (pg_stat_database.deadlocks), then `manage.py ledger_check`.
  5. pgbench tpcb-like, --connections clients, --duration seconds.
  6. The figures and the goals (orders/s >= 1.5 x tpcb-like TPS with 0 errors; hot >= 50 % of uniform, 0
     deadlocks, the ledger balanced); the same in bench/out/batch.json.

Exit status 1 when a request failed, a deadlock happened or the ledger does not balance (and with --strict, when
a throughput goal is not met).

    python bench/batch.py [--members 2000] [--duration 30] [--clients 4] [--batch-size 1000] [--hot 10]
"""

import argparse
import http.client
import json
import random
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import run  # bench/run.py: databases, seeding, gunicorn, wrk, pgbench, CPU accounting

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
OUT = BENCH / "out"
GOAL_BATCH_VS_TPCB = 1.5
GOAL_HOT_VS_UNIFORM = 50.0
GUNICORN_TIMEOUT = 600  # seconds a worker may take for one request: a batch of 1,000 orders on a busy machine


def start_gunicorn(workers: int, port: int, log_path: Path) -> subprocess.Popen:
    if not run.port_free(port):
        raise run.BenchError(f"Something already listens on {run.HOST}:{port}; stop it (or pass --port).")
    log = open(log_path, "w")  # noqa: SIM115  (closed with the process, in run.stop_gunicorn)
    proc = subprocess.Popen([run.venv_tool("gunicorn"), "config.wsgi:application", "-b", f"{run.HOST}:{port}",
                             "--workers", str(workers), "--timeout", str(GUNICORN_TIMEOUT)],
                            cwd=ROOT, env=run.app_env(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    proc.log = log
    try:
        return run._wait_until_serving(proc, port, log_path)
    except run.BenchError:
        run.stop_gunicorn(proc)
        raise


def batch_body(rng: random.Random, tag: str, members: int, size: int) -> bytes:
    orders = [{"idempotency_key": f"kb-{tag}-{n}", "member": f"B-{rng.randint(1, members):06d}",
               "order_id": f"ob-{tag}-{n}", "amount": f"{rng.randint(500, 30000) / 100:.2f}", "currency": "EUR"}
              for n in range(size)]
    return json.dumps({"orders": orders}).encode()


def post_batches(port: int, api_key: str, bodies: list[bytes], clients: int, duration: float) -> dict:
    """Each client posts bodies from the shared list until the time is up; batches in flight then finish."""
    lock, done, errors = threading.Lock(), [], []
    queue = iter(bodies)
    deadline = time.monotonic() + duration

    def client() -> None:
        conn = http.client.HTTPConnection(run.HOST, port, timeout=GUNICORN_TIMEOUT)
        while time.monotonic() < deadline:
            with lock:
                body = next(queue, None)
            if body is None:
                return
            started = time.monotonic()
            try:
                conn.request("POST", "/api/v1/orders/batch", body=body, headers={
                    "Authorization": f"Api-Key {api_key}", "Content-Type": "application/json"})
                response = conn.getresponse()
                status, answer = response.status, json.loads(response.read() or b"{}")
            except OSError as exc:
                status, answer = 0, {"exception": repr(exc)}
                conn = http.client.HTTPConnection(run.HOST, port, timeout=GUNICORN_TIMEOUT)
            with lock:
                if status == 200:
                    done.append((time.monotonic() - started, answer["created"], answer["replayed"], answer["failed"]))
                    if answer["failed"] or answer["replayed"]:
                        errors.extend(r for r in answer["results"] if r["status"] != 201 or r["replayed"])
                else:
                    errors.append({"status": status, "body": answer})

    wall = run.threads_run(client, clients)
    created = sum(d[1] for d in done)
    latencies = sorted(d[0] for d in done)
    return {"batches": len(done), "orders": created, "seconds": round(wall, 2),
            "orders_per_s": round(created / wall, 1) if wall else 0.0,
            "batch_latency_s": {"p50": round(latencies[len(latencies) // 2], 2) if latencies else None,
                                "max": round(latencies[-1], 2) if latencies else None},
            "errors": len(errors), "error_samples": errors[:3]}


def deadlocks(database: str) -> int:
    with psycopg.connect(f"{run.PG}/postgres", autocommit=True) as conn:
        return conn.execute("SELECT deadlocks FROM pg_stat_database WHERE datname = %s", [database]).fetchone()[0]


def ledger_check() -> dict:
    proc = subprocess.run([sys.executable, "manage.py", "ledger_check"], cwd=ROOT, env=run.app_env(),
                          capture_output=True, text=True, timeout=600, check=False)
    return {"balanced": proc.returncode == 0, "output": (proc.stdout + proc.stderr).strip()[-1500:]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--members", type=int, default=2000)
    parser.add_argument("--service-members", type=int, default=300)
    parser.add_argument("--duration", type=int, default=30, help="seconds per measured run (default 30)")
    parser.add_argument("--clients", type=int, default=4, help="batch clients (default 4)")
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--hot", type=int, default=10, help="members taking all the hot run's traffic (default 10)")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections = pgbench clients (default 16)")
    parser.add_argument("--workers", type=int, default=run.DEFAULT_WORKERS)
    parser.add_argument("--port", type=int, default=8133)
    parser.add_argument("--database", default="loyalty_bench_batch")
    parser.add_argument("--pgbench-database", default="loyalty_pgbench_batch")
    parser.add_argument("--skip", choices=["batch", "hot"], action="append", default=[],
                        help="leave out a part (repeatable)")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a throughput goal is not met")
    args = parser.parse_args()
    run.use_databases(args.database, args.pgbench_database)
    OUT.mkdir(exist_ok=True)

    wrk, pgbench = run.ensure_wrk(), run.ensure_pgbench()
    run.say(f"database {run.APP_DB}: re-creating, migrating, seeding {args.members} members")
    run.recreate_database(run.APP_DB, migrated=True)
    run.migrate()
    seeded = run.seed(args.members, args.service_members, processes=2)
    # Only the ledger's problems stop this run; run.py also compares copies with their templates, a check of its
    # seeding that is not this benchmark's business.
    problems = [p for p in seeded["check"]["problems"] if not p.startswith("copy ")]
    if problems:
        raise run.BenchError("The seeded ledger is inconsistent:\n  " + "\n  ".join(problems))
    run.recreate_database(run.PGBENCH_DB)
    init = run.run_pgbench(pgbench, "-i", "-s", str(run.PGBENCH_SCALE), "-q", timeout=300)
    if init.returncode != 0:
        raise run.BenchError(f"pgbench -i failed:\n{init.stderr[-3000:]}")

    rng, tag = random.Random(15), datetime.now(UTC).strftime("%H%M%S")
    results: dict = {"config": {k: getattr(args, k) for k in ("members", "duration", "clients", "batch_size", "hot",
                                                              "connections", "workers")}}
    gunicorn = start_gunicorn(args.workers, args.port, OUT / "gunicorn-batch.log")
    try:
        if "batch" not in args.skip:
            warm = [batch_body(rng, f"{tag}w{n}", args.members, 50) for n in range(args.workers * 2)]
            run.say(f"warm-up: {post_batches(args.port, seeded['api_key'], warm, args.clients, 1)['errors']} errors")
            count = args.clients * (args.duration + 60)  # more than can be sent: a batch takes seconds
            bodies = [batch_body(rng, f"{tag}b{n}", args.members, args.batch_size) for n in range(count)]
            run.say(f"batch: {args.clients} clients posting batches of {args.batch_size} for {args.duration} s")
            before = run.cpu_sample(gunicorn.pid)
            results["batch"] = post_batches(args.port, seeded["api_key"], bodies, args.clients, args.duration)
            cpu = run.cpu_split(before, run.cpu_sample(gunicorn.pid), max(1, results["batch"]["orders"]), 0.0)
            results["batch"]["cpu_ms_per_order"] = {"app": cpu.get("app_ms_per_request"),
                                                    "db": cpu.get("db_ms_per_request"),
                                                    "machine_busy_pct": cpu.get("machine_busy_pct")}
            run.say(f"  {results['batch']['orders_per_s']} orders/s, {results['batch']['errors']} errors")
        if "hot" not in args.skip:
            load = dict(wrk=wrk, port=args.port, api_key=seeded["api_key"], threads=2, connections=args.connections,
                        gunicorn_pgid=gunicorn.pid)
            run.run_wrk(mode="mixed", members=args.members, duration=3, tag=f"w{tag}", **load)
            before = deadlocks(run.APP_DB)
            for name, members in (("uniform", args.members), ("hot", args.hot)):
                run.say(f"mixed earn/redeem over {members} members: {args.duration} s")
                results[name] = run.run_wrk(mode="mixed", members=members, duration=args.duration,
                                            tag=f"{name[0]}{tag}", **load)
                # A 1-point redemption from a member the random mix has drained is the rule's answer (422
                # insufficient_points), not a failure: reported apart.
                refused = sum(1 for f in results[name]["failure_samples"] if "insufficient_points" in str(f))
                refused = results[name]["statuses"].get("422", 0) if refused else 0
                results[name]["refused_insufficient_points"] = refused
                results[name]["errors"] -= refused
                run.say(f"  {results[name]['rps']} req/s, {results[name]['errors']} errors, "
                        f"{refused} redemptions refused for want of points")
            results["deadlocks"] = deadlocks(run.APP_DB) - before
    finally:
        run.stop_gunicorn(gunicorn)
    results["ledger_check"] = ledger_check()
    run.say(f"ledger_check: {'balanced' if results['ledger_check']['balanced'] else 'OUT OF BALANCE'}")
    run.admin_sql("CHECKPOINT")
    run.say(f"pgbench tpcb-like: {args.duration} s, {args.connections} clients")
    results["tpcb_like"] = run.pgbench_run(pgbench, "tpcb-like", clients=args.connections, duration=args.duration)
    tps = results["tpcb_like"]["tps"]

    goals, errors = [], results["tpcb_like"]["errors"]
    if "batch" in results:
        ratio = results["batch"]["orders_per_s"] / tps if tps else 0.0
        goals.append(("batch orders/s / tpcb-like TPS", f"{results['batch']['orders_per_s']} / {tps} = {ratio:.2f}x",
                      f">= {GOAL_BATCH_VS_TPCB}x", ratio >= GOAL_BATCH_VS_TPCB))
        errors += results["batch"]["errors"]
    if "hot" in results:
        share = 100.0 * results["hot"]["rps"] / results["uniform"]["rps"] if results["uniform"]["rps"] else 0.0
        goals.append(("hot / uniform earn+redeem", f"{results['hot']['rps']} / {results['uniform']['rps']} req/s = "
                      f"{share:.1f} %", f">= {GOAL_HOT_VS_UNIFORM:.0f} %", share >= GOAL_HOT_VS_UNIFORM))
        goals.append(("deadlocks (both mixed runs)", str(results["deadlocks"]), "0", results["deadlocks"] == 0))
        errors += results["hot"]["errors"] + results["uniform"]["errors"]
    goals.append(("ledger after the runs", "balanced" if results["ledger_check"]["balanced"] else "OUT OF BALANCE",
                  "balanced", results["ledger_check"]["balanced"]))
    goals.append(("errors", str(errors), "0", errors == 0))
    results["goals"] = [{"name": g[0], "measured": g[1], "target": g[2], "met": g[3]} for g in goals]
    results["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    (OUT / "batch.json").write_text(json.dumps(results, indent=2, default=str) + "\n")
    print("\n| figure | measured | goal | |\n| --- | --- | --- | --- |")
    for name, measured, target, met in goals:
        print(f"| {name} | {measured} | {target} | {'met' if met else 'NOT MET'} |")
    if "batch" in results:
        b = results["batch"]
        print(f"\nbatch: {b['batches']} batches of {args.batch_size}, {b['orders']} orders in {b['seconds']} s, "
              f"latency p50 {b['batch_latency_s']['p50']} s, CPU per order {b['cpu_ms_per_order']}")
        if b["error_samples"]:
            print(json.dumps(b["error_samples"], indent=2, default=str)[:3000])
    for name in ("uniform", "hot"):
        if name in results:
            r = results[name]
            print(f"{name}: {r['rps']} req/s, latency {r['latency_ms']}, statuses {r['statuses']}, CPU {r['cpu']}")
            for sample in r["failure_samples"]:
                print(f"  sample: {sample[:300]}")
    if not results["ledger_check"]["balanced"]:
        print(results["ledger_check"]["output"])
    failed = errors > 0 or not results["ledger_check"]["balanced"] or results.get("deadlocks", 0) > 0
    if args.strict and not all(g[3] for g in goals):
        failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except run.BenchError as exc:
        print(f"batch benchmark failed: {exc}", file=sys.stderr)
        sys.exit(1)
