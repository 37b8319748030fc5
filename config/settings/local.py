"""Local development: `make run`. PostgreSQL always: DATABASE_URL, or else the project's embedded cluster
(`.pgdata/`, which `make run` starts and stops). A real Celery worker and beat always run the jobs: the broker is
CELERY_BROKER_URL (Redis), or else the same PostgreSQL database through kombu's SQLAlchemy transport."""

from config.localdb import broker_url

from .base import *  # noqa: F403
from .base import DATABASES, env

DEBUG = env.bool("DEBUG", default=True)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "0.0.0.0"])

CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="") or broker_url(DATABASES["default"])
CELERY_TASK_ALWAYS_EAGER = False
