"""The Django side of the benchmark; bench/run.py runs it in subprocesses with the benchmark's settings.

    seed.py prepare                 program settings, channels and an API key; prints {"api_key": ...}
    seed.py services FIRST LAST     members B-<FIRST>..B-<LAST> and their history, through the real services
    seed.py clone FIRST LAST T      members B-<FIRST>..B-<LAST> as copies of the service-seeded B-000001..B-<T>
    seed.py check [--pairs N --services-last T]
                                    the ledger invariant for every member; with --pairs, also that the first
                                    N copies hold exactly what their templates hold
    seed.py roundtrips KEY MEMBERS [N]
                                    N sequential earns and balance reads in this process through the API (warm:
                                    caches filled first): statements per request (BEGIN and COMMIT counted) and
                                    this process's CPU per request
    seed.py wal KEY MEMBERS [N]     N sequential earns through the API (after a warm-up), and the WAL they wrote
                                    per earn, by relation (table or index) and record type (pg_walinspect)

Every service-seeded member gets three orders, 60, 35 and 10 days ago: the first two are past the return
window (available), the last is still pending; amounts vary with the member number.
Each command prints one JSON line.
"""

import json
import os
import sys
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The history is the bench shop's own, as in production: its orders are in the channel its API key writes to.
API_CHANNEL = "bench"
SEED_CHANNEL = API_CHANNEL
ORDER_AGES_DAYS = (60, 35, 10)
JOINED_DAYS_AGO = 90
PATTERN = 7
BATCH = 2000


def external_id(n: int) -> str:
    return f"B-{n:06d}"


def order_amount(n: int, k: int) -> Decimal:
    return Decimal(20 + (n % PATTERN) * 15 + k * 25) + Decimal("0.99")


def order_ref(n: int, k: int) -> str:
    return f"S-{external_id(n)}-{k}"


def setup_django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    import django

    django.setup()


def prepare() -> dict:
    from decimal import Decimal

    from core.models import Channel
    from core.services import api_key_create
    from loyalty.models import ProgramSettings
    from members.models import Tier

    program = ProgramSettings.current()
    # A realistic program has tiers: earning then also reads the member's benefits and records qualifying
    # activity in the same transaction.
    for rank, (code, threshold, multiplier) in enumerate(
            [("bronze", 0, "1"), ("silver", 50, "1.25"), ("gold", 200, "1.5")], start=1):
        Tier.objects.get_or_create(code=code, defaults={"name": code.title(), "rank": rank, "threshold": threshold,
                                                        "earn_multiplier": Decimal(multiplier)})
    for name in (API_CHANNEL, Channel.SYSTEM, Channel.ADMIN):
        Channel.named(name)
    _, raw = api_key_create(channel=API_CHANNEL, name="bench")
    return {"api_key": raw, "currency": program.currency}


def seed_services(first: int, last: int) -> dict:
    """Members and orders through member_register and the order flow, one transaction each."""
    from django.utils import timezone

    from config.flows import order_place
    from core.models import Channel
    from loyalty.models import ProgramSettings
    from members.services import member_register

    channel = Channel.named(SEED_CHANNEL).pk
    currency = ProgramSettings.current().currency
    started, orders = time.monotonic(), 0
    for n in range(first, last + 1):
        now = timezone.now()
        member = member_register(external_id=external_id(n), name=f"Bench {external_id(n)}",
                                 joined_at=now - timedelta(days=JOINED_DAYS_AGO))
        for k, age in enumerate(ORDER_AGES_DAYS):
            order_place(member=member, channel_id=channel, order_id=order_ref(n, k), amount=order_amount(n, k),
                       currency=currency, idempotency_key=order_ref(n, k), occurred_at=now - timedelta(days=age))
            orders += 1
    return {"members": last - first + 1, "orders": orders, "seconds": round(time.monotonic() - started, 2)}


