"""`make bench`: every benchmark, one after another, then one table of every figure with its goal (bench/summary.py).

Each benchmark keeps its own output and writes its results to bench/out/; a benchmark that fails does not stop the
others, and the table shows its figures as missing. With BENCH_QUICK=1 in the environment (or --quick) every
benchmark runs at small sizes, so that the whole of `make bench` can be checked end to end in a few minutes; its
figures say nothing about the machine.

--db-prefix names every database after one prefix (PREFIX, PREFIX_pgbench, PREFIX_jobs ...; each is dropped and
re-created), and --port the first of three ports (the API benchmark's; batch +10, events +20), for several people
benchmarking on one server. Without them each benchmark uses its own defaults.

The schema is migrated once, into a template database (PREFIX_template, or loyalty_bench_template), that every
benchmark's own database is copied from (BENCH_TEMPLATE_DB): one migrate instead of eight. The template is dropped
at the end.

Exit status 1 when a benchmark exited non-zero or a figure is missing.

    python bench/all.py [--quick] [--db-prefix loyalty_bench_me] [--port 8123]
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import run  # bench/run.py: databases and migrate

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent

# (script, its arguments at small sizes), in the order they run.
QUICK = {
    "run.py": ["--members", "300", "--service-members", "40", "--duration", "3", "--warmup", "1"],
    "jobs.py": ["--small", "2000", "--large", "10000", "--sample", "200"],
    "insight.py": ["--members", "2000", "--orders-per-member", "3"],
    "pages.py": ["--members", "1000", "--transactions", "20000", "--deep", "5000", "--pages", "50"],
    "transfer.py": ["--members", "100", "--transactions", "5000", "--xlsx-transactions", "1000"],
    "campaign_dates.py": ["--members", "5000"],
    "events.py": ["--members", "2000", "--duration", "3"],
    "batch.py": ["--members", "300", "--service-members", "40", "--duration", "3", "--clients", "2",
                 "--batch-size", "100"],
}


def names(prefix: str | None, port: int | None) -> dict[str, list[str]]:
    """Each script's database and port arguments (none: its defaults)."""
    args: dict[str, list[str]] = {script: [] for script in QUICK}
    if prefix:
        args["run.py"] += ["--database", prefix, "--pgbench-database", f"{prefix}_pgbench"]
        args["batch.py"] += ["--database", f"{prefix}_batch", "--pgbench-database", f"{prefix}_pgbench_batch"]
        for script, suffix in (("jobs.py", "jobs"), ("insight.py", "insight"), ("pages.py", "pages"),
                               ("transfer.py", "transfer"), ("campaign_dates.py", "campaigns"),
                               ("events.py", "events")):
            args[script] += ["--db", f"{prefix}_{suffix}"]
    if port:
        args["run.py"] += ["--port", str(port)]
        args["batch.py"] += ["--port", str(port + 10)]
        args["events.py"] += ["--port", str(port + 20)]
    return args


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", default=os.environ.get("BENCH_QUICK", "") not in ("", "0"),
                        help="every benchmark at small sizes (also BENCH_QUICK=1)")
    parser.add_argument("--db-prefix", help="name every database after this prefix")
    parser.add_argument("--port", type=int, help="the first of the three ports the benchmarks serve on")
    options = parser.parse_args()
    extra = names(options.db_prefix, options.port)
    since = time.time()
    template = f"{options.db_prefix or 'loyalty_bench'}_template"
    run.use_databases(template, run.PGBENCH_DB)
    run.say(f"database {template}: re-creating and migrating, the template of every benchmark's database")
    try:
        run.recreate_database(template)
        run.migrate()
    except run.BenchError as exc:
        print(f"bench failed: {exc}", file=sys.stderr)
        return 1
    env = {**os.environ, "BENCH_TEMPLATE_DB": template}
    statuses = {}
    try:
        for script, quick in QUICK.items():
            command = [sys.executable, str(BENCH / script), *(quick if options.quick else []), *extra[script]]
            print(f"\n=== {' '.join([f'bench/{script}', *command[2:]])}", flush=True)
            statuses[script] = subprocess.run(command, cwd=ROOT, env=env, check=False).returncode
    finally:
        run.admin_sql(f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)')
    summary = [sys.executable, str(BENCH / "summary.py"), "--since", str(since), "--statuses", json.dumps(statuses)]
    return subprocess.run(summary + (["--quick"] if options.quick else []), cwd=ROOT, check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
