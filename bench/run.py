"""Load benchmark (`make bench`): the API's earn and balance endpoints under wrk, beside pgbench on the same
PostgreSQL, so that the API's throughput reads as a share of what the database alone does on this machine.

One run, self-contained and re-runnable (about two minutes):
  1. wrk must be installed (an apt-get install is attempted when it is not); pgbench too.
  2. A fresh database loyalty_bench is created and migrated.
  3. Seed: --members members, B-000001..., each with three earned orders. The first --service-members go through
     the real services (member_register, order_earn); the rest are row-for-row copies of those (bench/seed.py).
     Then the ledger invariant is checked for every member, and copies are compared with their templates.
     An API key for channel "bench" is created.
  4. gunicorn serves the app on 127.0.0.1:PORT and is warmed up.
  5. wrk: GET /bench/floor (a SELECT 1 Django view through the same middleware and API key: the floor, mounted
     only with BENCH_FLOOR_VIEW), POST /api/v1/orders (earn; unique order id and Idempotency-Key per request)
     and GET /api/v1/members/<id>/balance, each for --duration seconds (bench/load.lua). Around the earn run,
     the WAL its transactions wrote (pg_walinspect: the records of transactions that touched the bench database).
  6. Round trips and in-process CPU per earn and per balance read, warm, in one process (seed.py roundtrips).
  7. pgbench on its own database loyalty_pgbench (scale 10): tpcb-like (with its WAL per transaction, measured
     the same way) and select-only, same client count.
  8. A table of the figures, the ratios and the goals (MET / NOT MET per line); the same in
     bench/out/results.json. The ledger invariant is checked again after the load.

Exit status: 0 when every run completed without errors and the ledger balances; 1 otherwise; with --strict,
also 1 when a throughput goal is not met. Databases loyalty_bench and loyalty_pgbench are left in place
(each run drops and re-creates them). gunicorn is always stopped.
"""

import argparse
import json
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import psycopg

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
OUT = BENCH / "out"
HOST = "127.0.0.1"
PG = "postgres://postgres@127.0.0.1:5432"
APP_DB = "loyalty_bench"
PGBENCH_DB = "loyalty_pgbench"
PGBENCH_SCALE = 10
# On 2 cores the app is CPU-bound: 2, 3, 4 and 6 sync workers measured within noise of each other, gthread
# (2x4, 4x2) a little slower; 4 (two per core) keeps both cores busy while requests wait on PostgreSQL.
DEFAULT_WORKERS = 4
WRK_TIMEOUT = "5s"  # a request slower than this counts as a socket error (timeout)
GOALS = {"earn_vs_tpcb": 25.0, "earn_vs_floor": 40.0, "balance_vs_floor": 60.0}

APP_ENV = {
    "DATABASE_URL": f"{PG}/{APP_DB}",
    "DJANGO_SETTINGS_MODULE": "config.settings.local",
    "DEBUG": "0",
    "CONN_MAX_AGE": "600",
    # Prepared statements (config/settings/base.py): on unless the environment says otherwise ("" turns them off).
    "DATABASE_PREPARE_THRESHOLD": os.environ.get("DATABASE_PREPARE_THRESHOLD", "5"),
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
    "BENCH_FLOOR_VIEW": "1",  # GET /bench/floor (config/floor.py)
}

_started = time.monotonic()


def use_databases(app: str, pgbench: str) -> None:
    """Other names for the two databases (several people benchmarking on one server)."""
    global APP_DB, PGBENCH_DB
    APP_DB, PGBENCH_DB = app, pgbench
    APP_ENV["DATABASE_URL"] = f"{PG}/{APP_DB}"


