"""Settings, all from environment variables with safe defaults.

Embedded default (no variables set): SQLite file under ``var/``, in-memory channel layer, Celery tasks run
in-process and the beat schedule is ticked by the ``serve`` command. Production: set ``PRODUCTION=1``,
``SECRET_KEY``, ``DATABASE_URL`` (PostgreSQL), ``REDIS_URL`` and ``ALLOWED_HOSTS``.
"""

import os
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
import django
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def _secret_key() -> str:
    """SECRET_KEY from the environment, else one generated once and kept in var/ (never a fixed string)."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(64))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


PRODUCTION = env_bool("PRODUCTION")
DEBUG = env_bool("DEBUG", False)
SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")
PORT = int(os.environ.get("PORT", "8000"))
# Reverse proxies (comma-separated addresses) whose X-Forwarded-For and X-Forwarded-Proto are believed: uvicorn
# then puts the citizen's address in the request (REMOTE_ADDR, the rate limits' key). A proxy on another host must
# be listed, or every citizen shares its address and one rate-limit bucket. The same variable feeds
# `make serve-prod`. Never "*" while uvicorn is reachable without the proxy: anyone could pick their address.
FORWARDED_ALLOW_IPS = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "oa_platform",
    "faq",
    "broadcasts",
    "broadcasts.personal",
    "oa_platform.collect",
]

MIDDLEWARE = [
    "oa_platform.db_release.DbReleaseMiddleware",  # outermost: its connection back to the pool first
    "oa_platform.nul_bytes.NulByteMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "oa_platform.static_middleware.StaticFilesMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "oa_platform.locale_middleware.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "oa_platform.initial_password.InitialPasswordMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "oa_platform.urls"
WSGI_APPLICATION = "oa_platform.wsgi.application"
ASGI_APPLICATION = "oa_platform.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database  ---
DATABASE_URL = os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'db.sqlite3'}"
if DATABASE_URL.startswith("sqlite"):
    VAR_DIR.mkdir(parents=True, exist_ok=True)
# Places of their own in each web process for the staff console and the admin (paths below): a citizens' burst (a
# form at 8:00, a flood of chat during a storm) never queues an operator's page behind thousands of citizens'
# requests. Used only when HTTP_CONCURRENCY bounds the rest; with a pool, as many more connections of their own.
HTTP_STAFF_CONCURRENCY = int(os.environ.get("HTTP_STAFF_CONCURRENCY", "2"))
HTTP_STAFF_PATHS = ("/staff/", "/admin/")
# Connections of the pool for everything but the staff lane (and by default the bound of HTTP_CONCURRENCY).
DB_POOL_MAX = int(os.environ.get("DB_POOL_MAX", "8"))
# Connections are not kept between requests by default: under ASGI each request may run on another thread, and
# persistent per-thread connections pile up until PostgreSQL refuses new clients. Put PgBouncer in front to pool.
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "0")))}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and a busy timeout let the web server and the dispatcher share the file without "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
elif env_bool("DB_POOL", True):
    # psycopg 3's connection pool, per process. Under ASGI every request runs in its own context, so Django's
    # persistent connections would never be reused; without a pool each request pays a new PostgreSQL backend.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": int(os.environ.get("DB_POOL_MIN", "1")),
        "max_size": DB_POOL_MAX + HTTP_STAFF_CONCURRENCY,  # the staff lane's places have connections of their own
        "timeout": 10,
    }
else:
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# HTTP requests of one server process inside Django at once (oa_platform.asgi_limit); the others wait in the event
# loop. By default DB_POOL_MAX (the pool without the staff lane's connections): more would only wait for a
# connection, each on a thread. 0: no bound.
_pool = DATABASES["default"].get("OPTIONS", {}).get("pool")
HTTP_CONCURRENCY = int(os.environ.get("HTTP_CONCURRENCY", DB_POOL_MAX if _pool else 0))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: cache, channel layer, Celery broker  ---
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL], "capacity": 1500, "expiry": 30},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", REDIS_URL or "memory://")
CELERY_RESULT_BACKEND = None
# Without a broker (embedded default) tasks run in the process that enqueues them.
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 600}
# The periodic schedule lives here; apps add their entries (see broadcasts.schedule).
CELERY_BEAT_SCHEDULE: dict = {}
from broadcasts.schedule import BEAT_SCHEDULE as _BROADCASTS_BEAT  # noqa: E402

CELERY_BEAT_SCHEDULE.update(_BROADCASTS_BEAT)
from oa_platform.webhooks.schedule import BEAT_SCHEDULE as _OUTBOUND_BEAT  # noqa: E402

CELERY_BEAT_SCHEDULE.update(_OUTBOUND_BEAT)
from broadcasts.personal.schedule import BEAT_SCHEDULE as _PERSONAL_BEAT  # noqa: E402

CELERY_BEAT_SCHEDULE.update(_PERSONAL_BEAT)
# Personal notices: the personalisation and rendered text are deleted this many days after sending.
PERSONAL_RETENTION_DAYS = int(os.environ.get("PERSONAL_RETENTION_DAYS", "7"))
# An uploaded recipient list may have at most this many rows (the upload itself is bounded by MAX_UPLOAD_BYTES).
PERSONAL_LIST_MAX_ROWS = int(os.environ.get("PERSONAL_LIST_MAX_ROWS", "1000000"))
from oa_platform.collect.schedule import BEAT_SCHEDULE as _COLLECT_BEAT  # noqa: E402

CELERY_BEAT_SCHEDULE.update(_COLLECT_BEAT)

# --- Auth, i18n, static  ---
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "admin:login"
# Where a login lands when its ?next= is missing or refused (another host): the admin index, not Django's
# /accounts/profile/, which this site does not have.
LOGIN_REDIRECT_URL = "admin:index"

LANGUAGE_CODE = "vi"
LANGUAGES = [("vi", _("Vietnamese")), ("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "oa_platform" / "locale"]
TIME_ZONE = "Asia/Ho_Chi_Minh"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", VAR_DIR / "static"))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise serves from here after collectstatic
STATICFILES_DIRS = [BASE_DIR / "oa_platform" / "static"]
WHITENOISE_USE_FINDERS = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# --- REST API  ---
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["oa_platform.authentication.AccountTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["oa_platform.authentication.HasAccountToken"],
    "DEFAULT_SCHEMA_CLASS": "oa_platform.schema.ApiAutoSchema",  # every operation's error answers
    "EXCEPTION_HANDLER": "oa_platform.api_errors.exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["oa_platform.api_errors.JSONParser"],
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Official Account platform API",
    "VERSION": "1.0.0",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SERVE_INCLUDE_SCHEMA": False,
    # Several models have a "status"; these names keep the personal notice enums apart from the notice's.
    "ENUM_NAME_OVERRIDES": {
        "NotificationStatusEnum": "broadcasts.personal.models.Notification.STATUS_CHOICES",
        "TemplateVersionStatusEnum": "broadcasts.personal.models.TemplateVersion.STATUS_CHOICES",
    },
    # <id:pk> (oa_platform.converters.IdConverter) is a 64-bit integer in the schema
    "PATH_CONVERTER_OVERRIDES": {"id": {"type": "integer", "format": "int64", "minimum": 0, "maximum": 2**63 - 1}},
}

# The site's public address (https://oa.example.gov.vn), for links in messages sent with no request at hand (a
# form's link when a round opens or its reminder is due). Empty: those links are paths only.
PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "").rstrip("/")

# --- Product limits  ---
# A chat message longer than this is refused with 400: no routine question needs more, and it bounds matcher cost.
CHAT_MAX_TEXT = 2000
# Chat flood control per citizen and per client IP: (requests, seconds).
CHAT_RATE_CITIZEN = (int(os.environ.get("CHAT_RATE_CITIZEN", "20")), 60)
CHAT_RATE_IP = (int(os.environ.get("CHAT_RATE_IP", "600")), 60)
# Web form submissions (/f/<slug>/<id>/responses/) per browser (its web identity) and per client IP: (requests,
# seconds). A person sends a form a few times at most (a retry resends the same client id); an IP may be a
# hospital's or a ward office's NAT with hundreds answering the 8:00 check-in. The form benchmark does not use
# this path (it posts to the API), so it does not raise them.
COLLECT_RATE_CITIZEN = (int(os.environ.get("COLLECT_RATE_CITIZEN", "10")), 60)
COLLECT_RATE_IP = (int(os.environ.get("COLLECT_RATE_IP", "1200")), 60)
# WebSocket frames larger than this are refused (close code 1009).
WS_MAX_FRAME = 8 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
# Whole request bodies of multipart uploads (the admin's FAQ import); others stop at the 2 MiB above.
MAX_UPLOAD_BYTES = int(os.environ.get("MAX_UPLOAD_BYTES", str(20 * 1024 * 1024)))

# --- Security  ---
SESSION_COOKIE_HTTPONLY = True
CSRF_FAILURE_VIEW = "oa_platform.views.csrf_failure"
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy of every response: scripts and styles only from our own static files (no inline
# script, no inline style, no javascript: URLs), never framed. Avatars may come from any https host. The
# admin of Django 6 works under it unchanged; our templates keep their scripts and styles in static files.
CONTENT_SECURITY_POLICY_DIRECTIVES = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "https:", "data:"],
    "connect-src": ["'self'"],
    "font-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'none'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}
if django.VERSION >= (6, 0):
    # Django's own middleware (django.middleware.csp), configured by SECURE_CSP.
    SECURE_CSP = CONTENT_SECURITY_POLICY_DIRECTIVES
    CSP_MIDDLEWARE = "django.middleware.csp.ContentSecurityPolicyMiddleware"
else:
    # Django 5.2 (Python 3.11) has no CSP support of its own: django-csp 4 (requirements.txt) does the same.
    INSTALLED_APPS.append("csp")
    CONTENT_SECURITY_POLICY = {"DIRECTIVES": CONTENT_SECURITY_POLICY_DIRECTIVES}
    CSP_MIDDLEWARE = "csp.middleware.CSPMiddleware"
MIDDLEWARE.insert(MIDDLEWARE.index("django.middleware.clickjacking.XFrameOptionsMiddleware"), CSP_MIDDLEWARE)
# Provider endpoints (SMS, ZNS, webhooks, Zalo/WeChat API bases, generic callbacks) on loopback, link-local or
# private addresses are refused on save and at send time, except where the providers are local fakes: the test
# suite and the embedded default. Off in production unless set explicitly.
ALLOW_PRIVATE_PROVIDER_URLS = env_bool("ALLOW_PRIVATE_PROVIDER_URLS", not PRODUCTION)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if PRODUCTION:
    if not os.environ.get("SECRET_KEY"):
        raise RuntimeError("PRODUCTION=1 needs SECRET_KEY set in the environment")
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", str(int(timedelta(days=365).total_seconds()))))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    STORAGES["staticfiles"] = {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"}

# --- Logging: phone numbers and chat text are personal data and are never logged; nor are access tokens.  ---
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "oa_platform.logging.RedactPersonalData"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact"]}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # Task success lines every few seconds from the dispatcher would drown what an operator needs to see.
    # httpx logs every request's URL at INFO, and WeChat's carries ?access_token= (the filter redacts it anyway).
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "celery.app.trace": {"level": "WARNING"},
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
    },
}
