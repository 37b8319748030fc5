"""Structured logs: one JSON object a line, with the request id of the request (or of the request that enqueued
the task) on every line, ours and the libraries' (structlog's ProcessorFormatter on the standard library's loggers).

- `RequestIdMiddleware` honours an incoming `X-Request-ID` (a short token of safe characters) or makes one, binds
  it for the request's log lines, echoes it in the response, and logs one `request_finished` line (method, route
  pattern, status, duration): the route, never the path, so ids and query strings (page links) stay out.
- Celery: the id travels in the task message's headers (`before_task_publish`) and is bound again around the task
  (`task_prerun`/`task_postrun`), in a worker as in-process (eager) runs.
- `redact` is the safety net for what a library might log: API keys, member tokens, Authorization values,
  signed page links and e-mail addresses are masked before a line is written.
"""

import re
import time
import uuid

import structlog
from celery import signals

REQUEST_ID_HEADER = "X-Request-ID"
_SAFE_ID = re.compile(r"[A-Za-z0-9._:\-]{1,128}")
_SECRETS = [
    (re.compile(r"\blk_[A-Za-z0-9]+_[A-Za-z0-9_\-]+"), "lk_[redacted]"),  # API keys
    (re.compile(r"\bmt_[A-Za-z0-9_\-]{10,}"), "mt_[redacted]"),  # member tokens
    (re.compile(r"(?i)\b(Api-Key|Bearer)\s+\S+"), r"\1 [redacted]"),
    (re.compile(r"([?&](?:link|token|key)=)[^&\s\"']+"), r"\1[redacted]"),
    (re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}"), "[email]"),
]

request_log = structlog.get_logger("loyalty.request")


def _scrub(value):
    if isinstance(value, str):
        for pattern, replacement in _SECRETS:
            value = pattern.sub(replacement, value)
        return value
    if isinstance(value, dict):
        return {k: _scrub(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(v) for v in value]
    return value


def redact(logger, method_name, event_dict):
    return {key: _scrub(value) for key, value in event_dict.items()}


def _shared_processors():
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.stdlib.ExtraAdder(),
    ]


def logging_config(*, level: str, json: bool) -> dict:
    """The LOGGING dict (and structlog's configuration): JSON lines, or readable lines for a developer's console."""
    renderer = structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    structlog.configure(
        processors=[structlog.stdlib.filter_by_level, *_shared_processors(),
                    structlog.processors.StackInfoRenderer(),
                    structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"structured": {
            "()": structlog.stdlib.ProcessorFormatter,
            "foreign_pre_chain": _shared_processors(),
            "processors": [structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                           structlog.processors.format_exc_info, redact, renderer],
        }},
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "structured"}},
        "root": {"handlers": ["console"], "level": level},
        "loggers": {"django.db.backends": {"level": "INFO"}},  # SQL parameters hold personal data: never at DEBUG
    }


def _incoming_id(request) -> str:
    value = request.headers.get(REQUEST_ID_HEADER, "")
    return value if _SAFE_ID.fullmatch(value) else uuid.uuid4().hex


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = _incoming_id(request)
        request.request_id = request_id
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.monotonic()
        try:
            response = self.get_response(request)
            response[REQUEST_ID_HEADER] = request_id
            match = getattr(request, "resolver_match", None)
            request_log.info("request_finished", method=request.method,
                             route=(match.route if match else "(unmatched)"), status=response.status_code,
                             duration_ms=round((time.monotonic() - started) * 1000, 1))
            return response
        finally:
            structlog.contextvars.clear_contextvars()


@signals.before_task_publish.connect(weak=False)
def _carry_request_id(headers=None, **kwargs):
    request_id = structlog.contextvars.get_contextvars().get("request_id")
    if request_id and headers is not None:
        headers["request_id"] = request_id


_task_log = structlog.get_logger("loyalty.task")
_bound: dict[str, dict] = {}


@signals.task_prerun.connect(weak=False)
def _bind_request_id(task_id=None, task=None, **kwargs):
    before = structlog.contextvars.get_contextvars()
    _bound[task_id] = before
    request_id = (getattr(task.request, "request_id", None)  # a worker: the message's headers
                  or (getattr(task.request, "headers", None) or {}).get("request_id")  # apply(headers=...)
                  or before.get("request_id"))  # in-process (eager): the request's own context
    structlog.contextvars.bind_contextvars(task_id=task_id, task=task.name,
                                           **({"request_id": request_id} if request_id else {}))
    _task_log.info("task_started")


@signals.task_postrun.connect(weak=False)
def _unbind_request_id(task_id=None, task=None, state=None, **kwargs):
    _task_log.info("task_finished", state=state)
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(**_bound.pop(task_id, {}))


def get_logger(name: str):
    return structlog.get_logger(name)


