"""Django settings, read from the environment (and an optional `.env`) via django-environ.

Defaults suit a laptop: SQLite file, DEBUG on, the offline Stripe sandbox.
Production sets DEBUG=False, a real SECRET_KEY, ALLOWED_HOSTS, DATABASE_URL and
REDIS_URL; `python manage.py check --deploy` is then clean.
"""

import json
import os
import sys
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured

from core.deploy import stripe_settings_problems

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# Local state: SQLite file, uploads, collected static, the demo's sandbox state,
# broker folders and logs. VAR_DIR moves it all (the demo's test uses a temp dir).
VAR_DIR = Path(env("VAR_DIR", default=str(BASE_DIR / "var"))).resolve()
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env.bool("DEBUG", default=True)
# A fixed development key only while DEBUG is on; production must provide one.
SECRET_KEY = env("SECRET_KEY", default="dev-only-insecure-key" if DEBUG else environ.Env.NOTSET)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "knox",
    "axes",
    "csp",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "accounts",
    "shop",
    "payments",
    "notifications",
    "ops",
]

MIDDLEWARE = [
    # First: every later step (and its log lines) runs with the request's id.
    "core.request_context.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "core.middleware.RequestSizeLimitMiddleware",
    "config.csp.StripeCSPMiddleware",
    # Last, as django-axes asks: it answers a locked-out login with its lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

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
                "shop.context_processors.shop",
                "notifications.context_processors.unread",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several processes (web, worker, beat) share the file in the demo: wait for locks.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )
    # Tests run the web server and a Celery worker in threads: a file, not shared memory.
    # One file per test run, so parallel runs on one machine do not collide.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-{os.getpid()}.sqlite3")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "accounts:profile"
LOGOUT_REDIRECT_URL = "shop:product_list"

# django-axes first: it refuses a locked-out login before any password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # WhiteNoise expects it, even before collectstatic
STATICFILES_DIRS = [BASE_DIR / "static"]


def _media_storage(backend: str, options: str) -> dict:
    """STORAGES["default"] from MEDIA_STORAGE_BACKEND and MEDIA_STORAGE_OPTIONS (a JSON
    object of the backend's options, e.g. a bucket's name); refused here, at start-up,
    when the options are not a JSON object, rather than at the first upload."""
    try:
        parsed = json.loads(options or "{}")
    except ValueError as exc:
        raise ImproperlyConfigured(f"MEDIA_STORAGE_OPTIONS is not valid JSON: {exc}") from exc
    if not isinstance(parsed, dict):
        raise ImproperlyConfigured("MEDIA_STORAGE_OPTIONS must be a JSON object.")
    return {"BACKEND": backend, "OPTIONS": parsed}


