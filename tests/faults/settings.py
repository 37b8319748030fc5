"""Settings of the processes a fault test starts (the app under gunicorn, Celery workers, the driver): the test
settings, but with the database, broker and cache of the test's own services, and as production runs them:
connections kept across requests (a database restart breaks them) and tasks sent to a real broker."""

from config.settings.test import *  # noqa: F403
from config.settings.test import DATABASES, env

DATABASES["default"]["CONN_MAX_AGE"] = 60
CELERY_BROKER_URL = env("CELERY_BROKER_URL")
CELERY_TASK_ALWAYS_EAGER = False
CACHES = {"default": env.cache_url_config(env.str("CACHE_URL"))}
SETTLE_WORKERS = 1
LOG_LEVEL = "WARNING"
