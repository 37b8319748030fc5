"""One table of every figure `make bench` measures, with its goal (`make bench` prints it last, bench/all.py).

Reads the results the benchmarks wrote to bench/out/ during this run only: a file older than --since (the run's
start, seconds since the epoch) is a previous run's and counts as missing, as does a file that is not there (its
benchmark failed before writing it). Every ratio is computed here from the two throughputs that one run measured,
each benchmark measuring both sides in the same minutes. Each figure is MET or NOT MET against its goal, or
reported (no goal), or missing. The goals are the benchmarks' own constants, imported from them.

Exit status 1 when a figure is missing (and, with --statuses, when a benchmark exited non-zero); not when a goal is
not met. The same table is written to bench/out/summary.json.

    python bench/summary.py --since 1764000000 [--out bench/out] [--statuses '{"run.py": 0}'] [--quick]
"""

import argparse
import importlib.util
import json
import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

BENCH = Path(__file__).resolve().parent


def _benchmark(name: str):
    """A benchmark beside this file, for its goals; loaded by path, since `insight` is also the app's name."""
    if str(BENCH) not in sys.path:
        sys.path.insert(0, str(BENCH))  # their imports of each other (run, jobs)
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


batch, campaign_dates, events, insight, jobs, pages, run = map(
    _benchmark, ["batch", "campaign_dates", "events", "insight", "jobs", "pages", "run"])

FILES = {"api": "results.json", "batch": "batch.json", "pages": "pages.json", "jobs": "jobs.json",
         "insight": "insight.json", "campaign_dates": "campaign_dates.json", "events": "events.json",
         "transfer": "transfer.json"}
MET, NOT_MET, REPORTED, MISSING = "MET", "NOT MET", "reported", "missing"


def load(out: Path, since: float) -> dict[str, dict | None]:
    """Each benchmark's results, or None when its file is missing, unreadable or older than `since`."""
    found = {}
    for name, file_name in FILES.items():
        path = out / file_name
        try:
            found[name] = json.loads(path.read_text()) if path.stat().st_mtime >= since else None
        except (OSError, ValueError):
            found[name] = None
    return found


def figure(name: str, goal: str, data: dict | None, measure: Callable[[dict], tuple[str, bool | None]]) -> dict:
    """One line of the table: `measure` turns a benchmark's results into (measured, met); met None = reported.
    A figure its benchmark did not write (an older file, a failed run, a part left out) is missing."""
    if data is None:
        return {"figure": name, "measured": "-", "goal": goal, "status": MISSING}
    try:
        measured, met = measure(data)
    except (KeyError, TypeError, ValueError, ZeroDivisionError, IndexError, StopIteration):
        return {"figure": name, "measured": "-", "goal": goal, "status": MISSING}
    status = REPORTED if met is None else (MET if met else NOT_MET)
    return {"figure": name, "measured": measured, "goal": goal, "status": status}


def api_figures(data: dict | None) -> list[dict]:
    goals = run.GOALS

    def share(a: str, b: str, key_b: str, unit: str, goal: float | None):
        def measure(data: dict):
            runs = data["runs"]
            pct = 100.0 * runs[a]["rps"] / runs[b][key_b]
            text = f"{pct:.2f} % ({runs[a]['rps']:,.1f} req/s / {runs[b][key_b]:,.1f} {unit})"
            return text, None if goal is None else pct >= goal
        return measure

    def wal(data: dict):
        earn, tpcb = data["runs"]["earn"]["wal"], data["runs"]["tpcb_like"]["wal"]
        images = f" ({earn['fpi_bytes_per_txn']:,} B page images)" if "fpi_bytes_per_txn" in earn else ""
        return (f"{earn['bytes_per_txn']:,} B{images}, {earn['records_per_txn']} records (tpcb-like "
                f"{tpcb['bytes_per_txn']:,} B, {tpcb['records_per_txn']})"), None

    return [
        figure("earn / pgbench tpcb-like", f">= {goals['earn_vs_tpcb']:.0f} %", data,
               share("earn", "tpcb_like", "tps", "tps", goals["earn_vs_tpcb"])),
        figure("earn / floor (SELECT 1 view)", f">= {goals['earn_vs_floor']:.0f} %", data,
               share("earn", "floor", "rps", "req/s", goals["earn_vs_floor"])),
        figure("app CPU per earn: under load; in sequence", "-", data, lambda d: (
            f"{d['runs']['earn']['cpu']['app_ms_per_request']:.2f} ms; {d['roundtrips']['earn']['cpu_ms']:.2f} ms", None)),
        figure("round trips per earn (BEGIN, COMMIT incl.)", "-", data,
               lambda d: (str(d["roundtrips"]["earn"]["statements"]), None)),
        figure("balance / floor (SELECT 1 view)", f">= {goals['balance_vs_floor']:.0f} %", data,
               share("balance", "floor", "rps", "req/s", goals["balance_vs_floor"])),
        figure("balance / pgbench select-only", "-", data,
               share("balance", "select_only", "tps", "tps", None)),
        figure("round trips per balance read", "-", data,
               lambda d: (str(d["roundtrips"]["balance"]["statements"]), None)),
        figure("WAL per earn", "-", data, wal),
        figure("errors in the API runs (floor, earn, balance)", "0", data, lambda d: (
            str(sum(d["runs"][r]["errors"] for r in ("floor", "earn", "balance"))),
            sum(d["runs"][r]["errors"] for r in ("floor", "earn", "balance")) == 0)),
        figure("ledger after the API load", "balanced", data, lambda d: (
            "balanced" if not d["ledger_after_load"]["problems"] else "OUT OF BALANCE",
            not d["ledger_after_load"]["problems"])),
    ]