# Product photos and shop logos: files under MEDIA_ROOT ($VAR_DIR/media) unless
# another backend is named (django-storages' S3Storage, …). Without options the file
# system storage reads MEDIA_ROOT and MEDIA_URL (so tests can move them).
STORAGES = {
    "default": _media_storage(
        env("MEDIA_STORAGE_BACKEND", default="django.core.files.storage.FileSystemStorage"),
        env("MEDIA_STORAGE_OPTIONS", default=""),
    ),
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
MEDIA_ROOT = VAR_DIR / "media"
# Product photos and shop logos. Served by Django only with DEBUG on (the demo);
# in production by the proxy, or from a bucket/CDN: then MEDIA_URL is its address.
MEDIA_URL = env("MEDIA_URL", default="media/")
# The media check (shop.W001, shop/checks.py) warns when production has local files
# at a relative MEDIA_URL; where the proxy serves them, silence it here.
SILENCED_SYSTEM_CHECKS = env.list("SILENCED_SYSTEM_CHECKS", default=[])

# --- Security: strict whenever DEBUG is off --------------------------------
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# Uploads: a request body above this is refused (413) before it is read; forms check
# each file's own limit (identity documents: Stripe's 10 MB) and its content.
MAX_REQUEST_BYTES = env.int("MAX_REQUEST_BYTES", default=21 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024  # larger uploads spool to a temp file

# --- Proxies and client addresses ---------------------------------------------
# How many proxies in front of the app append to X-Forwarded-For. 0: the header is
# ignored and REMOTE_ADDR is the client (else any client could claim a new address per
# try and dodge every per-address limit). Behind one proxy (nginx, a load balancer): 1.
NUM_PROXIES = env.int("NUM_PROXIES", default=0)


# --- Cache: the rate limits' counters ------------------------------------------------
# Shared by every web process: Redis when REDIS_URL is set (database 1, apart from the
# broker's), else this process's memory (the embedded demo: one web process).
def _redis_cache_url(broker_url: str) -> str:
    from urllib.parse import urlsplit, urlunsplit

    return urlunsplit(urlsplit(broker_url)._replace(path="/1"))


_CACHE_URL = env("CACHE_URL", default="") or (
    _redis_cache_url(env("REDIS_URL", default="")) if env("REDIS_URL", default="") else ""
)
CACHES = {
    "default": {
        # Django's, but a Redis outage is a cache miss, not a 500 (core/cache.py).
        "BACKEND": "core.cache.ResilientRedisCache",
        "LOCATION": _CACHE_URL,
        # Give up on an unreachable Redis in a second: the page goes on without it.
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        # Test runs share the server with a demo or a second run: keys of their own.
        "KEY_PREFIX": f"test-{os.getpid()}" if "pytest" in sys.modules else "shop",
    }
    if _CACHE_URL.startswith(("redis://", "rediss://"))
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
}

# --- Login lockout (django-axes) -----------------------------------------------------
# Web, admin and API logins all go through `authenticate()`, so one counter covers
# them: after AXES_FAILURE_LIMIT wrong passwords from one address, that address is
# locked out for AXES_COOLOFF_MINUTES. Attempts are rows in the database, shared by
# every web process and visible to staff in admin.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.int("AXES_COOLOFF_MINUTES", default=15) / 60  # hours
AXES_LOCKOUT_PARAMETERS = ["ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_CALLABLE = "accounts.lockout.username_of"
AXES_CLIENT_IP_CALLABLE = "core.client_ip.client_ip"
AXES_LOCKOUT_CALLABLE = "accounts.lockout.lockout_response"
AXES_VERBOSE = False

# --- Content-Security-Policy (django-csp) --------------------------------------------
# MEDIA_URL's origin when it is another host (a CDN), for img-src below.
_MEDIA_ORIGIN = "{0.scheme}://{0.netloc}".format(urlsplit(MEDIA_URL)) if "://" in MEDIA_URL else ""
# Our pages run only our own scripts; Stripe.js's origins (real Stripe's, or the
# sandbox's) are added per request from the current settings (config/csp.py).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        # style="…" attributes (Django admin uses a few) cannot run script.
        "style-src-attr": ["'unsafe-inline'"],
        # Photos from another host (MEDIA_URL on a CDN) are images of the shop's own.
        "img-src": ["'self'", "data:", *([_MEDIA_ORIGIN] if _MEDIA_ORIGIN else [])],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "frame-src": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    },
}

# --- Celery ----------------------------------------------------------------
# The broker is decided here and only here: CELERY_BROKER_URL if set, else Redis at
# REDIS_URL, else an embedded broker that needs no server: kombu's `filesystem://`
# transport, one message file per task under VAR_DIR/celery/, shared by the web
# server, the worker and beat on this machine (the demo without Redis; `make demo`
# blanks REDIS_URL for its processes when Redis does not answer). Production sets
# REDIS_URL. Under pytest the fallback is the in-process `memory://` broker instead,
# so test runs never leave tasks in the folders a demo worker would pick up.
REDIS_URL = env("REDIS_URL", default="")
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="") or REDIS_URL
if not CELERY_BROKER_URL:
    # (The host name only keeps kombu from warning that none was given.)
    CELERY_BROKER_URL = "memory://" if "pytest" in sys.modules else "filesystem://localhost/"