# --- cloning: the bulk of the members, as exact copies of service-seeded ones ---------------------------------
#
# Members beyond the first --service-members are copies of those (member n copies template ((n - 1) % T) + 1):
# every row that belongs to the template member, found by following foreign keys from Member through every
# installed model (accounts, orders, transactions, lots, movements, tier rows, whatever order_earn writes
# today), is inserted again with its foreign keys remapped and the template's external id replaced by the
# copy's in text and JSON values (order ids, idempotency keys, references). So the bulk of the history is
# what the services write, without having to mirror them here, and stays so when the services change.


def member_owned_models() -> list:
    """Models whose rows belong to one member (a foreign-key path to Member), dependencies first; not the history."""
    from django.apps import apps
    from pghistory.models import Event

    from members.models import Member

    # The data-change history is not copied: the database's triggers write it as the copies are inserted.
    candidates = [m for m in apps.get_models() if m._meta.managed and not m._meta.proxy and not issubclass(m, Event)]
    owned = {Member}
    changed = True
    while changed:
        changed = False
        for model in candidates:
            if model not in owned and any(f.related_model in owned for f in _relations(model) if f.related_model is not model):
                owned.add(model)
                changed = True
    ordered, placed = [], set()
    while len(ordered) < len(owned):
        ready = [m for m in owned - placed
                 if all(f.related_model in placed or f.related_model is m or f.related_model not in owned
                        for f in _relations(m))]
        if not ready:
            raise RuntimeError(f"Cyclic foreign keys among {sorted(m.__name__ for m in owned - placed)}")
        for model in sorted(ready, key=lambda m: m._meta.label):
            ordered.append(model)
            placed.add(model)
    return ordered


def _relations(model) -> list:
    return [f for f in model._meta.concrete_fields if f.is_relation and (f.many_to_one or f.one_to_one)]


def collect(models: list, member_ids: list[int]) -> dict:
    """{model: {pk: (row, owner member id)}} for every row belonging to these members."""
    from django.db.models import Q

    found: dict = {}
    for model in models:
        rows = {}
        if model is models[0]:  # Member
            for obj in model._base_manager.filter(pk__in=member_ids):
                rows[obj.pk] = (obj, obj.pk)
        else:
            links = [f for f in _relations(model) if f.related_model in found and f.related_model is not model]
            query = Q()
            for f in links:
                query |= Q(**{f"{f.attname}__in": list(found[f.related_model])})
            for obj in model._base_manager.filter(query).order_by("pk"):
                owner = next(found[f.related_model][getattr(obj, f.attname)][1] for f in links
                             if getattr(obj, f.attname) in found[f.related_model])
                rows[obj.pk] = (obj, owner)
        found[model] = rows
    return found


def _rename(value, old: str, new: str):
    if isinstance(value, str):
        return value.replace(old, new)
    if isinstance(value, dict | list):
        return json.loads(json.dumps(value).replace(old, new))
    return value