def batch_figures(data: dict | None) -> list[dict]:
    size = f"{data['config']['batch_size']:,}" if data and "config" in data else "1,000"

    def orders(d: dict):
        per_s, tps = d["batch"]["orders_per_s"], d["tpcb_like"]["tps"]
        return f"{per_s / tps:.2f}x ({per_s:,.1f} orders/s / {tps:,.1f} tps)", per_s / tps >= batch.GOAL_BATCH_VS_TPCB

    def hot(d: dict):
        share = 100.0 * d["hot"]["rps"] / d["uniform"]["rps"]
        return (f"{share:.1f} % ({d['hot']['rps']:,.1f} / {d['uniform']['rps']:,.1f} req/s)",
                share >= batch.GOAL_HOT_VS_UNIFORM)

    hot_members = data["config"]["hot"] if data and "config" in data else 10
    return [
        figure(f"batch orders/s / tpcb-like, {size} a request", f">= {batch.GOAL_BATCH_VS_TPCB}x", data, orders),
        figure("batch: orders not placed, batches failed", "0", data,
               lambda d: (str(d["batch"]["errors"]), d["batch"]["errors"] == 0)),
        figure(f"hot members ({hot_members}) / uniform, earn + redeem", f">= {batch.GOAL_HOT_VS_UNIFORM:.0f} %", data,
               hot),
        figure("hot and uniform runs: errors", "0", data, lambda d: (
            str(d["hot"]["errors"] + d["uniform"]["errors"]), d["hot"]["errors"] + d["uniform"]["errors"] == 0)),
        figure("deadlocks (both mixed runs)", "0", data, lambda d: (str(d["deadlocks"]), d["deadlocks"] == 0)),
        figure("ledger after the batch and mixed runs", "balanced", data, lambda d: (
            "balanced" if d["ledger_check"]["balanced"] else "OUT OF BALANCE", d["ledger_check"]["balanced"])),
    ]


def pages_figures(data: dict | None) -> list[dict]:
    deep = f"{data.get('pages_deep', 1000):,}" if data else "1,000"

    def ratio(part: str):
        def measure(d: dict):
            page = d[part]
            first, last = page["first_page_ms"], page.get("deep_page_ms", page.get("page_1000_ms"))
            return f"{last / first:.2f}x ({last:,.1f} / {first:,.1f} ms)", last / first <= pages.GOAL_RATIO
        return measure

    return [
        figure(f"statement page {deep} deep / first page", f"<= {pages.GOAL_RATIO}x", data, ratio("statement")),
        figure(f"admin ledger list {deep} pages deep / first", f"<= {pages.GOAL_RATIO}x", data, ratio("admin_ledger")),
    ]