if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_FOLDER = VAR_DIR / "celery"
    for _folder in ("messages", "processed", "control"):
        (CELERY_BROKER_FOLDER / _folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # Producers write and the worker reads the same folder: one shared queue.
        "data_folder_in": str(CELERY_BROKER_FOLDER / "messages"),
        "data_folder_out": str(CELERY_BROKER_FOLDER / "messages"),
        "processed_folder": str(CELERY_BROKER_FOLDER / "processed"),
        "control_folder": str(CELERY_BROKER_FOLDER / "control"),
        # The worker polls the folder; 1 s (kombu's default) would slow every webhook.
        "polling_interval": 0.1,
    }
    # Remote control (inspect, broadcast) would fill the folder with messages for
    # workers long gone; the demo does not need it.
    CELERY_WORKER_ENABLE_REMOTE_CONTROL = False
    # The stock transport lets a worker read a half-written message; ours renames into place.
    CELERY_BROKER_TRANSPORT = "config.broker.Transport"
elif CELERY_BROKER_URL == "memory://":
    # The in-process broker of the tests: kombu polls it once a second by default,
    # which was most of an integration test's wait on SQLite.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"polling_interval": 0.02}
elif CELERY_BROKER_URL.startswith("redis://"):
    # kombu's, but one Redis client per channel instead of one per published message.
    CELERY_BROKER_TRANSPORT = "config.redis_transport.Transport"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # A message a killed worker held is handed out again after this; above the longest
        # task (the balances sweep, a few minutes) so a running task is never handed out
        # twice. Retries wait in the database, not in countdowns Redis would re-deliver
        # every timeout, and the outbox dispatcher recovers lost work well before this.
        "visibility_timeout": 600,
        # An unreachable host fails a publish in 2 s, not after the kernel's ~2 min of SYNs.
        "socket_connect_timeout": 2,
        # A hung Redis (accepts, never answers) blocked `.delay()` forever without this;
        # above the worker's 1 s BRPOP wait, and Redis answers our commands in microseconds.
        "socket_timeout": 2,
    }
# A worker outlives any broker outage: Celery's default gives up after 100 tries and exits.
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
# A worker started while the broker is down waits for it instead of exiting.
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Connecting gives up after 2 s (the default 4): a web request must not wait for the broker.
CELERY_BROKER_CONNECTION_TIMEOUT = 2.0
# One quick retry, then `.delay()` raises: the outbox logs it and the dispatcher re-enqueues.
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0.1,
    "interval_step": 0,
    "interval_max": 0.1,
}
# Tasks finish without the broker; cancelling them on a broker blip would throw away work
# (a half-done sweep) that the outbox row and idempotency keys make safe to finish.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
# Nothing reads task results: tasks change the database and the pages read it.
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", default=None)
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
# A task is acknowledged only after it ran, and a worker killed mid-task hands it back.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Celery's Django fix-up closes the database connection before and after every task
# unless told to reuse it; a new PostgreSQL connection per task cost more than the task
# (bench/README.md). Reused for this many tasks, then opened afresh; 0 = per task.
CELERY_DB_REUSE_MAX = env.int("CELERY_DB_REUSE_MAX", default=100)
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TIMEZONE = TIME_ZONE
# Stored webhook events are enqueued in batches gathered over this window (0: one
# message per event, at once); see payments/webhooks/outbox.py.
WEBHOOK_ENQUEUE_WINDOW_MS = env.int("WEBHOOK_ENQUEUE_WINDOW_MS", default=50)
WEBHOOK_ENQUEUE_BATCH = env.int("WEBHOOK_ENQUEUE_BATCH", default=50)

