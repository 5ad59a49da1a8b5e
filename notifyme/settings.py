"""Settings, all from the environment (see .env.example).

Secure by default: these are production settings unless `DEBUG=1` is set (`make run`, the test
suite and `.env.example` set it). Production refuses to start with a development secret, without
encryption keys or with the dev tools on, so a deployment that forgets a setting fails loudly
instead of running with insecure defaults. With `DEBUG=1` every value has a local default
(SQLite, Redis on localhost, development secrets) so a first run needs no setup.
"""

from __future__ import annotations

import os
from importlib.util import find_spec
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from notifyme.core.sentry import sentry_setup

BASE_DIR = Path(__file__).resolve().parent.parent


def _load_dotenv(path: Path) -> None:
    """Read KEY=VALUE lines from .env without overriding the real environment."""
    if not path.is_file():
        return
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            os.environ.setdefault(key.strip(), value.strip())


_load_dotenv(BASE_DIR / ".env")


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


_DEV_SECRET_KEY = "dev-only-insecure-secret-key-change-me-0123456789abcdef"  # noqa: S105 (development only; refused unless DEBUG=1)
# A fixed development Fernet key so a first run encrypts with no setup; never in production.
_DEV_ENCRYPTION_KEY = "ZGV2LW9ubHktbm90aWZ5bWUtZW5jcnlwdGlvbi1rZXk="
_DEV_SHOPIFY_SECRET = "dev-shopify-api-secret-at-least-32-bytes-long"  # noqa: S105

# Off unless explicitly on: forgetting DEBUG must never expose the dev tools or dev secrets.
DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env("SECRET_KEY", _DEV_SECRET_KEY if DEBUG else "")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver" if DEBUG else "")

SHOPIFY_API_KEY = env("SHOPIFY_API_KEY", "notifyme-dev-client-id" if DEBUG else "")
SHOPIFY_API_SECRET = env("SHOPIFY_API_SECRET", _DEV_SHOPIFY_SECRET if DEBUG else "")
# Secrets accepted during a Shopify secret rotation (ID tokens and proxy signatures).
SHOPIFY_API_SECRET_OLD = env("SHOPIFY_API_SECRET_OLD")
# How old a signed app-proxy request may be before it is treated as a replay.
SHOPIFY_PROXY_MAX_AGE_SECONDS = int(env("SHOPIFY_PROXY_MAX_AGE_SECONDS", "90"))
# Where the storefront reaches the app through Shopify's app proxy (prefix + subpath of the
# app's proxy configuration): links put in alerts are built on it.
SHOPIFY_APP_PROXY_PATH = "/" + env("SHOPIFY_APP_PROXY_PATH", "/apps/notifyme").strip("/")
# Storefront subscribe rate limits (fixed windows in Redis): per client IP, per contact per shop.
SUBSCRIBE_RATE_PER_IP = int(env("SUBSCRIBE_RATE_PER_IP", "10"))
SUBSCRIBE_RATE_PER_IP_WINDOW_SECONDS = int(env("SUBSCRIBE_RATE_PER_IP_WINDOW_SECONDS", "60"))
# How many trailing X-Forwarded-For entries our own proxies appended: 1 = Shopify's app proxy
# connects to the app directly (it appends the shopper's address); add one per load balancer
# or reverse proxy of ours in between that appends its peer. The entry that many from the
# right is the client address; what the client wrote itself is to its left and never trusted.
NOTIFYME_TRUSTED_PROXY_HOPS = int(env("NOTIFYME_TRUSTED_PROXY_HOPS", "1"))
SUBSCRIBE_RATE_PER_CONTACT = int(env("SUBSCRIBE_RATE_PER_CONTACT", "5"))
SUBSCRIBE_RATE_PER_CONTACT_WINDOW_SECONDS = int(env("SUBSCRIBE_RATE_PER_CONTACT_WINDOW", "3600"))

NOTIFYME_ENCRYPTION_KEYS = env_list(
    "NOTIFYME_ENCRYPTION_KEYS", _DEV_ENCRYPTION_KEY if DEBUG else ""
)

# Shopify's Admin API and OAuth endpoints: a template with `{shop}` (the shop's myshopify
# domain); `/admin/oauth/access_token` and `/admin/api/<version>/graphql.json` are appended. The
# local stand-in (sandboxes/shopify) is reached by pointing this at it.
SHOPIFY_ADMIN_URL = env("SHOPIFY_ADMIN_URL", "https://{shop}").rstrip("/")
SHOPIFY_TIMEOUT_SECONDS = float(env("SHOPIFY_TIMEOUT_SECONDS", "10"))
# The app's public base URL (`application_url` of shopify.app.toml, e.g. https://app.example.com):
# the OAuth `redirect_uri` is built on it. Empty: taken from the request's own host.
SHOPIFY_APP_URL = env("SHOPIFY_APP_URL").rstrip("/")