def clone_members(first: int, last: int, templates: int) -> dict:
    from django.db import IntegrityError, transaction

    from members.models import Member

    started = time.monotonic()
    models = member_owned_models()
    assert models[0] is Member
    template_pk = dict(Member.objects.filter(external_id__in=[external_id(t) for t in range(1, templates + 1)])
                       .values_list("external_id", "pk"))
    if len(template_pk) != templates:
        raise RuntimeError(f"Only {len(template_pk)} of {templates} template members exist.")
    by_owner: dict = {}
    found = collect(models, list(template_pk.values()))
    for model, rows in found.items():
        for obj, owner in rows.values():
            by_owner.setdefault((model, owner), []).append(obj)
    copies = [(n, (n - 1) % templates + 1) for n in range(first, last + 1)]
    new_pk: dict = {}  # (model, copy number, template pk) -> pk of the copy
    inserted = {}
    with transaction.atomic():
        for model in models:
            pk_field, relations = model._meta.pk, _relations(model)
            pending = []  # (copy number, template row, instance)
            for n, t in copies:
                old, new = external_id(t), external_id(n)
                for obj in by_owner.get((model, template_pk[old]), []):
                    values = {f.attname: _rename(getattr(obj, f.attname), old, new) for f in model._meta.concrete_fields}
                    for f in relations:
                        target = getattr(obj, f.attname)
                        if target is not None and (f.related_model, n, target) in new_pk:
                            values[f.attname] = new_pk[(f.related_model, n, target)]
                        elif target is not None and f.related_model is model and target in found[model]:
                            values[f.attname] = ("pending", target)
                    if not pk_field.is_relation:
                        values[pk_field.attname] = None
                    pending.append((n, obj, values))
            # Rows pointing to rows of their own model (a reversal and what it reverses) wait for those.
            count = 0
            while pending:
                ready, later = [], []
                for n, obj, values in pending:
                    unresolved = [f for f in relations if isinstance(values.get(f.attname), tuple)]
                    for f in unresolved:
                        key = (model, n, values[f.attname][1])
                        if key in new_pk:
                            values[f.attname] = new_pk[key]
                    if any(isinstance(values.get(f.attname), tuple) for f in unresolved):
                        later.append((n, obj, values))
                    else:
                        ready.append((n, obj, values))
                if not ready:
                    raise RuntimeError(f"Could not order the self-references of {model.__name__}.")
                try:
                    created = model._base_manager.bulk_create([model(**values) for _, _, values in ready],
                                                               batch_size=BATCH)
                except IntegrityError as exc:
                    raise RuntimeError(f"Copying {model.__name__} rows broke a constraint; a unique value that does "
                                       f"not contain the member's external id? {exc}") from exc
                for (n, obj, _), instance in zip(ready, created, strict=True):
                    new_pk[(model, n, obj.pk)] = instance.pk
                count += len(created)
                pending = later
            inserted[model._meta.label] = count
    return {"members": inserted.get(Member._meta.label, 0), "orders": inserted.get("loyalty.Order", 0),
            "rows": inserted, "seconds": round(time.monotonic() - started, 2)}


def member_rows(n: int) -> dict:
    """Everything that belongs to member n, in a form that is equal for a copy and its template: ids replaced
    by positions, the external id by *, automatic timestamps left out."""
    from members.models import Member

    models = member_owned_models()
    found = collect(models, list(Member.objects.filter(external_id=external_id(n)).values_list("pk", flat=True)))
    position = {model: {pk: i for i, pk in enumerate(sorted(rows))} for model, rows in found.items()}
    out = {}
    for model, rows in found.items():
        relations = {f.attname: f for f in _relations(model)}
        normalised = []
        for pk in sorted(rows):
            obj = rows[pk][0]
            row = {}
            for f in model._meta.concrete_fields:
                if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                    continue
                value = getattr(obj, f.attname)
                if f.attname in relations and relations[f.attname].related_model in position:
                    value = position[relations[f.attname].related_model].get(value, value)
                elif f.primary_key:
                    continue
                row[f.attname] = _rename(value, external_id(n), "*")
            normalised.append(row)
        out[model._meta.label] = normalised
    return out


LEDGER_CHECKS = {
    # cached balances == transactions == open lots, per member
    "account != transactions or lots": """
        WITH t AS (SELECT member_id, SUM(points) AS points, SUM(available_delta) AS available,
                          SUM(pending_delta) AS pending FROM {txn} GROUP BY member_id),
             l AS (SELECT member_id, SUM(remaining) FILTER (WHERE released) AS available,
                          SUM(remaining) FILTER (WHERE NOT released) AS pending FROM {lot} GROUP BY member_id)
        SELECT member_id FROM {account} a FULL JOIN t USING (member_id) FULL JOIN l USING (member_id)
        WHERE COALESCE(a.available, 0) <> COALESCE(t.available, 0) OR COALESCE(a.pending, 0) <> COALESCE(t.pending, 0)
           OR COALESCE(a.available, 0) + COALESCE(a.pending, 0) <> COALESCE(t.points, 0)
           OR COALESCE(a.available, 0) <> COALESCE(l.available, 0) OR COALESCE(a.pending, 0) <> COALESCE(l.pending, 0)
           OR a.available < 0 OR a.pending < 0""",
    # each lot explained by its movements, within 0..amount
    "lot != its movements": """
        SELECT lot.id FROM {lot} lot
        LEFT JOIN (SELECT lot_id, SUM(points) AS moved FROM {movement} GROUP BY lot_id) m ON m.lot_id = lot.id
        WHERE lot.remaining <> COALESCE(m.moved, 0) OR lot.remaining < 0 OR lot.remaining > lot.amount""",
    # the statement's last line shows the account's balances
    "last transaction != account": """
        SELECT a.member_id FROM {account} a
        JOIN LATERAL (SELECT balance_after, pending_after FROM {txn} t WHERE t.member_id = a.member_id
                      ORDER BY t.id DESC LIMIT 1) last ON TRUE
        WHERE last.balance_after <> a.available OR last.pending_after <> a.pending""",
}


