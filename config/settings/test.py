"""The test suite: PostgreSQL and Redis on localhost, as on every development and CI machine."""

from .base import *  # noqa: F403
from .base import env, prepared_statements, with_replica

DATABASES = {
    "default": env.db("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/loyalty"),
}
DATABASES["default"]["CONN_MAX_AGE"] = 0
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# As production runs when it sets DATABASE_PREPARE_THRESHOLD (and the benchmark does): server-side binding, statements
# prepared from their fifth run, so a statement only the simple protocol accepts fails here first.
# DATABASE_PREPARE_THRESHOLD= (empty) runs the suite without.
prepared_statements(DATABASES["default"], default="5")
DATABASE_ROUTERS = with_replica(DATABASES)
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="redis://127.0.0.1:6379/15")
CELERY_TASK_ALWAYS_EAGER = True
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
API_KEY_CACHE_SECONDS = 0
SETTINGS_CACHE_SECONDS = 0
DEBUG = False
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
WEBHOOK_TIMEOUT_SECONDS = 5