KLAVIYO_API_URL = env("KLAVIYO_API_URL", "https://a.klaviyo.com").rstrip("/")
KLAVIYO_REVISION = "2026-07-15"
KLAVIYO_TIMEOUT_SECONDS = float(env("KLAVIYO_TIMEOUT_SECONDS", "10"))

REDIS_URL = env("REDIS_URL", "redis://localhost:6379/0")
# Redis through Sentinel: `host:port` of each sentinel; the primary is asked of them by
# REDIS_SENTINEL_MASTER's name, while REDIS_URL still gives the db number and the password.
# (RQ does not run on Redis Cluster: one primary, replicas for failover only.)
REDIS_SENTINELS = [
    (host, int(port)) for host, _, port in
    (entry.rpartition(":") for entry in env_list("REDIS_SENTINELS"))
]
REDIS_SENTINEL_MASTER = env("REDIS_SENTINEL_MASTER", "mymaster")

# Local stand-ins for Shopify (proxy signer, admin frame) and the demo; never in production.
NOTIFYME_DEV_TOOLS = env_bool("NOTIFYME_DEV_TOOLS", DEBUG)

if not DEBUG:
    missing = [
        name
        for name, value in {
            "SECRET_KEY": SECRET_KEY,
            "ALLOWED_HOSTS": ALLOWED_HOSTS,
            "SHOPIFY_API_KEY": SHOPIFY_API_KEY,
            "SHOPIFY_API_SECRET": SHOPIFY_API_SECRET,
            "NOTIFYME_ENCRYPTION_KEYS": NOTIFYME_ENCRYPTION_KEYS,
        }.items()
        if not value
    ]
    if missing:
        raise ImproperlyConfigured(f"Production settings need: {', '.join(missing)}")
    if SECRET_KEY == _DEV_SECRET_KEY or _DEV_ENCRYPTION_KEY in NOTIFYME_ENCRYPTION_KEYS:
        raise ImproperlyConfigured("Development secrets must not be used without DEBUG=1")
    if NOTIFYME_DEV_TOOLS:
        raise ImproperlyConfigured("NOTIFYME_DEV_TOOLS must be off in production")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_rq",
    "notifyme.core",
    "notifyme.shops",
    "notifyme.catalog",
    "notifyme.subscriptions",
    "notifyme.delivery",
    "notifyme.sync",
    "notifyme.restocks",
    "notifyme.revenue",
    "notifyme.privacy",
    "notifyme.dashboard",
    "notifyme.webhooks",
    "notifyme.support",
    "notifyme.waitlists",
    "integrations.klaviyo",
]
if NOTIFYME_DEV_TOOLS:
    # Development only: the dev tools (`manage.py demo`, /dev/) and the local stand-ins
    # (`manage.py klaviyo_sandbox`, `manage.py shopify_standin`; sandboxes/ is not in the
    # production package).
    INSTALLED_APPS += ["notifyme.dev"]
    if find_spec("sandboxes") is not None:
        INSTALLED_APPS += ["sandboxes.klaviyo", "sandboxes.shopify"]

