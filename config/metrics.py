"""`/metrics` for Prometheus (django-prometheus' exporter) and the metrics only the composition root can compute.

- Requests by view and status, latency histograms, database and cache counters: django-prometheus' middleware.
- Ledger writes by kind: core.metrics.LEDGER_WRITES, counted by loyalty's ledger.
- Jobs run and failed: Celery's task signals, below (a worker serves them on WORKER_METRICS_PORT).
- Outbox depth: a gauge computed at each scrape (notifications waiting to leave, by channel).

Who may read it: everyone when METRICS_PUBLIC (development), else signed-in staff and `Authorization: Bearer
<METRICS_TOKEN>` (a scraper); others get 404, so its existence is not advertised.
"""

import hmac

from celery import signals
from django.conf import settings
from django.http import Http404
from django_prometheus.exports import ExportToDjangoView
from prometheus_client import REGISTRY
from prometheus_client.core import GaugeMetricFamily

from core.metrics import JOBS_RUN


class OutboxCollector:
    NAME, HELP = "loyalty_outbox_depth", "Notifications waiting to be delivered, by channel."

    def describe(self):
        """What registering learns the gauge's name from: without it the registry collects, a query at start-up."""
        yield GaugeMetricFamily(self.NAME, self.HELP, labels=["channel"])

    def collect(self):
        from django.db import DatabaseError
        from django.db.models import Count

        from members.models import Notification

        gauge = GaugeMetricFamily(self.NAME, self.HELP, labels=["channel"])
        try:
            rows = (Notification.objects.filter(status=Notification.Status.PENDING).order_by()
                    .values_list("channel").annotate(n=Count("id")))
            depth = dict(rows)
        except DatabaseError:  # the scrape still answers; readiness reports the database
            return
        for channel in Notification.Channel.values:
            gauge.add_metric([channel], depth.get(channel, 0))
        yield gauge


_outbox = OutboxCollector()
if _outbox not in REGISTRY._collector_to_names:  # pragma: no branch - once per process
    REGISTRY.register(_outbox)


def _allowed(request) -> bool:
    if settings.METRICS_PUBLIC:
        return True
    user = getattr(request, "user", None)
    if user is not None and getattr(user, "is_staff", False) and user.is_active:
        return True
    token = settings.METRICS_TOKEN
    given = request.headers.get("Authorization", "")
    return bool(token) and hmac.compare_digest(given.encode(), f"Bearer {token}".encode())


def metrics(request):
    if not _allowed(request):
        raise Http404
    return ExportToDjangoView(request)


@signals.task_success.connect(weak=False)
def _job_succeeded(sender=None, **kwargs):
    JOBS_RUN.labels(task=getattr(sender, "name", "unknown"), outcome="success").inc()


@signals.task_failure.connect(weak=False)
def _job_failed(sender=None, **kwargs):
    JOBS_RUN.labels(task=getattr(sender, "name", "unknown"), outcome="failure").inc()


@signals.worker_ready.connect(weak=False)
def _serve_worker_metrics(**kwargs):
    """The worker's own counters (jobs run and failed). Counted per process: run the worker with a threads or solo
    pool for one count per worker (or set PROMETHEUS_MULTIPROC_DIR, prometheus_client's multiprocess mode)."""
    if settings.WORKER_METRICS_PORT:
        from prometheus_client import start_http_server

        start_http_server(settings.WORKER_METRICS_PORT)
