"""Fail in one line per service when PostgreSQL or Redis on localhost is unreachable."""

import os
import socket
import sys
from urllib.parse import urlparse

SERVICES = {
    "PostgreSQL": os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/loyalty"),
    "Redis": os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/15"),
}


def reachable(url: str) -> tuple[bool, str]:
    parsed = urlparse(url)
    host, port = parsed.hostname or "127.0.0.1", parsed.port or {"postgres": 5432, "redis": 6379}.get(
        parsed.scheme.replace("postgresql", "postgres"), 0)
    try:
        with socket.create_connection((host, port), timeout=2):
            return True, f"{host}:{port}"
    except OSError:
        return False, f"{host}:{port}"


failed = False
for name, url in SERVICES.items():
    ok, where = reachable(url)
    if not ok:
        print(f"{name} is not reachable at {where}; start it and run again.", file=sys.stderr)
        failed = True
sys.exit(1 if failed else 0)
