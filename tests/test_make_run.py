"""`make run` as a newcomer meets it: a real worker and beat run the scheduled jobs, PostgreSQL (embedded or
named) with its database created, an API root, and a demo program a shop would run."""

import os
import time
import uuid
from datetime import timedelta
from decimal import Decimal
from io import StringIO

import psycopg
import pytest
import time_machine
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask
from environ import Env

from config.localdb import embedded_database_url
from loyalty.models import Account, Transaction
from rewards.selectors import reward_rate_effective
from scripts.run import Processes, broker_prepare, celery_commands, database_ensure, embedded_start, embedded_stop

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
POLL_SECONDS = 120  # bound on waiting for processes we started (a worker's start, beat's first tick)


def _test_database_url() -> str:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    return f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.mark.django_db(transaction=True)
def test_a_job_scheduled_in_the_database_runs_under_make_runs_worker_and_beat(api, member, tmp_path):
    old = timezone.now() - timedelta(days=400)
    with time_machine.travel(old, tick=False):
        r = api.post("/api/v1/orders", {"member": member.external_id, "order_id": "old", "amount": "100.00",
                                        "currency": "EUR"})
    assert r.status_code == 201
    assert Account.objects.get(member=member).available == 10  # due to expire; only the job expires it
    PeriodicTask.objects.update(enabled=False)  # this test's schedule only
    every_second, _ = IntervalSchedule.objects.get_or_create(every=1, period=IntervalSchedule.SECONDS)
    PeriodicTask.objects.create(name="settle now", task="loyalty.tasks.settle_due_points", interval=every_second)

    # As `make run` with nothing configured: local settings, no broker named (the database is the broker).
    env = {k: v for k, v in os.environ.items() if k not in ("CELERY_BROKER_URL", "DJANGO_SETTINGS_MODULE")}
    env.update(DATABASE_URL=_test_database_url(), DJANGO_SETTINGS_MODULE="config.settings.local")
    processes = Processes(env)
    try:
        broker_prepare(env=env)
        for name, command in celery_commands().items():
            processes.start(name, command, log=tmp_path / f"{name}.log")
        deadline = time.monotonic() + POLL_SECONDS
        while not Transaction.objects.filter(member=member, kind="expire").exists():
            assert all(p.poll() is None for p in processes.running.values()), _logs(tmp_path)
            assert time.monotonic() < deadline, "the scheduled job did not run\n" + _logs(tmp_path)
            time.sleep(0.5)
    finally:
        processes.stop_all()
    assert Account.objects.get(member=member).available == 0
    assert "settle_due_points" in (tmp_path / "worker.log").read_text()


def _logs(folder) -> str:
    return "\n".join(f"--- {log.name}\n{log.read_text()[-3000:]}" for log in sorted(folder.glob("*.log")))


def test_a_database_url_naming_a_missing_database_gets_it_created():
    name = f"loyalty_new_{uuid.uuid4().hex[:8]}"
    url = f"postgres://postgres@127.0.0.1:5432/{name}"
    try:
        assert database_ensure(url) is True
        with psycopg.connect(f"postgresql://postgres@127.0.0.1:5432/{name}") as conn:
            assert conn.execute("SELECT current_database()").fetchone()[0] == name
        assert database_ensure(url) is False  # there now: left as it is
    finally:
        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


def test_the_embedded_postgresql_starts_serves_the_database_and_stops(tmp_path):
    pgdata = tmp_path / "pgdata"
    server = embedded_start(pgdata)
    try:
        url = embedded_database_url(pgdata=pgdata)
        assert database_ensure(url) is True
        config = Env.db_url_config(url)
        with psycopg.connect(host=config["HOST"], user=config["USER"], dbname=config["NAME"]) as conn:
            assert conn.execute("SHOW server_version").fetchone()[0].startswith("18")
    finally:
        embedded_stop(server, pgdata)
    assert not (pgdata / "postmaster.pid").exists()


def test_the_api_root_lists_the_areas_without_a_key(client):
    r = client.get("/api/v1/", HTTP_ACCEPT="application/json")
    assert r.status_code == 200
    body = r.json()
    assert body["docs"].endswith("/api/docs/")
    assert "http://testserver/api/v1/members" in body["areas"]["members"]["urls"]
    assert "http://testserver/api/v1/orders" in body["areas"]["orders"]["urls"]


@pytest.mark.django_db
def test_the_demo_has_a_manager_own_passwords_and_a_program_a_shop_would_run(client):
    out = StringIO()
    call_command("seed_demo", stdout=out)
    printed = out.getvalue()
    passwords = {}
    for username in ("admin", "manager", "clerk"):
        line = next(line for line in printed.splitlines() if line.strip().startswith(username + " "))
        passwords[username] = line.split()[1]
    assert len(set(passwords.values())) == 3
    assert User.objects.get(username="manager").groups.filter(name="Manager").exists()
    assert client.login(username="manager", password=passwords["manager"])

    rate = reward_rate_effective()
    assert rate["percent"] == Decimal("1")  # 1 point per 1.00, 100 points = 1.00
    assert dict(rate["tiers"]) == {"Bronze": Decimal("1"), "Silver": Decimal("1.25"), "Gold": Decimal("1.5")}
    page = client.get("/admin/loyalty/programsettings/1/change/")
    assert page.status_code == 200
    assert "1.00% back on spend" in page.content.decode()
    assert "Gold 1.50%" in page.content.decode()

    again = StringIO()
    call_command("seed_demo", stdout=again)
    assert "Demo data present" in again.getvalue()