# --- Stripe ----------------------------------------------------------------
# The defaults are the offline sandbox's published values: with DEBUG off they are
# refused (below), since anyone could sign webhooks with them.
STRIPE_SECRET_KEY = env("STRIPE_SECRET_KEY", default="sk_test_sandbox" if DEBUG else "")
STRIPE_PUBLISHABLE_KEY = env("STRIPE_PUBLISHABLE_KEY", default="pk_test_sandbox" if DEBUG else "")
STRIPE_WEBHOOK_SECRET = env(
    "STRIPE_WEBHOOK_SECRET", default="whsec_sandbox_platform" if DEBUG else ""
)
STRIPE_CONNECT_WEBHOOK_SECRET = env(
    "STRIPE_CONNECT_WEBHOOK_SECRET", default="whsec_sandbox_connect" if DEBUG else ""
)
if not DEBUG and (_problems := stripe_settings_problems(vars())):
    raise ImproperlyConfigured(
        "Refusing to start with DEBUG=False: "
        + " ".join(_problems)
        + " Set the real values from the Stripe dashboard (README, Production)."
    )
# Unset means real Stripe; the demo and the tests point it at the offline sandbox.
STRIPE_API_BASE = env("STRIPE_API_BASE", default="")
STRIPE_JS_URL = env(
    "STRIPE_JS_URL",
    default=f"{STRIPE_API_BASE}/v3/" if STRIPE_API_BASE else "https://js.stripe.com/v3/",
)
STRIPE_API_VERSION = env("STRIPE_API_VERSION", default="2026-10-28.endive")
STRIPE_MAX_NETWORK_RETRIES = env.int("STRIPE_MAX_NETWORK_RETRIES", default=2)
STRIPE_RATE_LIMIT_PER_SEC = env.int("STRIPE_RATE_LIMIT_PER_SEC", default=20)
CONNECT_ONBOARDING = env("CONNECT_ONBOARDING", default="hosted")
# Page loads that may call Stripe: an intent is re-read at most once per payment in
# this many seconds, and each user gets this many such loads a minute
# (payments/services/stripe_reads.py). Stripe allows 25 calls/s in test mode, 100 live.
STRIPE_SYNC_MIN_SECONDS = env.int("STRIPE_SYNC_MIN_SECONDS", default=5)
STRIPE_READS_PER_MINUTE = env.int("STRIPE_READS_PER_MINUTE", default=30)
# Our idempotency keys come from our rows ("payment-7-capture"): two installs sharing
# one Stripe account would get each other's answers. The gateway puts this prefix on
# every key. Unset: a hash of the database's engine, host, port and name (so every
# process must see the same DATABASE_URL; set it explicitly in production). "": none.
STRIPE_IDEMPOTENCY_PREFIX = env("STRIPE_IDEMPOTENCY_PREFIX", default=None)

# --- Marketplace policy ------------------------------------------------------
PLATFORM_FEE_BPS = env.int("PLATFORM_FEE_BPS", default=1000)
PLATFORM_FEE_FIXED = env.int("PLATFORM_FEE_FIXED", default=30)
DEFAULT_CURRENCY = env("DEFAULT_CURRENCY", default="usd").lower()
# The currencies sellers may price products in (the product forms' and API's choices).
SHOP_CURRENCIES = [
    code.lower() for code in env.list("SHOP_CURRENCIES", default=["usd", "eur", "gbp", "jpy"])
]
# A product photo or shop logo upload larger than this is refused before it is decoded.
PRODUCT_PHOTO_MAX_BYTES = env.int("PRODUCT_PHOTO_MAX_BYTES", default=5 * 1024 * 1024)