MIDDLEWARE = [
    # First: every log line of the request (Django's own included) carries its id.
    "notifyme.core.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Static files straight from the web process (no separate file server): compressed, with
    # far-future caching for the hashed names `collectstatic` writes (Procfile `release`).
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "notifyme.urls"
WSGI_APPLICATION = "notifyme.wsgi.application"

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

DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"), conn_max_age=60
    )
}
# Behind PgBouncer in transaction mode consecutive transactions may run on different server
# connections, so a server-side cursor (QuerySet.iterator(), the CSV export) cannot outlive its
# transaction: Django then fetches in chunks on the client instead.
if env_bool("DATABASE_TRANSACTION_POOLING", False):
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

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
STATICFILES_DIRS = [
    BASE_DIR / "static",
    # The storefront block's script and stylesheet, served as-is to the demo storefront.
    ("notifyme-theme", BASE_DIR / "extensions" / "notifyme-theme" / "assets"),
]
STATIC_ROOT = Path(env("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
# Production serves what `collectstatic` wrote, under content-hashed names (a new deploy never
# meets a browser's stale copy) and precompressed; DEBUG=1 serves the sources as they are.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": (
        "django.contrib.staticfiles.storage.StaticFilesStorage" if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage")},
}

# Storefront bodies are tiny; anything bigger is refused with 413 before it is parsed.
DATA_UPLOAD_MAX_MEMORY_SIZE = int(env("DATA_UPLOAD_MAX_MEMORY_SIZE", str(16 * 1024)))

def _rq_connection() -> dict[str, Any]:
    # A connect timeout so a web request's on-commit nudge fails fast when Redis is unreachable
    # (no read timeout: workers block on BLPOP for minutes by design).
    if not REDIS_SENTINELS:
        # (django-rq ignores client kwargs for URL configs, so it rides in the URL's query.)
        return {"URL": REDIS_URL + ("&" if "?" in REDIS_URL else "?")
                + "socket_connect_timeout=1"}
    url = urlsplit(REDIS_URL)
    return {"SENTINELS": REDIS_SENTINELS, "MASTER_NAME": REDIS_SENTINEL_MASTER,
            "DB": int(url.path.strip("/") or 0), "PASSWORD": url.password,
            "USERNAME": url.username, "CONNECTION_KWARGS": {"socket_connect_timeout": 1},
            "SENTINEL_KWARGS": {"socket_connect_timeout": 1}}


RQ_QUEUES = {name: {**_rq_connection(), "DEFAULT_TIMEOUT": 120}
             for name in ("default", "sync", "bulk")}
RQ_SHOW_ADMIN_LINK = True
# Every queue's worker: rq's SimpleWorker (no fork per job) with the cyclic GC tuned for
# batch jobs (notifyme/delivery/worker.py).
RQ = {"WORKER_CLASS": "notifyme.delivery.worker.Worker"}
# Workers' scheduling priority (nice; 0 = unchanged): on cores shared with the web processes a
# request goes before a job (notifyme/delivery/worker.py).
WORKER_NICE = int(env("WORKER_NICE", "10"))

# Nothing may frame us except the embedded app views, which are exempt from X-Frame-Options and
# name the Shopify admin in their own `Content-Security-Policy: frame-ancestors`.
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = int(env("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    # The embedded admin loads us in Shopify's frame: cookies must be cross-site capable.
    SESSION_COOKIE_SAMESITE = "None"
    CSRF_COOKIE_SAMESITE = "None"

# Every handler masks secrets (notifyme/core/logging.py), the development server's request lines
# (`django.server`, which Django otherwise logs through a handler of its own) included: cancel
# tokens, proxy signatures and ID tokens travel in URLs. gunicorn.conf.py does the same for
# gunicorn's access log. Every line carries the request id, RQ job id and shop
# (notifyme/core/logcontext.py). LOG_FORMAT: `json` (one object per line, the production
# default) or `text` (readable, the DEBUG=1 default for `make run`); see logformat.py.
LOG_FORMAT = env("LOG_FORMAT", "text" if DEBUG else "json").lower()
if LOG_FORMAT not in {"json", "text"}:
    raise ImproperlyConfigured("LOG_FORMAT must be json or text")
_LOG_FILTERS = ["log_context", "redact_secrets"]
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "log_context": {"()": "notifyme.core.logcontext.ContextFilter"},
        "redact_secrets": {"()": "notifyme.core.logging.RedactSecretsFilter"},
    },
    "formatters": {
        "json": {"()": "notifyme.core.logformat.JsonFormatter"},
        "text": {"()": "notifyme.core.logformat.TextFormatter"},
        "django.server": {
            "()": "django.utils.log.ServerFormatter",
            "format": "[{server_time}] {message}",
            "style": "{",
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": _LOG_FILTERS,
        },
        "django.server": {
            "class": "logging.StreamHandler",
            "formatter": "json" if LOG_FORMAT == "json" else "django.server",
            "filters": _LOG_FILTERS,
        },
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "django.server": {"handlers": ["django.server"], "level": "INFO", "propagate": False},
    },
}

# `/support/metrics` for a Prometheus scraper: `Authorization: Bearer <METRICS_TOKEN>` (staff
# sessions work without it); empty = staff only.
METRICS_TOKEN = env("METRICS_TOKEN")
if METRICS_TOKEN and len(METRICS_TOKEN) < 24 and not DEBUG:
    raise ImproperlyConfigured("METRICS_TOKEN must be at least 24 characters (a random value)")

# Optional error reporting (notifyme/core/sentry.py): on when SENTRY_DSN is set, with the log
# redaction in before_send; needs the `sentry` extra.
SENTRY_DSN = env("SENTRY_DSN")
sentry_setup(dsn=SENTRY_DSN, environment=env("SENTRY_ENVIRONMENT",
                                             "development" if DEBUG else "production"),
             release=env("SENTRY_RELEASE"),
             traces_sample_rate=float(env("SENTRY_TRACES_SAMPLE_RATE", "0")))
