"""Settings shared by every environment. Values come from the environment (12-factor)."""

from datetime import timedelta
from pathlib import Path

import environ
from django.templatetags.static import static

from config.localdb import embedded_database_url

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False) if (BASE_DIR / ".env").exists() else None

SECRET_KEY = env("SECRET_KEY", default="insecure-local-development-key-change-me")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])

INSTALLED_APPS = [
    # The admin's theme (django-unfold, README: the back office): before django.contrib.admin so that its templates
    # win. The basic app config leaves the admin site to ours (config.office.OfficeAdminSite, on unfold's site).
    "unfold.apps.BasicAppConfig",
    "unfold.contrib.filters",
    "unfold.contrib.forms",
    "config.apps.OfficeAdminConfig",  # django.contrib.admin with the back office's site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI and ReDoc served from our static files, not a CDN
    "django_filters",
    "django_celery_beat",
    "pgtrigger",  # PostgreSQL triggers as code (installed by migrations); pghistory's are made with it
    "pghistory",  # the data-change history: every write to a tracked table, old and new values, by whom
    "import_export",  # CSV/XLSX import (with a preview) and export in the admin
    # Our apps, lowest layer first (see README: layering). Admin modules of higher apps
    # extend the ones of lower apps, so this order matters.
    "core",
    "members",
    "loyalty",
    "rewards",
    "referrals",
    "insight",
    "campaigns",
    "config.apps.ProjectConfig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",  # the admin speaks the staff browser's language (en, zh-hans)
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "core.history.HistoryMiddleware",  # who changed what: the staff user (or the API channel) on every change
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

# Only writing requests open a history context (reads write nothing worth recording, and skip its overhead).
PGHISTORY_MIDDLEWARE_METHODS = ("POST", "PUT", "PATCH", "DELETE")

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# PostgreSQL everywhere; unset, the embedded cluster that `make run` starts in the project (config/localdb.py).
DATABASES = {"default": env.db("DATABASE_URL", default=embedded_database_url())}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
# A health check costs a `SELECT 1` round trip at the start of every request that uses a kept connection (an earn
# makes about 15 statements, a balance read 1). Off, a connection the server dropped fails the one request that
# finds it, and Django then replaces it (it closes a connection after a database error).
DATABASES["default"]["CONN_HEALTH_CHECKS"] = env.bool("CONN_HEALTH_CHECKS", default=False)
DATABASES["default"]["ATOMIC_REQUESTS"] = False  # services draw their own transaction boundaries


def prepared_statements(database: dict, default: str = "") -> dict:
    """Server-side binding and prepared statements when DATABASE_PREPARE_THRESHOLD is set: a statement run that
    many times on a connection is prepared, and planned no more (an earn's statements cost more to plan than to
    run). Unset: off, Django's default, which any connection pooler accepts; a PgBouncer in transaction mode
    needs 1.21 or later with max_prepared_statements set."""
    threshold = env.str("DATABASE_PREPARE_THRESHOLD", default=default)
    if threshold:
        database.setdefault("OPTIONS", {}).update(server_side_binding=True, prepare_threshold=int(threshold))
    return database


prepared_statements(DATABASES["default"])


def with_replica(databases: dict) -> list[str]:
    """A streaming replica of the primary (DATABASE_REPLICA_URL), as the `replica` database, with the routers that
    send it the reads marked for it (core.replica: statements, reports, the dashboard); [] when there is none."""
    url = env.str("DATABASE_REPLICA_URL", default="")
    if not url:
        return []
    primary = databases["default"]
    databases["replica"] = {**env.db_url_config(url), "TEST": {"MIRROR": "default"},
                            **{k: primary[k] for k in ("CONN_MAX_AGE", "CONN_HEALTH_CHECKS", "OPTIONS") if k in primary}}
    return ["core.replica.ReplicaRouter"]


DATABASE_ROUTERS = with_replica(DATABASES)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
# The languages of the members' page (config/templates/account/), translated in locale/.
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# The back office's theme: the program's name in the header comes from the program settings (OfficeAdminSite), the
# sidebar from config/navigation.py (each link only for staff who may open it), the language switch (en, zh-hans)
# posts to Django's set_language view (/i18n/setlang/).
UNFOLD = {
    "SITE_SYMBOL": "loyalty",
    "SHOW_LANGUAGES": True,
    "SHOW_HISTORY": True,
    "SHOW_VIEW_ON_SITE": False,
    "STYLES": [lambda request: static("office/office.css")],  # our pages' panels, tables and buttons
    "SIDEBAR": {"show_search": True, "show_all_applications": False, "navigation": "config.navigation.sidebar"},
}

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"

# Import and export in the admin (django-import-export; CSV and XLSX, see core/transfer.py): a file waits between its
# preview and its confirmation in the cache, shared by every process (CACHE_URL), so another process may confirm it.
IMPORT_EXPORT_TMP_STORAGE_CLASS = "import_export.tmp_storages.CacheStorage"
IMPORT_EXPORT_SKIP_ADMIN_LOG = True  # the services write the audit log; no LogEntry per imported row

CACHES = {"default": env.cache_url_config(env.str("CACHE_URL", default="") or "locmemcache://")}

# --- REST API -----------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "core.authentication.ApiKeyAuthentication",
        "members.authentication.MemberTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": ["core.parsers.SafeJSONParser"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "EXCEPTION_HANDLER": "core.errors.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": None,
    "COERCE_DECIMAL_TO_STRING": True,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Loyalty API",
    "DESCRIPTION": (
        "Points-and-rewards loyalty program. Authenticate the shop with `Authorization: Api-Key <key>`; "
        "a member's app with `Authorization: Bearer <token>`. Every POST takes an `Idempotency-Key` header. "
        'Errors: `{"error": {"code", "message", "fields"}}`.'
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Tags, summaries, descriptions, error codes and examples per operation (config/openapi.py).
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "config.openapi.postprocess"],
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "MemberStatusEnum": "members.models.Member.Status",
        "RedemptionStatusEnum": "rewards.models.Redemption.Status",
        "TransactionKindEnum": "loyalty.models.Transaction.Kind",
    },
}