def other_figures(found: dict) -> list[dict]:
    jobs_data, sizes = found["jobs"], (found["jobs"] or {}).get("sizes", {"large": 1_000_000})

    def expire(d: dict):
        seconds = d["runs"]["expire_1m"]["seconds"]
        return f"{seconds:,.1f} s", seconds < jobs.GOALS["expire_1m_seconds"]

    def nightly(d: dict):
        return f"{d['nightly_total_s']:,.1f} s over {d['members']:,} members", d["nightly_total_s"] < insight.GOAL_SECONDS

    def dashboard(d: dict):
        worst = max(d["dashboard_cold_s"], d["dashboard_warm_s"])
        return (f"{d['dashboard_cold_s']:.2f} s cold, {d['dashboard_warm_s']:.2f} s warm",
                worst < insight.DASHBOARD_GOAL_SECONDS)

    def dates(d: dict):
        return (f"{d['daily_s']:,.2f} s over {d['members']:,} members, rerun fired {d['rerun']['fired']}",
                d["daily_s"] < campaign_dates.GOAL_SECONDS and d["rerun"]["fired"] == 0)

    def events_per_s(d: dict):
        return (f"{d['events_per_s']:,.0f} events/s, {d['errors']} errors",
                d["events_per_s"] >= events.GOAL and d["errors"] == 0)

    def imported(d: dict):
        return f"{d['members']:,} members with balances in {d['import_seconds']:.1f} s", None

    def exported(d: dict):
        return (f"CSV {d['csv_rows']:,} rows {d['csv_seconds']:.1f} s, XLSX {d['xlsx_rows']:,} {d['xlsx_seconds']:.1f} s, "
                f"peak RSS {d['rss_mb_before_exports']:.0f} -> {d['rss_mb_after_exports']:.0f} MB"), None

    return [
        figure(f"jobs: expire {sizes['large']:,} lots", f"< {jobs.GOALS['expire_1m_seconds']:.0f} s", jobs_data,
               expire),
        figure("jobs: expiry vs the per-lot ORM loop", f">= {jobs.GOALS['speedup_vs_loop']:.0f}x", jobs_data,
               lambda d: (f"{d['speedup_vs_loop']:.1f}x", d["speedup_vs_loop"] >= jobs.GOALS["speedup_vs_loop"])),
        figure("jobs: ledger balanced after the jobs", "0 off", jobs_data, lambda d: (
            next(g["measured"] for g in d["goals"] if g["name"].startswith("ledger")),
            next(g["met"] for g in d["goals"] if g["name"].startswith("ledger")))),
        figure("insight: nightly segment and metric jobs", f"< {insight.GOAL_SECONDS:.0f} s", found["insight"], nightly),
        figure("insight: managers' dashboard", f"< {insight.DASHBOARD_GOAL_SECONDS:.0f} s", found["insight"], dashboard),
        figure("campaigns: daily date triggers", f"< {campaign_dates.GOAL_SECONDS:.0f} s, rerun 0",
               found["campaign_dates"], dates),
        figure("events: POST /api/v1/events in batches of 1,000", f">= {events.GOAL:,.0f}/s, 0 errors",
               found["events"], events_per_s),
        figure("admin: members file import", "-", found["transfer"], imported),
        figure("admin: ledger export, streamed", "-", found["transfer"], exported),
    ]


def table(found: dict) -> list[tuple[str, list[dict]]]:
    return [
        ("Issue 15: the hot path (bench/run.py)", api_figures(found["api"])),
        ("Issue 15: batches and hot members (bench/batch.py)", batch_figures(found["batch"])),
        ("Issue 15: reads that stay flat (bench/pages.py)", pages_figures(found["pages"])),
        ("The other benchmarks", other_figures(found)),
    ]


def render(sections: list[tuple[str, list[dict]]], *, started: datetime, statuses: dict, quick: bool) -> str:
    rows = [row for _, section in sections for row in section]
    width = [max(len(row[key]) for row in rows) + 2 for key in ("figure", "measured", "goal")]
    lines = ["", f"make bench, {started:%Y-%m-%d} (run started {started:%H:%M} UTC, {os.cpu_count()} CPUs)"
             + (": QUICK run (BENCH_QUICK=1), small sizes; its figures check the scripts, they are not the benchmark"
                if quick else "")]
    for title, rows in sections:
        lines += ["", title, f"{'Figure':<{width[0]}}{'Measured':<{width[1]}}{'Goal':<{width[2]}}Status",
                  "-" * (sum(width) + 8)]
        for row in rows:
            lines.append(f"{row['figure']:<{width[0]}}{row['measured']:<{width[1]}}{row['goal']:<{width[2]}}"
                         f"{row['status']}")
    missing = sum(row["status"] == MISSING for _, rows in sections for row in rows)
    failed = {script: code for script, code in statuses.items() if code}
    lines.append("")
    if failed:
        lines.append("benchmarks that exited non-zero: " + ", ".join(f"{s} ({c})" for s, c in failed.items()))
    lines.append(f"{missing} figure(s) missing" if missing else "every figure measured in this run")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--since", type=float, required=True, help="the run's start (seconds since the epoch)")
    parser.add_argument("--out", type=Path, default=BENCH / "out", help="where the benchmarks wrote their results")
    parser.add_argument("--statuses", default="{}", help="the benchmarks' exit statuses, as JSON {script: status}")
    parser.add_argument("--quick", action="store_true", help="say that the run was a quick one (small sizes)")
    args = parser.parse_args(argv)
    statuses = json.loads(args.statuses)
    started = datetime.fromtimestamp(args.since, UTC)
    sections = table(load(args.out, args.since))
    print(render(sections, started=started, statuses=statuses, quick=args.quick))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "summary.json").write_text(json.dumps({
        "date": started.date().isoformat(), "started_at": started.isoformat(timespec="seconds"), "quick": args.quick,
        "statuses": statuses, "sections": [{"title": title, "figures": rows} for title, rows in sections]},
        indent=2) + "\n")
    missing = any(row["status"] == MISSING for _, rows in sections for row in rows)
    return 1 if missing or any(statuses.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