def check(pairs: int, services_last: int) -> dict:
    """The ledger invariant, set-based over every member; and bulk-seeded members against their twins."""
    from django.db import connection
    from django.db.models import Count

    from loyalty.models import Account, Lot, LotMovement, Order, Transaction
    from members.models import Member

    tables = {"txn": Transaction._meta.db_table, "lot": Lot._meta.db_table, "account": Account._meta.db_table,
              "movement": LotMovement._meta.db_table}
    result = {"members": Member.objects.count(), "orders": Order.objects.count(),
              "transactions": dict(Transaction.objects.values_list("kind").annotate(n=Count("id")).order_by()),
              "lots": Lot.objects.count(), "problems": []}
    with connection.cursor() as cursor:
        for name, sql in LEDGER_CHECKS.items():
            cursor.execute(sql.format(**tables))
            ids = [row[0] for row in cursor.fetchall()]
            if ids:
                result["problems"].append(f"{name}: {len(ids)} (ids {', '.join(map(str, ids[:10]))})")
    for n in range(services_last + 1, services_last + 1 + pairs):
        template = (n - 1) % services_last + 1 if services_last else None
        if template is None or not Member.objects.filter(external_id=external_id(n)).exists():
            break
        a, b = member_rows(template), member_rows(n)
        differing = [label for label in a if a[label] != b.get(label)]
        if differing:
            label = differing[0]
            result["problems"].append(
                f"copy {external_id(n)} differs from its template {external_id(template)} in {', '.join(differing)}; "
                f"{label}: {json.dumps(b.get(label), default=str)[:400]} vs {json.dumps(a[label], default=str)[:400]}")
    return result


def _earning_client(api_key: str, members: int, *, tag: str, seed: int):
    """A test client with the benchmark's API key, its random generator, and `earn()`: one new order of a random
    member through POST /api/v1/orders, as the load generator sends it."""
    import itertools
    import random

    from django.test import Client

    client = Client(HTTP_AUTHORIZATION=f"Api-Key {api_key}", HTTP_HOST="127.0.0.1")
    serial, tag, rng = itertools.count(), f"{tag}{time.time_ns()}", random.Random(seed)

    def earn():
        n = next(serial)
        body = {"member": external_id(rng.randint(1, members)), "order_id": f"{tag}-{n}", "amount": "123.45",
                "currency": "EUR"}
        r = client.post("/api/v1/orders", json.dumps(body), content_type="application/json",
                        HTTP_IDEMPOTENCY_KEY=f"{tag}-{n}")
        assert r.status_code == 201, r.content[:500]

    return client, rng, earn


def roundtrips(api_key: str, members: int, count: int) -> dict:
    """Statements and in-process CPU per earn and per balance read, as a warm web process serves them."""
    from django.db import connection

    client, rng, earn = _earning_client(api_key, members, tag="rt", seed=7)

    def balance():
        r = client.get(f"/api/v1/members/{external_id(rng.randint(1, members))}/balance")
        assert r.status_code == 200, r.content[:500]

    out = {}
    for name, request in (("earn", earn), ("balance", balance)):
        for _ in range(20):  # warm: settings, tiers, the API key, prepared statements
            request()
        statements = []

        def counted(execute, sql, params, many, context, statements=statements):
            statements.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(counted):
            request()
        started = time.process_time()
        for _ in range(count):
            request()
        # An earn is one database transaction: its BEGIN and COMMIT are round trips too (not seen by the wrapper).
        out[name] = {"statements": len(statements) + (2 if name == "earn" else 0),
                     "cpu_ms": round(1000 * (time.process_time() - started) / count, 2),
                     "sql": [sql[:120] for sql in statements]}
    return out


