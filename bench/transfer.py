"""Import and export in the admin at scale, in a database of its own (loyalty_bench_transfer, re-created each run):

  1. A members file of MEMBERS rows, each with an opening balance: its preview (every batch run and rolled back),
     its import (batches of 500, each its own transaction: registration, then the batch's opening balances under
     one lock of its members), and the same file again (every row skipped).
  2. The ledger export of a period of TRANSACTIONS rows (seeded in SQL), streamed as CSV and as XLSX, with the
     peak resident size of this process before and after: the export reads keyset batches of 2,000 rows and writes
     them as it goes, so memory stays flat however long the period.

    python bench/transfer.py [--members 2000] [--transactions 1000000] [--xlsx-transactions 100000]
                             [--db loyalty_bench_transfer]

Results: bench/out/transfer.json.
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

OUT = Path(__file__).resolve().parent / "out"
DB = "loyalty_bench_transfer"
_started = time.monotonic()


def say(message: str) -> None:
    print(f"[{time.monotonic() - _started:7.1f}s] {message}", flush=True)


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(label: str, fn):
    start = time.monotonic()
    result = fn()
    seconds = time.monotonic() - start
    say(f"{label}: {seconds:.1f} s")
    return seconds, result


def members_file(n: int):
    import tablib

    rows = [(f"B-{i}", f"Member {i}", f"b{i}@example.com", f"+86138{i:08d}", "2020-01-01", 100 + i % 50)
            for i in range(1, n + 1)]
    return tablib.Dataset(*rows, headers=["external_id", "name", "email", "phone", "joined_at", "opening_balance"])


def seed_ledger(n: int, now: datetime) -> None:
    from django.db import transaction

    from loyalty.services.ledger import channel_id
    from members.models import Member

    p = {"n": n, "now": now, "channel": channel_id("webshop"), "members": Member.objects.count()}
    with transaction.atomic():
        sql("SET LOCAL session_replication_role = replica")  # no triggers while seeding
        sql("""INSERT INTO loyalty_transaction (member_id, kind, points, available_delta, pending_delta, balance_after,
                   pending_after, reference, channel_id, actor_id, reason, idempotency_key, reverses_id, multiplier,
                   details, created_at)
               SELECT (SELECT min(id) FROM members_member) + k %% %(members)s, 'earn', 1 + k %% 9, 1 + k %% 9, 0, 0, 0,
                   'O-' || k, %(channel)s, NULL, '', 'seed:' || k, NULL, 1, '{}'::jsonb,
                   %(now)s - make_interval(secs => k %% 2500000)
               FROM generate_series(1, %(n)s) k""", p)


def export(fmt, n_limit: int | None, now: datetime) -> int:
    from import_export.formats.base_formats import CSV, XLSX

    from loyalty.models import Transaction
    from loyalty.transfer import StreamedLedgerExportMixin

    class Admin(StreamedLedgerExportMixin):
        to_encoding = "utf-8"
        model = Transaction

        def has_export_permission(self, request):
            return True

        def get_export_filename(self, request, queryset, file_format):
            return "ledger"

    queryset = Transaction.objects.filter(created_at__lt=now + timedelta(days=1))
    if n_limit:
        last = queryset.order_by("id").values_list("id", flat=True)[n_limit - 1]
        queryset = queryset.filter(id__lte=last)
    response = Admin()._do_file_export(XLSX() if fmt == "xlsx" else CSV(), None, queryset)
    size = 0
    for chunk in response.streaming_content:
        size += len(chunk)
    return size


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=2000)
    parser.add_argument("--transactions", type=int, default=1_000_000)
    parser.add_argument("--xlsx-transactions", type=int, default=100_000)
    parser.add_argument("--db", default=DB, help=f"the benchmark's own database (dropped and re-created; default {DB})")
    args = parser.parse_args()
    jobs.setup(args.db)
    from loyalty.models import ProgramSettings, Transaction
    from loyalty.transfer import MemberImportResource

    ProgramSettings.current()
    results: dict = {"members": args.members}
    dataset = members_file(args.members)
    results["preview_seconds"], preview = timed(f"preview of {args.members:,} members",
                                                lambda: MemberImportResource().import_data(dataset, dry_run=True))
    assert preview.totals["new"] == args.members and not Transaction.objects.exists(), preview.totals
    results["import_seconds"], done = timed(f"import of {args.members:,} members with opening balances",
                                            lambda: MemberImportResource().import_data(dataset, dry_run=False))
    assert Transaction.objects.count() == args.members, done.totals
    results["reimport_seconds"], again = timed("the same file again",
                                               lambda: MemberImportResource().import_data(dataset, dry_run=False))
    assert again.totals["skip"] == args.members and Transaction.objects.count() == args.members

    now = datetime.now(UTC)
    timed(f"seed {args.transactions:,} transactions", lambda: seed_ledger(args.transactions, now))
    total = Transaction.objects.count()
    results["rss_mb_before_exports"] = round(rss_mb(), 1)
    results["csv_rows"] = total
    results["csv_seconds"], size = timed(f"CSV export of {total:,} transactions", lambda: export("csv", None, now))
    results["csv_mb"] = round(size / 2**20, 1)
    results["xlsx_rows"] = args.xlsx_transactions
    results["xlsx_seconds"], size = timed(f"XLSX export of {args.xlsx_transactions:,} transactions",
                                          lambda: export("xlsx", args.xlsx_transactions, now))
    results["xlsx_mb"] = round(size / 2**20, 1)
    results["rss_mb_after_exports"] = round(rss_mb(), 1)
    say(f"peak resident size {results['rss_mb_before_exports']} MB before the exports, "
        f"{results['rss_mb_after_exports']} MB after")
    OUT.mkdir(exist_ok=True)
    (OUT / "transfer.json").write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
