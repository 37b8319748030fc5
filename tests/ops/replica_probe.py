"""Run by tests/ops/test_replica.py in a process of its own, against a primary (DATABASE_URL) and its streaming
replica (DATABASE_REPLICA_URL): prints what a shop would see. Not a test module."""

import json
import os
import sys
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

import django  # noqa: E402

django.setup()

from django.db import connections  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402

from core.models import Channel, Scope  # noqa: E402
from core.services import api_key_create  # noqa: E402
from loyalty.models import ProgramSettings  # noqa: E402
from members.models import Member  # noqa: E402


def lsn(alias: str, query: str) -> str:
    with connections[alias].cursor() as cursor:
        cursor.execute(query)
        return cursor.fetchone()[0]


def caught_up() -> None:
    """Wait until the replica has replayed everything the primary wrote so far."""
    target = lsn("default", "SELECT pg_current_wal_lsn()::text")
    for _ in range(500):
        with connections["replica"].cursor() as cursor:
            cursor.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [target])
            if cursor.fetchone()[0]:
                return
        import time

        time.sleep(0.02)  # replication, not time under test
    raise SystemExit("the replica did not catch up")


def replay(paused: bool) -> None:
    with connections["replica"].cursor() as cursor:
        cursor.execute("SELECT pg_wal_replay_pause()" if paused else "SELECT pg_wal_replay_resume()")


def main() -> None:
    setup_test_environment()
    program = ProgramSettings.current()  # as the suite's `program`: 1 point per 10.00, available at once
    program.currency, program.earn_points, program.earn_amount, program.pending_days = "EUR", 1, Decimal("10.00"), 0
    program.save()
    _, key = api_key_create(channel=Channel.named("webshop"), name="replica", scopes=list(Scope.values))
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    member = Member.objects.create(external_id="R-1", name="Replica Reader")

    def earn(order_id: str) -> int:
        return api.post("/api/v1/orders", {"member": "R-1", "order_id": order_id, "amount": "100.00",
                                           "currency": "EUR"}, format="json",
                        headers={"Idempotency-Key": order_id}).status_code

    def seen() -> dict:
        balance = api.get("/api/v1/members/R-1/balance").json()
        statement = api.get("/api/v1/members/R-1/transactions").json()
        return {"balance": balance["available"], "statement": len(statement["results"])}

    out = {"first_earn": earn("A-1")}
    caught_up()
    out["caught_up"] = seen()
    replay(paused=True)  # the replica now lags the primary for as long as the test wants
    out["second_earn"] = earn("A-2")
    out["lagging"] = seen()
    replay(paused=False)
    caught_up()
    out["caught_up_again"] = seen()
    out["in_replica"] = lsn("replica", "SELECT pg_is_in_recovery()::text")
    out["member"] = member.pk
    print(json.dumps(out))


if __name__ == "__main__":
    main()
