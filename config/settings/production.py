"""Production: every secret from the environment, no defaults; `manage.py check --deploy` is clean.

The settings refuse to load (ImproperlyConfigured, so no process starts) when something production needs is
missing or empty: a SECRET_KEY of at least 50 characters, a shared cache (CACHE_URL: rate limits and throttles
must count across processes), a real e-mail backend (EMAIL_URL), the database and the broker. The API's schema
and docs are not public unless API_DOCS_PUBLIC is set.
"""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import env, prepared_statements, with_replica


def required(name: str, *, why: str, check=bool) -> str:
    value = env.str(name, default="")
    if not check(value):
        raise ImproperlyConfigured(f"{name} must be set for production: {why}.")
    return value


DEBUG = False
SECRET_KEY = required("SECRET_KEY", why="at least 50 random characters", check=lambda v: len(v) >= 50)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")
DATABASES = {"default": env.db("DATABASE_URL")}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = env.bool("CONN_HEALTH_CHECKS", default=False)
prepared_statements(DATABASES["default"])
DATABASE_ROUTERS = with_replica(DATABASES)
CELERY_BROKER_URL = env("CELERY_BROKER_URL")
CELERY_TASK_ALWAYS_EAGER = False
CACHES = {"default": env.cache_url_config(required(
    "CACHE_URL", why="a cache shared by every process (e.g. redis://host:6379/1), or each process counts rate "
    "limits on its own", check=lambda v: v and not v.startswith(("locmem", "dummy"))))}
vars().update(env.email_url_config(required(
    "EMAIL_URL", why="a real mail server (e.g. smtp+tls://user:password@smtp.example.com:587)",
    check=lambda v: v and not v.startswith(("console", "dummy", "locmem")))))
API_DOCS_PUBLIC = env.bool("API_DOCS_PUBLIC", default=False)
if not API_DOCS_PUBLIC:  # the schema and docs for signed-in staff only
    SPECTACULAR_SETTINGS = {**SPECTACULAR_SETTINGS,  # noqa: F405
                            "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAdminUser"],
                            "SERVE_AUTHENTICATION": ["rest_framework.authentication.SessionAuthentication"]}

METRICS_PUBLIC = env.bool("METRICS_PUBLIC", default=False)  # staff or METRICS_TOKEN only, unless a setting says so

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_REDIRECT_EXEMPT = [r"^health(/|$)", r"^metrics$"]  # probes and scrapers inside the network speak plain HTTP
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"]}  # noqa: F405
