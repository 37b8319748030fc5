"""The services of the fault tests, started once per test session and shared by its modules: a PostgreSQL cluster
of our own (migrated once), a Redis of our own (broker and cache), the app under gunicorn. Workers are started
by the tests that kill them. The machine's shared PostgreSQL and Redis are never touched."""

import json
import os
import subprocess
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest

from .client import Api
from .services import ROOT, SETTINGS, Postgres, Process, Redis, app_server, available, celery_worker

DATABASE = "loyalty"
BROKER_DB, CACHE_DB = 2, 3


@dataclass
class Stack:
    folder: Path
    postgres: Postgres
    redis: Redis
    api_key: str = ""
    processes: list[Process] = field(default_factory=list)

    @property
    def env(self) -> dict[str, str]:
        return {"DATABASE_URL": self.postgres.url(DATABASE), "CELERY_BROKER_URL": self.redis.url(BROKER_DB),
                "CACHE_URL": f"rediscache://127.0.0.1:{self.redis.port}/{CACHE_DB}", "LOG_LEVEL": "WARNING",
                "ALLOWED_HOSTS": "127.0.0.1,localhost", "IDEMPOTENCY_WAIT_SECONDS": "2"}

    def manage(self, *args: str) -> str:
        return self._run([sys.executable, "manage.py", *args])

    def driver(self, *steps: tuple | str) -> dict | list[dict]:
        """Run driver commands, e.g. `driver(("seed_birthdays", "X", 1), "birthdays")`, in one process; the
        result of the one command, or the list of results."""
        words = []
        for step in steps:
            words += ["--", *map(str, (step,) if isinstance(step, str) else step)]
        out = self._run([sys.executable, "-m", "tests.faults.driver", *words[1:]])
        results = json.loads(out.strip().splitlines()[-1])
        return results[0] if len(steps) == 1 else results

    def _run(self, command: list[str]) -> str:
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300,
                              env={**os.environ, **self.env, "DJANGO_SETTINGS_MODULE": SETTINGS})
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    def db(self, **kwargs) -> psycopg.Connection:
        return self.postgres.connect(DATABASE, autocommit=True, **kwargs)

    def scalar(self, sql: str, params=None):
        with self.db() as conn:
            return conn.execute(sql, params).fetchone()[0]

    def worker(self, name: str) -> Process:
        """A Celery worker, starting: tasks sent meanwhile wait in the broker until it consumes them."""
        process = celery_worker(self.env, self.folder, name)
        self.processes.append(process)
        return process

    def send_task(self, name: str, **kwargs) -> None:
        from celery import Celery

        # Not the current app: the test process's own tasks must keep the project's Celery app (eager, its backend).
        app = Celery("faults", broker=self.redis.url(BROKER_DB), set_as_current=False)
        try:
            app.send_task(name, kwargs=kwargs)
        finally:
            app.close()


def _copy_schema(postgres: Postgres) -> None:
    """The test database's schema (migrated by pytest-django for the session) copied into the cluster: a second
    of pg_dump instead of running every migration again. Its rows are what the migrations wrote, or nothing when
    a test emptied the tables (the application creates its settings rows when it first reads them)."""
    from django.db import connection

    db = connection.settings_dict
    dump = subprocess.run(
        ["pg_dump", "--no-owner", "--no-privileges", "-h", db.get("HOST") or "127.0.0.1", "-p", str(db.get("PORT") or 5432),
         "-U", db.get("USER") or "postgres", db["NAME"]],
        capture_output=True, timeout=120, env={**os.environ, "PGPASSWORD": db.get("PASSWORD") or ""})
    assert dump.returncode == 0, dump.stderr.decode(errors="replace")
    restore = subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", postgres.url(DATABASE)], input=dump.stdout,
                             capture_output=True, timeout=120)
    assert restore.returncode == 0, restore.stderr.decode(errors="replace")


@pytest.fixture(scope="session")
def stack(tmp_path_factory, django_db_setup, django_db_blocker):
    if available():
        pytest.skip(f"fault tests: {available()}")
    folder = tmp_path_factory.mktemp("faults")
    postgres = Postgres().start()
    redis = Redis(folder).start()
    stack = Stack(folder, postgres, redis)
    try:
        with psycopg.connect(postgres.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{DATABASE}"')
        _copy_schema(postgres)
        stack.api_key = stack.driver("setup")["api_key"]
        yield stack
    finally:
        for process in stack.processes:
            process.stop()
        redis.kill()
        postgres.stop()


@pytest.fixture(scope="session")
def app(stack) -> Api:
    """The API served by gunicorn against the stack's database, broker and cache, with a key of every scope."""
    server, url = app_server(stack.env, stack.folder)
    stack.processes.append(server)
    return Api(url, stack.api_key, server)


@pytest.fixture
def new_id():
    return lambda prefix: f"{prefix}-{uuid.uuid4().hex[:10]}"
