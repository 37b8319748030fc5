import os

from celery import Celery
from celery.signals import worker_init, worker_process_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("loyalty")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_process_init.connect
def _telemetry(**kwargs) -> None:
    """OpenTelemetry traces in each worker process when OTEL_ENABLED (README: Operations); off by default. In a
    prefork pool, after the fork (an exporter's thread does not survive one)."""
    from config.telemetry import telemetry_setup

    telemetry_setup(service="worker")


@worker_init.connect
def _telemetry_unforked(sender=None, **kwargs) -> None:
    """The same for the solo and threads pools, whose tasks run in the worker's own process."""
    if "prefork" not in str(getattr(sender, "pool_cls", "prefork")).lower():
        _telemetry()
