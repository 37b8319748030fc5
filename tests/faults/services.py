"""Start, stop and kill the services a fault test needs, as real processes on free ports: a PostgreSQL cluster in a
temporary folder, a Redis, the app served by gunicorn, a Celery worker. Nothing here touches the machine's shared
PostgreSQL or Redis.

PostgreSQL refuses to run as root: when the tests run as root, the cluster runs as the `postgres` user (its folder
is handed over to it)."""

import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = "tests.faults.settings"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(condition: Callable[[], object], *, timeout: float = 30, every: float = 0.05, what: str = "") -> object:
    """Poll `condition` until it returns something true (and return that), or fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = condition()
        except Exception:  # noqa: BLE001 - a service still starting answers with errors
            value = None
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"waited {timeout} s for {what or condition}")
        time.sleep(every)


def _binary(name: str) -> str:
    for folder in ("/usr/local/bin", "/usr/lib/postgresql/15/bin", "/usr/bin"):
        if Path(folder, name).exists():
            return str(Path(folder, name))
    found = shutil.which(name)
    if not found:
        raise FileNotFoundError(name)
    return found


def available() -> str:
    """Why the fault tests cannot run here, or '' when they can."""
    for name in ("initdb", "pg_ctl", "redis-server"):
        try:
            _binary(name)
        except FileNotFoundError:
            return f"{name} not found"
    return ""


class Postgres:
    """A throwaway cluster in a folder of its own (readable by the server's user), fsync off (it holds test data
    only), listening on 127.0.0.1:`port`."""

    def __init__(self) -> None:
        folder = Path(tempfile.mkdtemp(prefix="loyalty-faults-pg-"))
        self.folder, self.data, self.port = folder, folder / "data", free_port()
        self._as = {}
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            os.chown(folder, user.pw_uid, user.pw_gid)
            self._as = {"user": user.pw_uid, "group": user.pw_gid}

    def url(self, database: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def _ctl(self, *args: str, timeout: float = 60) -> None:
        self._run([_binary("pg_ctl"), "-D", str(self.data), *args], timeout=timeout)

    def _run(self, command: list[str], timeout: float = 60) -> None:
        # Output to a file, not a pipe: the server started by pg_ctl inherits it and would hold a pipe open.
        with tempfile.TemporaryFile() as out:
            done = subprocess.run(command, stdout=out, stderr=subprocess.STDOUT, timeout=timeout, cwd=self.folder,
                                  **self._as)
            if done.returncode:
                out.seek(0)
                raise RuntimeError(f"{command[0]} failed: {out.read().decode(errors='replace')}")

    def start(self) -> "Postgres":
        if not self.data.exists():
            self._run([_binary("initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8",
                       "--no-sync"], timeout=120)
        options = (f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.folder} -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off -c max_connections=60")
        self._ctl("-o", options, "-l", str(self.folder / "server.log"), "-w", "start")
        return self

    def restart(self) -> None:
        """`pg_ctl restart -m fast`: every connection is cut, the server is down for a moment, then back."""
        self._ctl("-m", "fast", "-l", str(self.folder / "server.log"), "-w", "restart")

    def stop(self) -> None:
        if self.data.exists():
            subprocess.run([_binary("pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"], capture_output=True,
                           timeout=60, cwd=self.folder, **self._as)
        shutil.rmtree(self.folder, ignore_errors=True)

    def connect(self, database: str, **kwargs) -> psycopg.Connection:
        return psycopg.connect(self.url(database), **kwargs)


class Redis:
    """A Redis without persistence on a free port; `kill` and `start` again on the same port."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.port, self.process = folder, free_port(), None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> "Redis":
        self.process = subprocess.Popen(
            [_binary("redis-server"), "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.folder)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(self.ping, timeout=10, what="redis")
        return self

    def ping(self) -> bool:
        with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


class Process:
    """One of our processes (the app, a worker) with the fault settings and `env`; its output goes to a log file
    that a failing test prints."""

    def __init__(self, name: str, command: list[str], env: dict[str, str], folder: Path) -> None:
        self.name, self.log = name, folder / f"{name}.log"
        self._out = open(self.log, "ab")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **env, "DJANGO_SETTINGS_MODULE": SETTINGS},
                                        stdout=self._out, stderr=subprocess.STDOUT, start_new_session=True)

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL, no warning, no cleanup: what the OOM killer or a lost machine does."""
        if self.alive():
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.alive():
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()
        self._out.close()

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]


def app_server(env: dict[str, str], folder: Path, *, threads: int = 8) -> tuple[Process, str]:
    """The API served by gunicorn (one process, `threads` threads), as production serves it. Returns it and its URL."""
    port = free_port()
    server = Process("app", [sys.executable, "-m", "gunicorn", "config.wsgi:application", "--bind", f"127.0.0.1:{port}",
                             "--workers", "1", "--worker-class", "gthread", "--threads", str(threads),
                             "--timeout", "60", "--graceful-timeout", "2"], env, folder)
    url = f"http://127.0.0.1:{port}"
    wait_until(lambda: _answers(url), timeout=60, every=0.1, what=f"the app server ({server.output()})")
    return server, url


def _answers(url: str) -> bool:
    import urllib.request

    with urllib.request.urlopen(f"{url}/health/live", timeout=2) as response:
        return response.status == 200


def celery_worker(env: dict[str, str], folder: Path, name: str = "worker") -> Process:
    """A Celery worker (solo pool: the job runs in this very process, so killing it kills the job)."""
    return Process(name, [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "solo", "--loglevel",
                          "INFO", "--without-gossip", "--without-mingle", "--without-heartbeat", "-n", f"{name}@faults"],
                   env, folder)