# How long a member-scoped token lives.
MEMBER_TOKEN_TTL = timedelta(minutes=env.int("MEMBER_TOKEN_TTL_MINUTES", default=15))
# Live tokens a member may hold (issuing one more revokes the oldest), and how often tokens may be issued, per
# member and per API key (counted in the cache: set CACHE_URL to Redis so that all processes share the count).
MEMBER_TOKENS_MAX_LIVE = env.int("MEMBER_TOKENS_MAX_LIVE", default=5)
MEMBER_TOKEN_RATE_PER_MEMBER = env("MEMBER_TOKEN_RATE_PER_MEMBER", default="30/hour")
MEMBER_TOKEN_RATE_PER_KEY = env("MEMBER_TOKEN_RATE_PER_KEY", default="6000/hour")
# How long a signed link to the member's page works (e-mails carry it); revocable per member.
MEMBER_PAGE_LINK_TTL = timedelta(days=env.int("MEMBER_PAGE_LINK_TTL_DAYS", default=30))
# The shop's sign-up page with a member's referral code, shown on the member's page to share, e.g.
# "https://shop.example/join?ref={code}"; empty: the page shows the code only.
REFERRAL_LINK_URL = env("REFERRAL_LINK_URL", default="")
# How long an API key lookup may be served from this process's memory (revocation takes effect within it).
API_KEY_CACHE_SECONDS = env.int("API_KEY_CACHE_SECONDS", default=5)
# The largest request body the API reads (JSON); larger ones are refused with 413 before they are read whole.
API_MAX_BODY_BYTES = env.int("API_MAX_BODY_BYTES", default=256 * 1024)
# How long a write waits for a concurrent request with the same Idempotency-Key (a client's retry while its first
# try still runs) before answering 409 idempotency_in_progress with Retry-After; the first one's answer is
# replayed when it finishes within this time.
IDEMPOTENCY_WAIT_SECONDS = env.float("IDEMPOTENCY_WAIT_SECONDS", default=5)
# Days a write's stored answer is kept for its Idempotency-Key to replay (core.tasks.purge_idempotency_records, daily);
# 0 keeps them for good. A write that posts to the ledger under its key never posts twice, whatever this says.
IDEMPOTENCY_RETENTION_DAYS = env.int("IDEMPOTENCY_RETENTION_DAYS", default=30)
# How long a process keeps program settings, tiers and category multipliers before reading them again.
SETTINGS_CACHE_SECONDS = env.int("SETTINGS_CACHE_SECONDS", default=5)
# `make bench` mounts GET /bench/floor, a `SELECT 1` through the API's whole stack (config/floor.py); off elsewhere.
BENCH_FLOOR_VIEW = env.bool("BENCH_FLOOR_VIEW", default=False)
# Database connections the expiry job uses at once on large runs (disjoint member batches).
SETTLE_WORKERS = env.int("SETTLE_WORKERS", default=2)
# Referral code lookups, attaches and sign-ups with a code: per end user, and per channel whatever the address.
REFERRAL_CODE_RATE = env("REFERRAL_CODE_RATE", default="30/hour")
REFERRAL_CODE_CHANNEL_RATE = env("REFERRAL_CODE_CHANNEL_RATE", default="1000/hour")

