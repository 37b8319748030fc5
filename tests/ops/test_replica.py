"""A streaming replica serves statements (and reports) through the database router, while a member's balance right
after a write reads the primary. With real parts: a PostgreSQL primary started by the test, a replica made by
pg_basebackup from it, and the app in a process of its own pointed at both."""

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from django.db import connection

pytestmark = [
    pytest.mark.django_db,  # the test database, as migrated, is what the primary starts from
    pytest.mark.skipif(not all(shutil.which(tool) for tool in ("initdb", "pg_ctl", "pg_basebackup", "pg_dump")),
                       reason="needs the PostgreSQL server tools"),
]
ROOT = Path(__file__).resolve().parents[2]
AS_POSTGRES = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []  # the server refuses to run as root


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(*command: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([*AS_POSTGRES, *command], check=True, capture_output=True, text=True, timeout=120, **kwargs)


@pytest.fixture
def primary_and_replica():
    base = Path(tempfile.mkdtemp(prefix="loyalty-replica-"))
    if AS_POSTGRES:
        shutil.chown(base, "postgres")
    primary, replica = base / "primary", base / "replica"
    ports = free_port(), free_port()
    run("initdb", "-D", str(primary), "-U", "postgres", "-A", "trust", "--no-sync")
    with (primary / "postgresql.conf").open("a") as conf:
        conf.write(f"port = {ports[0]}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{base}'\n"
                   "wal_level = replica\nmax_wal_senders = 4\nfsync = off\nfull_page_writes = off\n")
    started = []
    try:
        run("pg_ctl", "-D", str(primary), "-l", str(base / "primary.log"), "-w", "start")
        started.append(primary)
        # The schema and the migrations' rows: the test database as migrated for this run.
        db = connection.settings_dict
        source = ["-h", db.get("HOST") or "127.0.0.1", "-p", str(db.get("PORT") or 5432), "-U", db.get("USER") or "postgres"]
        target = ["-h", "127.0.0.1", "-p", str(ports[0]), "-U", "postgres"]
        run("createdb", *target, "loyalty")
        dump = subprocess.run(["pg_dump", *source, "--no-owner", db["NAME"]], check=True, capture_output=True,
                              timeout=120)
        run("psql", *target, "-q", "-v", "ON_ERROR_STOP=1", "-d", "loyalty", input=dump.stdout.decode())
        run("pg_basebackup", *target, "-D", str(replica), "-R", "-X", "stream", "-c", "fast", "--no-sync")
        with (replica / "postgresql.conf").open("a") as conf:
            conf.write(f"port = {ports[1]}\n")
        run("pg_ctl", "-D", str(replica), "-l", str(base / "replica.log"), "-w", "start")
        started.append(replica)
        yield {"DATABASE_URL": f"postgres://postgres@127.0.0.1:{ports[0]}/loyalty",
               "DATABASE_REPLICA_URL": f"postgres://postgres@127.0.0.1:{ports[1]}/loyalty"}
    finally:
        for data in reversed(started):
            subprocess.run([*AS_POSTGRES, "pg_ctl", "-D", str(data), "-m", "immediate", "stop"], capture_output=True,
                           timeout=60)
        shutil.rmtree(base, ignore_errors=True)


def test_statements_come_from_the_replica_and_the_balance_after_a_write_from_the_primary(primary_and_replica):
    env = {**os.environ, **primary_and_replica, "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    probe = subprocess.run([sys.executable, str(ROOT / "tests" / "ops" / "replica_probe.py")], cwd=ROOT, env=env,
                           capture_output=True, text=True, timeout=180)
    assert probe.returncode == 0, probe.stderr[-3000:]
    seen = json.loads(probe.stdout.strip().splitlines()[-1])
    assert seen["in_replica"] == "true"
    assert (seen["first_earn"], seen["second_earn"]) == (201, 201)
    assert seen["caught_up"] == {"balance": 10, "statement": 1}
    # Replay paused: the statement (replica) does not show the second order yet, the balance (primary) does.
    assert seen["lagging"] == {"balance": 20, "statement": 1}
    assert seen["caught_up_again"] == {"balance": 20, "statement": 2}