# The WAL of this database's transactions between two LSNs, one row per (relation of the record's first block,
# record type); commit records have no block.
WAL_BY_RELATION = """
    WITH records AS (SELECT xid, resource_manager || ' ' || split_part(record_type, ' ', 1) AS kind, record_length,
                            fpi_length, substring(block_ref from 'rel [0-9]+/[0-9]+/([0-9]+)')::oid AS node,
                            block_ref ~ %(pattern)s AS ours
                     FROM pg_get_wal_records_info(%(start)s, %(end)s)),
         ours AS (SELECT DISTINCT xid FROM records WHERE xid <> '0' AND ours)
    SELECT coalesce(c.relname, CASE WHEN r.node IS NULL THEN '-' ELSE 'relfilenode ' || r.node END), r.kind,
           count(*), sum(r.record_length), sum(r.fpi_length)
    FROM records r LEFT JOIN pg_class c ON c.relfilenode = r.node AND c.relfilenode <> 0
    WHERE r.xid IN (SELECT xid FROM ours) OR (r.xid = '0' AND r.ours)
    GROUP BY 1, 2 ORDER BY 4 DESC"""


def wal_per_earn(api_key: str, members: int, count: int) -> dict:
    """WAL per earn, sequential through the API, by relation: which tables and indexes an earn writes, and what
    each costs. Full-page images (the first change of a page after a checkpoint) are counted apart: how many an
    earn pays depends on how often checkpoints come, not on the data model."""
    from django.db import connection

    earn = _earning_client(api_key, members, tag="wal", seed=11)[2]

    for _ in range(20):
        earn()
    with connection.cursor() as cursor:
        cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_walinspect")
        cursor.execute("SELECT oid FROM pg_database WHERE datname = current_database()")
        oid = cursor.fetchone()[0]
        # A temporary slot keeps the run's WAL until it is read (a busy server recycles it), as bench/run.py does.
        cursor.execute("SELECT pg_create_physical_replication_slot(%s, true, true)", [f"bench_wal_{os.getpid()}"])
        cursor.execute("SELECT pg_current_wal_insert_lsn()::text")
        start = cursor.fetchone()[0]
    for _ in range(count):
        earn()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_flush_lsn()::text")
        end = cursor.fetchone()[0]
        cursor.execute(WAL_BY_RELATION, {"start": start, "end": end, "pattern": f"rel [0-9]+/{oid}/"})
        rows = cursor.fetchall()
        cursor.execute("SELECT pg_drop_replication_slot(%s)", [f"bench_wal_{os.getpid()}"])
    per = {f"{rel} {kind}": [round(n / count, 2), round(int(size) / count), round(int(fpi) / count)]
           for rel, kind, n, size, fpi in rows}
    return {"earns": count, "records_per_earn": round(sum(r[2] for r in rows) / count, 1),
            "bytes_per_earn": round(sum(int(r[3]) for r in rows) / count),
            "fpi_bytes_per_earn": round(sum(int(r[4]) for r in rows) / count),
            "bytes_per_earn_without_fpi": round(sum(int(r[3]) - int(r[4]) for r in rows) / count),
            "by_relation": per}


def main(argv: list[str]) -> int:
    setup_django()
    command = argv[0] if argv else ""
    if command == "prepare":
        out = prepare()
    elif command == "services":
        out = seed_services(int(argv[1]), int(argv[2]))
    elif command == "clone":
        out = clone_members(int(argv[1]), int(argv[2]), int(argv[3]))
    elif command == "check":
        pairs = int(argv[argv.index("--pairs") + 1]) if "--pairs" in argv else 0
        services_last = int(argv[argv.index("--services-last") + 1]) if "--services-last" in argv else 0
        out = check(pairs, services_last)
    elif command == "roundtrips":
        out = roundtrips(argv[1], int(argv[2]), int(argv[3]) if len(argv) > 3 else 100)
    elif command == "wal":
        out = wal_per_earn(argv[1], int(argv[2]), int(argv[3]) if len(argv) > 3 else 500)
    else:
        print(__doc__, file=sys.stderr)
        return 2
    print(json.dumps(out, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