# --- API -------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # Token first: its WWW-Authenticate header makes a missing login a 401, not a 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "knox.auth.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "shop.api.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    "EXCEPTION_HANDLER": "shop.api.errors.api_exception_handler",
    # Throttles key anonymous clients by address: trust X-Forwarded-For as far as this.
    "NUM_PROXIES": NUM_PROXIES,
    # Write endpoints name a scope; shop.api.throttling reads these rates on every request.
    "DEFAULT_THROTTLE_RATES": {
        "auth": env("API_THROTTLE_AUTH", default="10/min"),
        "orders": env("API_THROTTLE_ORDERS", default="30/min"),
        "fulfil": env("API_THROTTLE_FULFIL", default="60/min"),
        "onboarding": env("API_THROTTLE_ONBOARDING", default="10/min"),
        "refunds": env("API_THROTTLE_REFUNDS", default="30/min"),
        # Sellers' product and photo changes.
        "listings": env("API_THROTTLE_LISTINGS", default="120/min"),
        # Reads that may ask Stripe for fresh state (order detail, payment status).
        "stripe_reads": f"{STRIPE_READS_PER_MINUTE}/min",
    },
}
# API tokens (django-rest-knox): stored hashed, expire, revoked by logging out.
REST_KNOX = {
    "TOKEN_TTL": timedelta(hours=env.int("API_TOKEN_TTL_HOURS", default=10)),
    "AUTO_REFRESH": True,
    "AUTH_HEADER_PREFIX": "Token",
}
SPECTACULAR_SETTINGS = {
    # Swagger UI's files come from the sidecar package, not a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "TITLE": "Marketplace shop API",
    "DESCRIPTION": (
        "Buyers, contractors and staff: products, orders, payouts and refunds. "
        "Money is integer minor units plus a lowercase currency, with a `*_display` string. "
        'Every error is `{"error": {"code", "message", "fields"}}`.'
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "OrderStatusEnum": "shop.models.Order.Status",
        "PaymentStatusEnum": "payments.models.Payment.Status",
    },
}

# LOG_FORMAT=json: one JSON object per line (request lines from shop.access, task lines
# from Celery), each with the request id that started the work; text by default.
LOG_FORMAT = env("LOG_FORMAT", default="text")
LOG_LEVEL = env("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "core.request_context.RequestIdFilter"}},
    "formatters": {
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": ["asctime", "levelname", "name", "message", "request_id"],
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_id"],
            "formatter": "json" if LOG_FORMAT == "json" else "text",
        }
    },
    "loggers": {
        # django-axes logs every login at INFO; failures and lockouts are WARNING.
        "axes": {"level": "WARNING"},
        # One line per request (core/request_context.py), at LOG_LEVEL unless said.
        "shop.access": {"level": env("ACCESS_LOG_LEVEL", default=LOG_LEVEL)},
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
}
# Delivered (2xx) webhooks are rows already; their access lines are off unless asked.
ACCESS_LOG_WEBHOOKS = env.bool("ACCESS_LOG_WEBHOOKS", default=False)
# The worker logs through the LOGGING above (JSON included) rather than its own format.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# --- Error tracking ------------------------------------------------------------------
# SENTRY_DSN on: errors of web and worker go to Sentry, scrubbed (config/sentry.py).
SENTRY_DSN = env("SENTRY_DSN", default="")
if SENTRY_DSN:
    from config.sentry import sentry_init

    sentry_init(
        dsn=SENTRY_DSN,
        environment=env("SENTRY_ENVIRONMENT", default="development" if DEBUG else "production"),
        release=env("SENTRY_RELEASE", default=""),
    )

# payments_health and /metrics: work undone after this long is overdue, and an
# authorisation this close to Stripe's capture_before is about to expire.
HEALTH_OVERDUE_SECONDS = env.int("HEALTH_OVERDUE_SECONDS", default=120)
HEALTH_EXPIRY_WARNING_HOURS = env.int("HEALTH_EXPIRY_WARNING_HOURS", default=24)
# /metrics answers only with `Authorization: Bearer <METRICS_TOKEN>`; unset, it is off.
METRICS_TOKEN = env("METRICS_TOKEN", default="")

