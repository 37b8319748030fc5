"""The events table's monthly partitions (PostgreSQL declarative partitioning by `occurred_at`, UTC months):
created ahead by the nightly job (and on demand for a month within the retention that is missing), and dropped
whole once older than the retention staff set (CampaignSettings.event_retention_months), with their dedupe keys.

Rules never read dropped partitions: event counts live in EventCounter and challenge progress in
ChallengeProgress, both kept apart from the events; only the after-sign-up count reads events, over its window of
hours, which a retention of at least one month always keeps. On SQLite (the demo) there is one plain table and
these functions only delete what the retention says.
"""

import time
from datetime import UTC, date, datetime

from django.db import connection, transaction

from ..models import CampaignSettings, Event, EventKey

MONTHS_AHEAD = 2  # partitions created ahead of the current month
KEY_BATCH = 10_000

KNOWN_SECONDS = 600  # how long this process trusts what it saw of the catalog (another may drop a month)
_known: set[date] = set()  # months this process has seen a partition of
_known_at = [0.0]


def month_of(moment: datetime) -> date:
    return moment.astimezone(UTC).date().replace(day=1)


def add_months(month: date, n: int) -> date:
    index = month.year * 12 + month.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def partition_name(month: date) -> str:
    return f"{Event._meta.db_table}_{month:%Y_%m}"


def retention_start(now: datetime) -> datetime:
    """The first instant kept: the start of the month `event_retention_months` before the current one."""
    month = add_months(month_of(now), -CampaignSettings.current().event_retention_months)
    return datetime(month.year, month.month, 1, tzinfo=UTC)


def event_partitions() -> dict[date, str]:
    """The monthly partitions that exist, by month."""
    if connection.vendor != "postgresql":
        return {}
    with connection.cursor() as cursor:
        cursor.execute("SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                       "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = %s", [Event._meta.db_table])
        names = [row[0] for row in cursor.fetchall()]
    prefix = Event._meta.db_table + "_"
    found = {}
    for name in names:
        year, _, month = name.removeprefix(prefix).partition("_")
        if year.isdigit() and month.isdigit():
            found[date(int(year), int(month), 1)] = name
    return found


def event_partitions_ensure(*, months: set[date]) -> list[date]:
    """Create the partitions of these months that do not exist yet (IF NOT EXISTS: two processes may race)."""
    if connection.vendor != "postgresql":
        return []
    if time.monotonic() - _known_at[0] > KNOWN_SECONDS:
        _known.clear()
    if months <= _known:
        return []
    existing = set(event_partitions())
    _known.update(existing)
    _known_at[0] = time.monotonic()
    created = []
    for month in sorted(months - existing):
        start, end = month, add_months(month, 1)
        with connection.cursor() as cursor:
            cursor.execute(f'CREATE TABLE IF NOT EXISTS "{partition_name(month)}" PARTITION OF '
                           f'"{Event._meta.db_table}" FOR VALUES FROM (\'{start.isoformat()} 00:00+00\') '
                           f'TO (\'{end.isoformat()} 00:00+00\')')
        transaction.on_commit(lambda month=month: _known.add(month))  # a rolled-back creation is not known
        created.append(month)
    return created


def event_partitions_maintain(*, now: datetime) -> dict:
    """The nightly job: partitions for this month and MONTHS_AHEAD more; partitions wholly before the retention
    dropped, and the dedupe keys of the events they held deleted in batches. Safe to re-run."""
    current = month_of(now)
    with transaction.atomic():
        created = event_partitions_ensure(months={add_months(current, k) for k in range(MONTHS_AHEAD + 1)})
    keep_from = retention_start(now)
    dropped = []
    for month, name in sorted(event_partitions().items()):
        if add_months(month, 1) <= keep_from.date():
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(f'DROP TABLE IF EXISTS "{name}"')
            _known.discard(month)
            dropped.append(month.isoformat()[:7])
    if connection.vendor != "postgresql":
        Event.objects.filter(occurred_at__lt=keep_from).delete()
    keys = 0
    while True:
        with transaction.atomic():
            batch = list(EventKey.objects.filter(occurred_at__lt=keep_from).values_list("pk", flat=True)[:KEY_BATCH])
            if not batch:
                break
            keys += EventKey.objects.filter(pk__in=batch).delete()[0]
    return {"created": [m.isoformat()[:7] for m in created], "dropped": dropped, "keys_deleted": keys,
            "kept_from": keep_from.isoformat()}
