"""Health endpoints for the load balancer and the orchestrator (django-health-check).

- `/health/live`: the process answers; touches nothing else (a restart is the only cure for a failed liveness).
- `/health/ready`: the database, the cache, the broker (a Redis ping), the beat heartbeat (the newest
  django-celery-beat `last_run_at`) and the age of the oldest due job (the oldest notification waiting to leave,
  the oldest lot due to expire or be released and not yet settled), each against a setting. 200 when all pass,
  500 with the failing check named otherwise (JSON with `Accept: application/json` or `?format=json`).
- `/health` (older, kept): the database answers.

Messages name the check and a number, never a member or a secret (they are shown to whoever may ask).
"""

import asyncio
import dataclasses
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.db.models import Min, Q
from django.http import JsonResponse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers, patch_vary_headers
from django.views import View
from django.views.decorators.cache import never_cache
from health_check.base import HealthCheck
from health_check.exceptions import ServiceUnavailable
from health_check.views import HealthCheckView


def _redis_client():
    from redis.asyncio import Redis

    return Redis.from_url(settings.CELERY_BROKER_URL, socket_connect_timeout=2, socket_timeout=2)


@dataclasses.dataclass
class Broker(HealthCheck):
    """The Celery broker answers a ping (Redis); with no broker configured, tasks run in-process: nothing to check."""

    timeout: timedelta = dataclasses.field(default=timedelta(seconds=3), repr=False)

    async def run(self):
        url = settings.CELERY_BROKER_URL
        if not url:
            return
        if not url.startswith(("redis://", "rediss://")):
            return  # another transport (make run's SQLAlchemy broker lives in the database checked above)
        client = _redis_client()
        try:
            await client.ping()
        except Exception as exc:  # redis' errors are not OSError subclasses
            raise ServiceUnavailable("Broker unreachable") from exc
        finally:
            await client.aclose()


class _OwnConnection:
    """A sync check runs in a thread of the view's executor: it closes that thread's connection when done, as
    health_check's Database check does, so probes leave no idle connections behind."""

    def run(self):
        try:
            self.probe()
        finally:
            connection.close()


@dataclasses.dataclass
class BeatHeartbeat(_OwnConnection, HealthCheck):
    """The scheduler runs: some periodic task ran within HEALTH_BEAT_MAX_AGE_SECONDS."""

    def probe(self):
        from django_celery_beat.models import PeriodicTask

        newest = PeriodicTask.objects.filter(enabled=True, last_run_at__isnull=False).order_by("-last_run_at") \
            .values_list("last_run_at", flat=True).first()
        if newest is None:
            raise ServiceUnavailable("Beat has never run a periodic task")
        age = (timezone.now() - newest).total_seconds()
        if age > settings.HEALTH_BEAT_MAX_AGE_SECONDS:
            raise ServiceUnavailable(f"Beat's last run was {int(age)} s ago")


@dataclasses.dataclass
class DueJobs(_OwnConnection, HealthCheck):
    """The workers keep up: nothing due has waited longer than its threshold."""

    def probe(self):
        from loyalty.models import Lot
        from members.models import Notification

        now = timezone.now()
        late = []
        oldest_message = Notification.objects.filter(status=Notification.Status.PENDING, next_attempt_at__lte=now) \
            .aggregate(at=Min("next_attempt_at"))["at"]
        if oldest_message and (now - oldest_message).total_seconds() > settings.HEALTH_OUTBOX_MAX_AGE_SECONDS:
            late.append(f"oldest pending notification due {int((now - oldest_message).total_seconds())} s ago")
        open_lots = Lot.objects.filter(remaining__gt=0)
        oldest_expiry = open_lots.filter(expires_at__lte=now).aggregate(at=Min("expires_at"))["at"]
        oldest_release = open_lots.filter(Q(released=False, available_at__lte=now)).aggregate(at=Min("available_at"))["at"]
        oldest_lot = min((at for at in (oldest_expiry, oldest_release) if at), default=None)
        if oldest_lot and (now - oldest_lot).total_seconds() > settings.HEALTH_LOTS_MAX_AGE_SECONDS:
            late.append(f"oldest lot due {int((now - oldest_lot).total_seconds())} s ago")
        if late:
            raise ServiceUnavailable("; ".join(late))


class ReadinessView(HealthCheckView):
    checks = (
        "health_check.checks.Database",
        "health_check.checks.Cache",
        Broker,
        BeatHeartbeat,
        DueJobs,
    )

    # A sync view around the library's async one: its checks run on an event loop of their own thread, so the
    # view works under any WSGI server whatever the calling thread holds (the sync checks get threads of theirs).
    def dispatch(self, request, *args, **kwargs):
        response = View.dispatch(self, request, *args, **kwargs)
        patch_vary_headers(response, ["Accept"])
        add_never_cache_headers(response)
        return response

    def get(self, request, *args, **kwargs):
        with ThreadPoolExecutor(max_workers=1) as pool:
            response = pool.submit(asyncio.run, HealthCheckView.get(self, request, *args, **kwargs)).result()
        if response.status_code == 500:  # not ready: 503, what load balancers and orchestrators expect
            response.status_code = 503
        return response


@never_cache
def liveness(request):
    return JsonResponse({"status": "ok"})
