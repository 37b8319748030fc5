"""`make bench`'s last table (bench/summary.py): every figure with its goal, from this run's results only."""

import importlib.util
import json
import os
import time
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


@pytest.fixture(scope="module")
def summary():
    spec = importlib.util.spec_from_file_location("bench_summary", BENCH / "summary.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def results() -> dict:
    """What each benchmark writes, as little of it as the table reads."""
    wal = {"bytes_per_txn": 4470, "records_per_txn": 43.2}
    return {
        "results.json": {
            "runs": {"floor": {"rps": 2000.0, "errors": 0}, "earn": {"rps": 1000.0, "errors": 0,
                                                                   "cpu": {"app_ms_per_request": 2.5}, "wal": wal},
                     "balance": {"rps": 1000.0, "errors": 0}, "tpcb_like": {"tps": 4000.0, "wal": {
                         "bytes_per_txn": 2536, "records_per_txn": 6.8}}, "select_only": {"tps": 60000.0}},
            "roundtrips": {"earn": {"statements": 5, "cpu_ms": 1.9}, "balance": {"statements": 1, "cpu_ms": 0.8}},
            "ledger_after_load": {"problems": []}},
        "batch.json": {
            "config": {"batch_size": 1000, "hot": 10}, "batch": {"orders_per_s": 6400.0, "errors": 0},
            "tpcb_like": {"tps": 4000.0}, "hot": {"rps": 300.0, "errors": 0}, "uniform": {"rps": 500.0, "errors": 0},
            "deadlocks": 0, "ledger_check": {"balanced": True}},
        "pages.json": {"pages_deep": 1000,
                       "statement": {"first_page_ms": 40.0, "deep_page_ms": 50.0},
                       "admin_ledger": {"first_page_ms": 30.0, "deep_page_ms": 60.0}},
        "jobs.json": {"runs": {"expire_1m": {"seconds": 40.0}}, "speedup_vs_loop": 25.0,
                      "sizes": {"small": 100_000, "large": 1_000_000, "sample": 5000},
                      "goals": [{"name": "ledger balanced after the jobs", "measured": "0 members off", "met": True}]},
        "insight.json": {"members": 1_000_000, "nightly_total_s": 300.0, "dashboard_cold_s": 0.5,
                         "dashboard_warm_s": 0.2},
        "campaign_dates.json": {"members": 1_000_000, "daily_s": 12.0, "rerun": {"fired": 0}},
        "events.json": {"events_per_s": 7000.0, "errors": 0},
        "transfer.json": {"members": 2000, "import_seconds": 10.0, "csv_rows": 1_002_000, "csv_seconds": 30.0,
                          "xlsx_rows": 100_000, "xlsx_seconds": 20.0, "rss_mb_before_exports": 150.0,
                          "rss_mb_after_exports": 160.0},
    }


def write(out: Path, files: dict) -> None:
    out.mkdir(exist_ok=True)
    for name, data in files.items():
        (out / name).write_text(json.dumps(data))


def status_of(text: str, figure: str) -> str:
    line = next(line for line in text.splitlines() if line.startswith(figure))
    return line.rsplit("  ", 1)[-1].strip()


def test_every_figure_of_the_run_with_its_goal(summary, tmp_path, capsys):
    since = time.time() - 1
    write(tmp_path, results())

    code = summary.main(["--since", str(since), "--out", str(tmp_path), "--statuses", json.dumps({"run.py": 0})])

    text = capsys.readouterr().out
    assert code == 0
    assert "earn / pgbench tpcb-like" in text and "25.00 % (1,000.0 req/s / 4,000.0 tps)" in text
    assert status_of(text, "earn / pgbench tpcb-like") == "MET"
    assert status_of(text, "earn / floor") == "MET"  # 50 %
    assert status_of(text, "balance / floor") == "NOT MET"  # 50 % of the floor, the goal is 60 %
    assert status_of(text, "balance / pgbench select-only") == "reported"
    assert "1.60x (6,400.0 orders/s / 4,000.0 tps)" in text
    assert status_of(text, "batch orders/s / tpcb-like, 1,000 a request") == "MET"
    assert status_of(text, "hot members (10) / uniform") == "MET"  # 60 %
    assert status_of(text, "statement page 1,000 deep") == "MET"  # 1.25x
    assert status_of(text, "admin ledger list 1,000 pages deep") == "NOT MET"  # 2x
    assert "4,470 B, 43.2 records (tpcb-like 2,536 B, 6.8)" in text
    assert status_of(text, "jobs: expire 1,000,000 lots") == "MET"
    assert "every figure measured in this run" in text
    saved = json.loads((tmp_path / "summary.json").read_text())
    assert saved["date"] == time.strftime("%Y-%m-%d", time.gmtime(since))


def test_a_previous_runs_file_is_missing_and_fails_the_run(summary, tmp_path, capsys):
    since = time.time() - 1
    write(tmp_path, results())
    os.utime(tmp_path / "batch.json", (since - 3600, since - 3600))  # left by yesterday's run
    (tmp_path / "pages.json").unlink()  # its benchmark failed before writing it

    code = summary.main(["--since", str(since), "--out", str(tmp_path)])

    text = capsys.readouterr().out
    assert code == 1
    assert status_of(text, "batch orders/s / tpcb-like") == "missing"
    assert status_of(text, "deadlocks") == "missing"
    assert status_of(text, "statement page 1,000 deep") == "missing"
    assert status_of(text, "earn / pgbench tpcb-like") == "MET"  # the rest of the run is still shown
    assert "8 figure(s) missing" in text


def test_a_benchmark_that_failed_fails_the_run(summary, tmp_path, capsys):
    since = time.time() - 1
    files = results()
    del files["results.json"]["runs"]["earn"]["wal"]  # a part of a benchmark that did not run
    write(tmp_path, files)

    code = summary.main(["--since", str(since), "--out", str(tmp_path), "--statuses", json.dumps({"events.py": 1})])

    text = capsys.readouterr().out
    assert code == 1
    assert status_of(text, "WAL per earn") == "missing"
    assert "benchmarks that exited non-zero: events.py (1)" in text
