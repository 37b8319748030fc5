"""OpenTelemetry traces, an option: off unless OTEL_ENABLED is true, and then only with the `otel` extra
installed (`pip install -e ".[otel]"`). Wired in by config/wsgi.py (the web process) and config/celery.py (each
worker process). Everything else is OpenTelemetry's standard environment: OTEL_SERVICE_NAME,
OTEL_EXPORTER_OTLP_ENDPOINT (e.g. http://otel-collector:4318), OTEL_EXPORTER_OTLP_HEADERS, OTEL_TRACES_SAMPLER ...

What is traced: each Django request (a span named after the route, never the path: paths hold member ids),
and, when opentelemetry-instrumentation-celery and -psycopg are installed too, each task and each SQL statement
(the statement's text without its parameters)."""

import logging
import os

log = logging.getLogger("loyalty.telemetry")
_done = False


def enabled() -> bool:
    return os.environ.get("OTEL_ENABLED", "").strip().lower() in {"1", "true", "yes", "on"}


def telemetry_setup(*, service: str) -> bool:
    """Start exporting traces (once per process) if enabled. Returns whether it did."""
    global _done
    if _done or not enabled():
        return _done
    try:
        from opentelemetry import trace
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.instrumentation.django import DjangoInstrumentor
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError:
        log.warning("OTEL_ENABLED is set but OpenTelemetry is not installed (pip install -e '.[otel]'); no traces.")
        return False
    name = os.environ.get("OTEL_SERVICE_NAME") or f"loyalty-{service}"
    provider = TracerProvider(resource=Resource.create({"service.name": name}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    DjangoInstrumentor().instrument()
    for module, instrumentor in (("opentelemetry.instrumentation.celery", "CeleryInstrumentor"),
                                 ("opentelemetry.instrumentation.psycopg", "PsycopgInstrumentor")):
        try:
            getattr(__import__(module, fromlist=[instrumentor]), instrumentor)().instrument()
        except ImportError:
            pass
    _done = True
    return True
