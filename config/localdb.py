"""The embedded PostgreSQL of `make run`: a cluster of the project's own, in `.pgdata/`, ignored by git.

`scripts/run.py` starts and stops it; the local settings find it here while it runs, so that
`.venv/bin/python manage.py ...` in a second terminal reaches the same database. Nothing here runs in production.
"""

from pathlib import Path
from urllib.parse import quote, urlencode

BASE_DIR = Path(__file__).resolve().parent.parent
PGDATA = BASE_DIR / ".pgdata"
DATABASE = "loyalty"


def embedded_database_url(*, pgdata: Path = PGDATA, database: str = DATABASE) -> str:
    """The URL of `database` on the cluster in `pgdata`, which listens on a Unix socket only: in `pgdata` itself,
    or where its postmaster.pid says while it runs (a long path moves the socket to a shorter one)."""
    socket_dir, port = str(pgdata), ""
    pid_file = pgdata / "postmaster.pid"
    if pid_file.exists():
        lines = pid_file.read_text().splitlines()
        if len(lines) >= 5 and lines[4].strip():
            port, socket_dir = lines[3].strip(), lines[4].strip()
    suffix = "" if port in ("", "5432") else f"?port={port}"
    return f"postgres://postgres@/{socket_dir}/{database}{suffix}"  # a path for a host: the socket's directory


def broker_url(database: dict) -> str:
    """Kombu's SQLAlchemy transport on the project's own PostgreSQL database (Django's settings dict): the broker
    of `make run` when CELERY_BROKER_URL is unset, so that a worker and beat run with no other server."""
    user = quote(database.get("USER") or "", safe="")
    password = quote(str(database.get("PASSWORD") or ""), safe="")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host, port = database.get("HOST") or "", database.get("PORT") or ""
    query = {}
    if host.startswith("/"):  # a Unix socket directory
        query["host"] = host
        if port:
            query["port"] = str(port)
        netloc = auth
    else:
        netloc = f"{auth}{host}{f':{port}' if port else ''}"
    suffix = f"?{urlencode(query)}" if query else ""
    return f"sqla+postgresql+psycopg://{netloc}/{quote(database['NAME'], safe='')}{suffix}"
