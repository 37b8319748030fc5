"""Backups: the README's procedure, run for real. pg_dump of the database, pg_restore into a fresh database,
then `ledger_check` passes there and the API answers a balance as it did before."""

import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.db import connection

from core.models import Scope
from tests.conftest import make_client

pytestmark = [
    pytest.mark.django_db(transaction=True),  # the dump must see committed data
    pytest.mark.skipif(not (shutil.which("pg_dump") and shutil.which("pg_restore")), reason="needs pg_dump"),
]
ROOT = Path(__file__).resolve().parents[2]


def pg(settings_dict: dict, *args: str, dbname: str | None = None, **kwargs) -> subprocess.CompletedProcess:
    env = {**os.environ, "PGPASSWORD": settings_dict.get("PASSWORD") or ""}
    conn = ["-h", settings_dict.get("HOST") or "127.0.0.1", "-p", str(settings_dict.get("PORT") or 5432),
            "-U", settings_dict.get("USER") or "postgres"]
    command = [args[0], *conn, *args[1:], *([] if dbname is None else ["-d", dbname])]
    return subprocess.run(command, env=env, check=True, capture_output=True, text=True, timeout=120, **kwargs)


def manage(database_url: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": database_url, "DJANGO_SETTINGS_MODULE": "config.settings.test",
           "ALLOWED_HOSTS": "testserver"}
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=180)


@pytest.fixture
def restored_db():
    """A fresh database for the restore, dropped afterwards."""
    db = connection.settings_dict
    name = f"{db['NAME']}_restore_{uuid.uuid4().hex[:8]}"
    pg(db, "psql", "-c", f'CREATE DATABASE "{name}"', dbname="postgres")
    yield name
    pg(db, "psql", "-c", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', dbname="postgres")


def test_a_dump_restored_into_a_fresh_database_balances_and_answers_as_before(channel, program, member, tmp_path,
                                                                                restored_db):
    api = make_client(channel, scopes=list(Scope.values))
    assert api.post("/api/v1/orders", {"member": member.external_id, "order_id": "B-1", "amount": "250.00",
                                       "currency": "EUR"}).status_code == 201
    assert api.post("/api/v1/redemptions", {"member": member.external_id, "points": 7}).status_code == 201
    before = api.get(f"/api/v1/members/{member.external_id}/balance").json()
    assert before["available"] == 18

    db = connection.settings_dict
    dump = tmp_path / "loyalty.dump"
    pg(db, "pg_dump", "--format=custom", "--no-owner", "--file", str(dump), dbname=db["NAME"])
    pg(db, "pg_restore", "--no-owner", "--exit-on-error", str(dump), dbname=restored_db)

    url = f"postgres://{db.get('USER') or 'postgres'}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{restored_db}"
    checked = manage(url, "ledger_check")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "the books balance" in checked.stdout
    read = manage(url, "shell", "-c", (
        "from rest_framework.test import APIClient; c = APIClient(); "
        f"c.credentials(HTTP_AUTHORIZATION='Api-Key {api.raw_key}'); "
        f"print(c.get('/api/v1/members/{member.external_id}/balance').content.decode())"))
    assert read.returncode == 0, read.stderr
    after = json.loads(read.stdout.strip().splitlines()[-1])
    assert after == before