# Uncaptured authorisations are canceled after this long (Stripe's limit is 7 days).
AUTHORIZATION_TTL_HOURS = env.int("AUTHORIZATION_TTL_HOURS", default=144)
# A checkout nobody paid (nor tried to) for this long is canceled and its stock freed.
CHECKOUT_ABANDON_MINUTES = env.int("CHECKOUT_ABANDON_MINUTES", default=60)
# A checkout whose card was declined and not tried again for this long is canceled the
# same way, so one decline does not keep the last item from everyone for the hour above.
CHECKOUT_DECLINED_RELEASE_MINUTES = env.int("CHECKOUT_DECLINED_RELEASE_MINUTES", default=10)

# The outbox (core/outbox.py): a row handed to a worker is handed out again when it
# is still to do OUTBOX_LEASE_SECONDS later (its worker died, its message was lost);
# the dispatcher looks for such rows every OUTBOX_DISPATCH_SECONDS. Recovery after a
# fault clears takes at most about the sum of the two.
OUTBOX_LEASE_SECONDS = env.int("OUTBOX_LEASE_SECONDS", default=15)
OUTBOX_DISPATCH_SECONDS = env.float("OUTBOX_DISPATCH_SECONDS", default=5.0)

CELERY_BEAT_SCHEDULE = {
    "dispatch-overdue-work": {
        "task": "payments.tasks.outbox_dispatch_task",
        "schedule": OUTBOX_DISPATCH_SECONDS,
        # A dispatch that waited longer than its interval is superseded by the next.
        "options": {"expires": OUTBOX_DISPATCH_SECONDS},
    },
    "expire-stale-authorisations": {
        "task": "payments.tasks.authorizations_expire_task",
        "schedule": 15 * 60.0,
    },
    "cancel-abandoned-checkouts": {
        "task": "shop.tasks.checkouts_abandon_task",
        "schedule": 5 * 60.0,
    },
    "delete-abandoned-kept-uploads": {
        "task": "accounts.tasks.kept_uploads_sweep_task",
        "schedule": 3600.0,
    },
    "refresh-contractor-balances": {
        "task": "payments.tasks.balances_sweep_task",
        "schedule": env.int("BALANCE_SWEEP_SECONDS", default=3600),
    },
}

# Connect: country of new connected accounts, and how fresh an on-demand balance must be.
CONNECT_COUNTRY = env("CONNECT_COUNTRY", default="US")
BALANCE_REFRESH_MIN_SECONDS = env.int("BALANCE_REFRESH_MIN_SECONDS", default=30)

# Refund policy defaults (staff may override per refund): claw back the contractor's
# share of the transfer, and give back the platform fee on the refunded part.
REFUND_REVERSE_TRANSFER = env.bool("REFUND_REVERSE_TRANSFER", default=True)
REFUND_APPLICATION_FEE = env.bool("REFUND_APPLICATION_FEE", default=True)

# Disputes (README "Disputes"): a lost dispute's amount is taken back from the
# contractor's transfer (`reverse_transfer`) or borne by the platform (`none`);
# Stripe's dispute fee is borne by the platform (`platform`) or debited from the
# contractor (`contractor`).
DISPUTE_RECOVERY = env.str("DISPUTE_RECOVERY", default="reverse_transfer")
DISPUTE_FEE_POLICY = env.str("DISPUTE_FEE_POLICY", default="platform")

# --- Email -------------------------------------------------------------------
# EMAIL_URL: smtp://user:pass@host:587 (or smtp+tls://…) in production. Without it,
# messages are written as files under var/emails/ (one .log file per batch), where
# the demo's reader can open them; tests use Django's in-memory outbox.
# (Three slashes then an absolute path: django-environ drops the first one.)
EMAIL_CONFIG = env.email_url("EMAIL_URL", default=f"filemail:///{VAR_DIR / 'emails'}")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Marketplace <no-reply@marketplace.test>")
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000")
