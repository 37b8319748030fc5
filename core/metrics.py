"""Our own Prometheus metrics, beside django-prometheus' requests and latencies (README: Operations).

Defined here, at the bottom of the layers, so that any app may count without importing upwards; collected by
the `/metrics` view (config.metrics) and, in a worker, on WORKER_METRICS_PORT.
"""

from django.db import transaction
from prometheus_client import Counter

LEDGER_WRITES = Counter("loyalty_ledger_writes", "Ledger transactions written (committed), by kind.", ["kind"])
JOBS_RUN = Counter("loyalty_jobs_run", "Background jobs (Celery tasks) finished, by task and outcome.",
                   ["task", "outcome"])


def ledger_write_count(kind: str) -> None:
    """Count one ledger transaction of `kind` once its database transaction commits (a rollback counts nothing)."""
    transaction.on_commit(LEDGER_WRITES.labels(kind=kind).inc)