def threads_run(target, count: int) -> float:
    """Run `target` in `count` threads at once (the benchmarks' clients); the wall time until all are done."""
    started = time.monotonic()
    threads = [threading.Thread(target=target) for _ in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.monotonic() - started


def say(message: str) -> None:
    print(f"[{time.monotonic() - _started:6.1f}s] {message}", flush=True)


class BenchError(Exception):
    pass


def app_env() -> dict:
    env = dict(os.environ)
    env.update(APP_ENV)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def venv_tool(name: str) -> str:
    candidate = Path(sys.executable).parent / name
    if candidate.exists():
        return str(candidate)
    found = shutil.which(name)
    if not found:
        raise BenchError(f"{name} not found next to {sys.executable} nor on PATH; run `make install`.")
    return found


# --- tools ----------------------------------------------------------------------------------------------


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    say("wrk is not installed; trying apt-get install -y wrk")
    apt = shutil.which("apt-get")
    if apt:
        for attempt in ([apt, "install", "-y", "-qq", "wrk"], [apt, "update", "-qq"], [apt, "install", "-y", "-qq", "wrk"]):
            subprocess.run(attempt, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"}, timeout=300, check=False)
            found = shutil.which("wrk")
            if found:
                return found
    if not apt:
        raise BenchError("wrk is not installed and there is no apt-get here to install it; install wrk and re-run.")
    raise BenchError("wrk is not installed and `apt-get install -y wrk` did not install it; install wrk and re-run.")


def ensure_pgbench() -> str:
    found = shutil.which("pgbench")
    if found:
        return found
    for candidate in sorted(Path("/usr/lib/postgresql").glob("*/bin/pgbench"), reverse=True):
        return str(candidate)
    raise BenchError("pgbench is not installed (it comes with the PostgreSQL client packages).")


# --- databases ------------------------------------------------------------------------------------------


def admin_sql(*statements: str, database: str = "postgres") -> None:
    with psycopg.connect(f"{PG}/{database}", autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


def recreate_database(name: str, *, migrated: bool = False) -> None:
    """Drop and create `name`. migrated: the app's database, a copy of the migrated template that BENCH_TEMPLATE_DB
    names when bench/all.py made one for the run (migrate then has nothing left to do), else empty."""
    template = os.environ.get("BENCH_TEMPLATE_DB") if migrated else None
    admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
              f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))


def run_seed(*args: str, timeout: int = 300) -> dict:
    proc = subprocess.run([sys.executable, str(BENCH / "seed.py"), *args], cwd=ROOT, env=app_env(),
                          capture_output=True, text=True, timeout=timeout, check=False)
    if proc.returncode != 0:
        raise BenchError(f"seed.py {' '.join(args)} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def migrate() -> None:
    proc = subprocess.run([sys.executable, "manage.py", "migrate", "--noinput"], cwd=ROOT, env=app_env(),
                          capture_output=True, text=True, timeout=300, check=False)
    if proc.returncode != 0:
        raise BenchError(f"migrate failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}")


def _in_parallel(jobs: list[tuple[str, ...]]) -> None:
    with ThreadPoolExecutor(max_workers=len(jobs) or 1) as pool:
        for job, result in zip(jobs, pool.map(lambda job: run_seed(*job), jobs), strict=True):
            say(f"  seed {job[0]} {job[1]}..{job[2]}: {result['members']} members, {result['orders']} orders "
                f"in {result['seconds']} s")


def _shards(first: int, last: int, count: int) -> list[tuple[int, int]]:
    size = -(-(last - first + 1) // count) if last >= first else 0
    return [(start, min(start + size - 1, last)) for start in range(first, last + 1, size or 1)]


def seed(members: int, service_members: int, processes: int) -> dict:
    """Prepare; the first service_members members through the services; the rest as copies of those."""
    prepared = run_seed("prepare")
    service_members = max(1, min(service_members, members))
    _in_parallel([("services", str(a), str(b)) for a, b in _shards(1, service_members, processes)])
    if members > service_members:
        _in_parallel([("clone", str(a), str(b), str(service_members))
                      for a, b in _shards(service_members + 1, members, processes)])
    admin_sql("VACUUM ANALYZE", database=APP_DB)
    checked = run_seed("check", "--pairs", "20", "--services-last", str(service_members))
    return {"api_key": prepared["api_key"], "members": members, "service_members": service_members,
            "check": checked}


# --- gunicorn -------------------------------------------------------------------------------------------


def port_free(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex((HOST, port)) != 0


def start_gunicorn(workers: int, port: int, log_path: Path) -> subprocess.Popen:
    if not port_free(port):
        raise BenchError(f"Something already listens on {HOST}:{port}; stop it (or pass --port) and re-run.")
    log = open(log_path, "w")  # noqa: SIM115  (closed with the process, in stop_gunicorn)
    proc = subprocess.Popen(
        [venv_tool("gunicorn"), "config.wsgi:application", "-b", f"{HOST}:{port}", "--workers", str(workers)],
        cwd=ROOT, env=app_env(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    proc.log = log
    try:
        return _wait_until_serving(proc, port, log_path)
    except BenchError:
        stop_gunicorn(proc)  # it started: stop it with its workers, whatever went wrong
        raise


def _wait_until_serving(proc: subprocess.Popen, port: int, log_path: Path) -> subprocess.Popen:
    deadline = time.monotonic() + 90  # four workers import Django at once, on a machine that may be busy
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise BenchError(f"gunicorn exited with {proc.returncode}:\n{log_path.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"http://{HOST}:{port}/health", timeout=2) as response:
                if response.status == 200:
                    return proc
        except OSError:
            pass
        time.sleep(0.3)
    raise BenchError(f"gunicorn did not answer /health within 90 s:\n{log_path.read_text()[-3000:]}")


def stop_gunicorn(proc: subprocess.Popen | None) -> None:
    if proc is None:
        return
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)  # the master and its workers: the session we started
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)
    proc.log.close()


# --- CPU accounting (Linux /proc; skipped elsewhere) ----------------------------------------------------

TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _proc_stat(pid: str) -> list[str] | None:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()
    except OSError:
        return None


def _cmdline(pid: str) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return handle.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def cpu_sample(gunicorn_pgid: int | None) -> dict | None:
    """CPU seconds so far: the whole machine (busy, total), gunicorn's processes, and PostgreSQL backends of
    the app's database, per pid."""
    try:
        with open("/proc/stat") as handle:
            fields = [int(v) for v in handle.readline().split()[1:]]
    except OSError:
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    sample = {"busy": (sum(fields) - idle) / TICK, "total": sum(fields) / TICK, "app": {}, "db": {}}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        stat = _proc_stat(pid)
        if stat is None:
            continue
        seconds = (int(stat[11]) + int(stat[12])) / TICK
        if gunicorn_pgid is not None and int(stat[2]) == gunicorn_pgid:
            sample["app"][pid] = seconds
        elif f" {APP_DB} " in _cmdline(pid) and _cmdline(pid).startswith("postgres: "):
            sample["db"][pid] = seconds
    return sample


def cpu_split(before: dict | None, after: dict | None, requests: int, client_seconds: float) -> dict:
    """CPU milliseconds per request: app (gunicorn), db (its PostgreSQL backends), load generator; and how busy
    the whole machine was (everything, including anything else running)."""
    if not before or not after or not requests:
        return {}

    def spent(kind: str) -> float:
        return sum(value - before[kind].get(pid, 0.0) for pid, value in after[kind].items())

    total = after["total"] - before["total"]
    return {
        "app_ms_per_request": round(1000 * spent("app") / requests, 2),
        "db_ms_per_request": round(1000 * spent("db") / requests, 2),
        "loadgen_ms_per_request": round(1000 * client_seconds / requests, 2),
        "machine_busy_pct": round(100 * (after["busy"] - before["busy"]) / total, 1) if total else None,
    }


# --- load -----------------------------------------------------------------------------------------------


def run_wrk(wrk: str, mode: str, *, port: int, api_key: str, members: int, threads: int, connections: int,
            duration: int, tag: str, gunicorn_pgid: int | None = None) -> dict:
    cmd = [wrk, f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--timeout", WRK_TIMEOUT, "-s", str(BENCH / "load.lua"),
           f"http://{HOST}:{port}", "--", mode, str(members), api_key, tag]
    before, children = cpu_sample(gunicorn_pgid), resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=duration + 60, check=False)
    after, children_after = cpu_sample(gunicorn_pgid), resource.getrusage(resource.RUSAGE_CHILDREN)
    client_seconds = (children_after.ru_utime + children_after.ru_stime) - (children.ru_utime + children.ru_stime)
    result = None
    for line in proc.stdout.splitlines():
        if line.startswith("BENCH_RESULT "):
            result = json.loads(line[len("BENCH_RESULT "):])
    if proc.returncode != 0 or result is None:
        raise BenchError(f"wrk {mode} failed ({proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    socket_errors = sum(result["socket_errors"].values())
    failures = result.get("failures") or []
    return {
        "rps": round(result["rps"], 1), "requests": result["requests"], "duration_s": round(result["duration_s"], 2),
        "non2xx": result["non2xx"], "statuses": result.get("statuses") or {},
        "socket_errors": result["socket_errors"], "errors": result["non2xx"] + socket_errors,
        "latency_ms": {name: round(value, 1) for name, value in result["latency_ms"].items()},
        "failure_samples": failures if isinstance(failures, list) else [],
        "cpu": cpu_split(before, after, result["requests"], client_seconds),
    }


def run_pgbench(pgbench: str, *args: str, timeout: int) -> subprocess.CompletedProcess:
    cmd = [pgbench, "-h", HOST, "-U", "postgres", *args, PGBENCH_DB]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False,
                          env={**os.environ, "PGHOST": HOST})


def pgbench_run(pgbench: str, builtin: str, *, clients: int, duration: int) -> dict:
    args = ["-b", builtin] if builtin != "select-only" else ["-S"]
    with WalWindow() as window:
        before = cpu_sample(None)
        proc = run_pgbench(pgbench, *args, "-c", str(clients), "-j", "2", "-T", str(duration), timeout=duration + 120)
        after, lsn_after = cpu_sample(None), wal_lsn()
        text = proc.stdout + proc.stderr
        processed = re.search(r"number of transactions actually processed: (\d+)", text)
        wal = (wal_of(PGBENCH_DB, window.start, lsn_after, int(processed.group(1)))
               if builtin == "tpcb-like" and processed else {})
    tps = re.search(r"tps = ([\d.]+) \(without initial connection time\)", text)
    failed = re.search(r"number of failed transactions: (\d+)", text)
    latency = re.search(r"latency average = ([\d.]+) ms", text)
    if proc.returncode != 0 or not tps:
        raise BenchError(f"pgbench {builtin} failed ({proc.returncode}):\n{text[-3000:]}")
    errors = int(failed.group(1)) if failed else 0
    busy = None
    if before and after and after["total"] > before["total"]:
        busy = round(100 * (after["busy"] - before["busy"]) / (after["total"] - before["total"]), 1)
    return {"tps": round(float(tps.group(1)), 1), "errors": errors, "wal": wal,
            "latency_ms": {"mean": float(latency.group(1))} if latency else {}, "cpu": {"machine_busy_pct": busy}}


# --- WAL ------------------------------------------------------------------------------------------------
# The server is shared (other databases write WAL at the same time), so the WAL of a run is read back with
# pg_walinspect and attributed: the records of every transaction that touched a block of the run's database
# (its commit record included), and the records without a transaction id on its blocks (pruning, hint bits).
WAL_OF_DATABASE = """
    WITH records AS (SELECT xid, resource_manager, record_type, record_length, fpi_length, block_ref
                     FROM pg_get_wal_records_info(%(start)s, %(end)s)),
         ours AS (SELECT DISTINCT xid FROM records WHERE xid <> '0' AND block_ref ~ %(pattern)s)
    SELECT resource_manager || ' ' || split_part(record_type, ' ', 1), count(*), coalesce(sum(record_length), 0),
           coalesce(sum(fpi_length), 0)
    FROM records WHERE xid IN (SELECT xid FROM ours) OR (xid = '0' AND block_ref ~ %(pattern)s)
    GROUP BY 1 ORDER BY 3 DESC"""


def wal_lsn() -> str:
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        # flushed: what pg_walinspect may read (every commit of the run is flushed by then)
        return conn.execute("SELECT pg_current_wal_flush_lsn()::text").fetchone()[0]


class WalWindow:
    """Keeps the WAL of a run on the server until it is read: a temporary physical replication slot (dropped when
    this session ends), since a busy shared server may recycle the run's segments before pg_walinspect reads them.
    `start` is the LSN where the window opened."""

    def __enter__(self):
        self.conn = psycopg.connect(f"{PG}/postgres", autocommit=True)
        slot = f"bench_wal_{os.getpid()}"
        self.conn.execute("SELECT pg_create_physical_replication_slot(%s, true, true)", [slot])
        # Not the slot's own LSN: that is where it keeps WAL from (the last checkpoint's redo point), which may be
        # well before now, and would count whatever this database wrote since.
        self.start = self.conn.execute("SELECT pg_current_wal_insert_lsn()::text").fetchone()[0]
        return self

    def __exit__(self, *exc) -> None:
        self.conn.close()


def wal_of(database: str, start: str, end: str, transactions: int) -> dict:
    """WAL records and bytes per transaction that `database` wrote between two LSNs; and what the whole server
    wrote then (pg_current_wal_flush_lsn difference), for comparison."""
    if not transactions:
        return {}
    with psycopg.connect(f"{PG}/{database}", autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_walinspect")
        oid = conn.execute("SELECT oid FROM pg_database WHERE datname = current_database()").fetchone()[0]
        kinds = conn.execute(WAL_OF_DATABASE, {"start": start, "end": end, "pattern": f"rel [0-9]+/{oid}/"}).fetchall()
        server = conn.execute("SELECT pg_wal_lsn_diff(%s::pg_lsn, %s::pg_lsn)", [end, start]).fetchone()[0]
    records, size = sum(kind[1] for kind in kinds), sum(int(kind[2]) for kind in kinds)
    images = sum(int(kind[3]) for kind in kinds)
    return {"records_per_txn": round(records / transactions, 1), "bytes_per_txn": round(size / transactions),
            # full-page images: the first change of each page after a checkpoint (each run starts with one), so
            # they follow the checkpoints' timing more than the data model
            "fpi_bytes_per_txn": round(images / transactions),
            "server_bytes_per_txn": round(float(server) / transactions), "transactions": transactions,
            # per record type (e.g. "Heap LOCK": row locks, such as a foreign key check's FOR KEY SHARE)
            "by_type_per_txn": {kind: [round(count / transactions, 2), round(int(length) / transactions)]
                                for kind, count, length, _ in kinds}}


# --- report ---------------------------------------------------------------------------------------------


def percent(part: float, whole: float) -> float:
    return round(100.0 * part / whole, 2) if whole else 0.0


def report(results: dict) -> str:
    runs, config = results["runs"], results["config"]
    lines = [
        "",
        f"Loyalty API load benchmark — {config['members']} members, {config['connections']} connections, "
        f"{config['threads']} wrk threads, {config['duration_s']} s per run, gunicorn {config['workers']} sync workers, "
        f"{config['cpus']} CPUs",
        "",
        f"{'Run':<38}{'Throughput':>16}{'avg ms':>9}{'p99 ms':>9}{'Errors':>8}{'CPU busy':>10}",
        "-" * 90,
    ]
    rows = [
        ("floor   GET  /bench/floor (SELECT 1)", runs["floor"], "req/s", "rps"),
        ("API earn    POST /api/v1/orders", runs["earn"], "req/s", "rps"),
        ("API balance GET  /members/<id>/balance", runs["balance"], "req/s", "rps"),
        ("pgbench tpcb-like", runs["tpcb_like"], "tps", "tps"),
        ("pgbench select-only (-S)", runs["select_only"], "tps", "tps"),
    ]
    for label, run, unit, key in rows:
        latency = run.get("latency_ms", {})
        mean = f"{latency['mean']:.1f}" if "mean" in latency else "-"
        p99 = f"{latency['p99']:.1f}" if "p99" in latency else "-"
        busy = run.get("cpu", {}).get("machine_busy_pct")
        busy = f"{busy:.0f} %" if busy is not None else "-"
        lines.append(f"{label:<38}{run[key]:>10.1f} {unit:<5}{mean:>9}{p99:>9}{run['errors']:>8}{busy:>10}")
    lines += [
        "(CPU busy: the whole machine during the run, anything else running included)",
        "",
        f"{'Figure (goal)':<46}{'Measured':>18}{'Goal':>12}   Status",
        "-" * 90,
    ]
    for goal in results["goals"]:
        status = "reported" if goal["met"] is None else ("MET" if goal["met"] else "NOT MET")
        lines.append(f"{goal['name']:<46}{goal['measured']:>18}{goal['target']:>12}   {status}")
    ledger = results["ledger_after_load"]
    lines += ["", f"ledger after load: {'balanced' if not ledger['problems'] else 'OUT OF BALANCE'} "
                  f"({ledger['orders']} orders, {ledger['members']} members)"]
    for name in ("floor", "earn", "balance"):
        cpu = runs[name].get("cpu") or {}
        if cpu:
            lines.append(f"{name}: CPU per request under load {cpu['app_ms_per_request']:.1f} ms app (gunicorn), "
                         f"{cpu['db_ms_per_request']:.1f} ms PostgreSQL, {cpu['loadgen_ms_per_request']:.1f} ms wrk")
    for name, run in (("earn", runs["earn"]), ("tpcb-like", runs["tpcb_like"])):
        kinds = (run.get("wal") or {}).get("by_type_per_txn") or {}
        if kinds:
            lines.append(f"{name}: WAL records per transaction by type: " + ", ".join(
                f"{kind} {count:g} ({size} B)" for kind, (count, size) in list(kinds.items())[:8]))
    for name in ("floor", "earn", "balance"):
        run = runs[name]
        if run["errors"]:
            lines.append(f"{name}: statuses {run['statuses']}, socket errors {run['socket_errors']}")
            lines += [f"  sample: {sample[:300]}" for sample in run["failure_samples"]]
    lines += [f"ledger problem: {problem}" for problem in ledger["problems"][:10]]
    return "\n".join(lines)


def goals_of(runs: dict, ratios: dict, trips: dict) -> list[dict]:
    """Every figure of the performance goals, with its goal where it has one (met: None = reported only)."""
    errors = sum(run["errors"] for run in runs.values())
    earn_wal, tpcb_wal = runs["earn"].get("wal") or {}, runs["tpcb_like"].get("wal") or {}

    def goal(name: str, value: float, target: float) -> dict:
        return {"name": name, "measured": f"{value:.2f} %", "target": f">= {target:.0f} %", "met": value >= target}

    def reported(name: str, measured: str) -> dict:
        return {"name": name, "measured": measured, "target": "-", "met": None}

    return [
        goal("earn / pgbench tpcb-like", ratios["earn_vs_tpcb_pct"], GOALS["earn_vs_tpcb"]),
        goal("earn / floor (SELECT 1 view)", ratios["earn_vs_floor_pct"], GOALS["earn_vs_floor"]),
        goal("balance / floor (SELECT 1 view)", ratios["balance_vs_floor_pct"], GOALS["balance_vs_floor"]),
        reported("floor / pgbench tpcb-like", f"{ratios['floor_vs_tpcb_pct']:.2f} %"),
        reported("balance / pgbench select-only", f"{ratios['balance_vs_select_pct']:.2f} %"),
        reported("app CPU per earn, under load", f"{runs['earn']['cpu'].get('app_ms_per_request', 0):.2f} ms"),
        reported("app CPU per balance, under load", f"{runs['balance']['cpu'].get('app_ms_per_request', 0):.2f} ms"),
        reported("app CPU per floor request, under load",
                 f"{runs['floor']['cpu'].get('app_ms_per_request', 0):.2f} ms"),
        reported("PostgreSQL CPU per earn, under load", f"{runs['earn']['cpu'].get('db_ms_per_request', 0):.2f} ms"),
        reported("app CPU per earn, one process in sequence", f"{trips['earn']['cpu_ms']:.2f} ms"),
        reported("app CPU per balance, one process in sequence", f"{trips['balance']['cpu_ms']:.2f} ms"),
        reported("round trips per earn (BEGIN, COMMIT incl.)", str(trips["earn"]["statements"])),
        reported("round trips per balance read", str(trips["balance"]["statements"])),
        reported("WAL per earn", f"{earn_wal.get('bytes_per_txn', 0):,} B, {earn_wal.get('records_per_txn', 0)} rec"),
        reported("WAL per tpcb-like transaction",
                 f"{tpcb_wal.get('bytes_per_txn', 0):,} B, {tpcb_wal.get('records_per_txn', 0)} rec"),
        {"name": "zero errors (all five runs)", "measured": str(errors), "target": "0", "met": errors == 0},
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workers", type=int, default=DEFAULT_WORKERS,
                        help=f"gunicorn sync workers (default {DEFAULT_WORKERS})")
    parser.add_argument("--duration", type=int, default=15, help="seconds per measured run (default 15)")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections = pgbench clients (default 16)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument("--members", type=int, default=5000, help="members to seed (default 5000)")
    parser.add_argument("--service-members", type=int, default=300,
                        help="members seeded through the services; the rest are copies of them (default 300)")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of warm-up per endpoint (default 3)")
    parser.add_argument("--port", type=int, default=8123)
    parser.add_argument("--database", default=APP_DB, help=f"the app's database (default {APP_DB})")
    parser.add_argument("--pgbench-database", default=PGBENCH_DB, help=f"pgbench's database (default {PGBENCH_DB})")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a throughput goal is not met")
    options = parser.parse_args()
    use_databases(options.database, options.pgbench_database)

    OUT.mkdir(exist_ok=True)
    gunicorn = None
    try:
        wrk, pgbench = ensure_wrk(), ensure_pgbench()
        say(f"database {APP_DB}: re-creating and migrating")
        recreate_database(APP_DB, migrated=True)
        migrate()
        say(f"seeding {options.members} members ({options.service_members} through the services, 2 processes)")
        seeded = seed(options.members, options.service_members, processes=2)
        if seeded["check"]["problems"]:
            raise BenchError("The seeded ledger is inconsistent:\n  " + "\n  ".join(seeded["check"]["problems"]))
        say(f"  seeded and checked: {seeded['check']['members']} members, {seeded['check']['orders']} orders, "
            "ledger balanced, copies identical to their templates")
        say(f"database {PGBENCH_DB}: pgbench -i -s {PGBENCH_SCALE}")
        recreate_database(PGBENCH_DB)
        init = run_pgbench(pgbench, "-i", "-s", str(PGBENCH_SCALE), "-q", timeout=300)
        if init.returncode != 0:
            raise BenchError(f"pgbench -i failed:\n{init.stderr[-3000:]}")

        say(f"starting gunicorn with {options.workers} sync workers on {HOST}:{options.port}")
        gunicorn = start_gunicorn(options.workers, options.port, OUT / "gunicorn.log")
        load = dict(wrk=wrk, port=options.port, api_key=seeded["api_key"], members=options.members,
                    threads=options.threads, connections=options.connections, gunicorn_pgid=gunicorn.pid)
        run_tag = datetime.now(UTC).strftime("%H%M%S")
        if options.warmup > 0:
            say(f"warming up ({options.warmup} s per endpoint)")
            for mode in ("floor", "earn", "balance"):
                run_wrk(mode=mode, duration=options.warmup, tag=f"w{run_tag}", **load)
        runs = {}
        for mode in ("floor", "earn", "balance"):
            admin_sql("CHECKPOINT")
            say(f"wrk {mode}: {options.duration} s")
            with WalWindow() as window:
                runs[mode] = run_wrk(mode=mode, duration=options.duration, tag=f"m{run_tag}", **load)
                if mode == "earn":
                    runs[mode]["wal"] = wal_of(APP_DB, window.start, wal_lsn(),
                                               runs[mode]["requests"] - runs[mode]["errors"])
            say(f"  {runs[mode]['rps']} req/s, {runs[mode]['errors']} errors")
        stop_gunicorn(gunicorn)
        gunicorn = None
        say("round trips and CPU per request, one warm process in sequence")
        trips = run_seed("roundtrips", seeded["api_key"], str(options.members), "200")
        ledger = run_seed("check")

        for name, builtin in (("tpcb_like", "tpcb-like"), ("select_only", "select-only")):
            admin_sql("CHECKPOINT")
            say(f"pgbench {builtin}: {options.duration} s, {options.connections} clients, 2 threads")
            runs[name] = pgbench_run(pgbench, builtin, clients=options.connections, duration=options.duration)
            say(f"  {runs[name]['tps']} tps")

        ratios = {"earn_vs_tpcb_pct": percent(runs["earn"]["rps"], runs["tpcb_like"]["tps"]),
                  "earn_vs_floor_pct": percent(runs["earn"]["rps"], runs["floor"]["rps"]),
                  "balance_vs_floor_pct": percent(runs["balance"]["rps"], runs["floor"]["rps"]),
                  "floor_vs_tpcb_pct": percent(runs["floor"]["rps"], runs["tpcb_like"]["tps"]),
                  "balance_vs_select_pct": percent(runs["balance"]["rps"], runs["select_only"]["tps"])}
        errors = sum(run["errors"] for run in runs.values())
        goals = goals_of(runs, ratios, trips)
        results = {
            "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "elapsed_s": round(time.monotonic() - _started, 1),
            "config": {"members": options.members, "service_members": seeded["service_members"],
                       "connections": options.connections, "threads": options.threads,
                       "duration_s": options.duration, "workers": options.workers, "worker_class": "sync",
                       "pgbench_scale": PGBENCH_SCALE, "cpus": os.cpu_count()},
            "runs": runs, "ratios": ratios, "goals": goals, "roundtrips": trips,
            "seed_check": seeded["check"], "ledger_after_load": ledger,
        }
        (OUT / "results.json").write_text(json.dumps(results, indent=2) + "\n")
        print(report(results))
        say(f"results written to {OUT.relative_to(ROOT)}/results.json")
        failed = errors > 0 or bool(ledger["problems"])
        if options.strict and not all(goal["met"] for goal in goals if goal["met"] is not None):
            failed = True
        return 1 if failed else 0
    except BenchError as exc:
        print(f"bench failed: {exc}", file=sys.stderr)
        return 1
    finally:
        stop_gunicorn(gunicorn)


if __name__ == "__main__":
    sys.exit(main())