# --- Celery -------------------------------------------------------------------------------------
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="")
# Without a broker, tasks run in-process; `make run` (local settings) and production always name one.
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TASK_ACKS_LATE = False
CELERY_RESULT_BACKEND = None

# --- Notifications --------------------------------------------------------------------------------
# E-mail: EMAIL_URL, e.g. smtp+tls://user:password@smtp.example.com:587 (django-environ); the console by default.
vars().update(env.email_url_config(env.str("EMAIL_URL", default="") or "consolemail://"))
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Loyalty <loyalty@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Delivery of the outbox: tries per message, then dead-lettered; the wait doubles after each failed try.
NOTIFICATION_MAX_ATTEMPTS = env.int("NOTIFICATION_MAX_ATTEMPTS", default=6)
NOTIFICATION_RETRY_BASE_SECONDS = env.int("NOTIFICATION_RETRY_BASE_SECONDS", default=60)
NOTIFICATION_RETRY_MAX_SECONDS = env.int("NOTIFICATION_RETRY_MAX_SECONDS", default=6 * 3600)
WEBHOOK_TIMEOUT_SECONDS = env.float("WEBHOOK_TIMEOUT_SECONDS", default=10)
# Ask a worker to deliver right after the commit that recorded a message (the periodic job sends it otherwise).
NOTIFICATIONS_ENQUEUE_ON_COMMIT = env.bool("NOTIFICATIONS_ENQUEUE_ON_COMMIT", default=True)

# --- Operations: JSON logs with request ids, health endpoints, Prometheus metrics (README: Operations) ---------
# Self-contained: the apps and middleware it needs are added here, not in the lists above.
from config.logs import logging_config  # noqa: E402

LOGGING = logging_config(level=env("LOG_LEVEL", default="INFO"), json=env.bool("LOG_JSON", default=True))
CELERY_WORKER_HIJACK_ROOT_LOGGER = False  # a worker logs through LOGGING too (JSON, with the request id)
INSTALLED_APPS += ["health_check", "django_prometheus"]
MIDDLEWARE = ["django_prometheus.middleware.PrometheusBeforeMiddleware", "config.logs.RequestIdMiddleware",
              *MIDDLEWARE, "django_prometheus.middleware.PrometheusAfterMiddleware"]
# Readiness (/health/ready) fails when beat ran no periodic task for this long, or a due job waits longer.
HEALTH_BEAT_MAX_AGE_SECONDS = env.int("HEALTH_BEAT_MAX_AGE_SECONDS", default=5 * 60)
HEALTH_OUTBOX_MAX_AGE_SECONDS = env.int("HEALTH_OUTBOX_MAX_AGE_SECONDS", default=15 * 60)
HEALTH_LOTS_MAX_AGE_SECONDS = env.int("HEALTH_LOTS_MAX_AGE_SECONDS", default=60 * 60)
# /metrics: public (to the network the process listens on), or only to staff and to `Authorization: Bearer
# <METRICS_TOKEN>` (production's default). A worker serves its own job counters on WORKER_METRICS_PORT if set.
METRICS_PUBLIC = env.bool("METRICS_PUBLIC", default=True)
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
WORKER_METRICS_PORT = env.int("WORKER_METRICS_PORT", default=0)
