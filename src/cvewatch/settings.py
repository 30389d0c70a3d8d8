"""Django settings. Everything an operator may change comes from CVEWATCH_* variables (see config.py)."""

from __future__ import annotations

import os
from datetime import timedelta
from urllib.parse import urlsplit

import dj_database_url

from cvewatch import config

DATA_DIR = config.data_dir()
DEBUG = config.env_bool("CVEWATCH_DEBUG")
SECRET_KEY = config.secret_key(DATA_DIR)
# Hosts and links (docs/security.md): mailed links come from BASE_URL only, never from a request's Host, and
# a Host that is neither BASE_URL's nor (for a local install) the bind address's is a 400.
BASE_URL = config.base_url()
ALLOWED_HOSTS = config.allowed_hosts()
CSRF_TRUSTED_ORIGINS = config.env_list("CVEWATCH_CSRF_TRUSTED_ORIGINS")
ALLOW_SIGNUP = config.env_bool("CVEWATCH_ALLOW_SIGNUP")
PAGE_SIZE = config.env_int("CVEWATCH_PAGE_SIZE", minimum=1, maximum=1000)
IMPORT_MAX_MB = config.env_int("CVEWATCH_IMPORT_MAX_MB", minimum=1, maximum=1_000_000)
IMPORT_MAX_RATIO = config.env_int("CVEWATCH_IMPORT_MAX_RATIO", minimum=1, maximum=1_000_000)

# --- sync (docs/sync.md) ---
SYNC_SOURCES = config.sync_sources()
SYNC_INTERVAL = config.env_int("CVEWATCH_SYNC_INTERVAL", minimum=1, maximum=10_000_000)
SYNC_URLS = config.sync_urls()
NVD_API_KEY = config.env_str("CVEWATCH_NVD_API_KEY")
# --- end sync ---

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "cvewatch.core",
    "cvewatch.catalog",
    "cvewatch.ingest",
    "cvewatch.api",
    "cvewatch.organizations",
    "cvewatch.web",
    "cvewatch.jobs",
    "cvewatch.sync",  # sync
    "django.contrib.admin",  # sync: SyncSource/SyncRun read-only in the admin
    "cvewatch.alerts",  # alerts (wt-f)
    "cvewatch.workbench",  # tags, triage, saved views, query subscriptions (issue 9)
    "axes",  # failed-login lock-out (issue 10); its signal handlers count the failures
    "drf_spectacular",  # the OpenAPI schema at /api/schema (cvewatch/api/schema.py)
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "cvewatch.core.headers.DeploymentHeadersMiddleware",  # CSP always, HSTS for https (docs/security.md)
    "cvewatch.web.nul_bytes.RefuseNulBytesMiddleware",  # issue 10: a NUL never reaches a query
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",  # answers a locked-out login form with the lock-out page (429)
]

ROOT_URLCONF = "cvewatch.urls"
WSGI_APPLICATION = "cvewatch.wsgi.application"
APPEND_SLASH = False  # the API's paths have no trailing slash; never redirect them

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    }
]

# --- Database -------------------------------------------------------------------------------------------
DATABASE_URL = config.env_str("CVEWATCH_DATABASE_URL")
PG_PREPARE_THRESHOLD = 5  # psycopg prepares a statement after 5 executions on a connection (its default)
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=600, conn_health_checks=True)}
    # The health check before each request's first query sends nothing while the connection is sound
    # (core/postgresql/base.py); Django's own sends a SELECT 1, a round trip on every request.
    DATABASES["default"]["ENGINE"] = "cvewatch.core.postgresql"
    # Parameters bound by the server and statements prepared once they repeat: the server parses each of the
    # API's few statements once per connection instead of once per request (docs/benchmarks.md). Each
    # execution is still planned for its own parameters (force_custom_plan), so a skewed filter
    # (vendor=microsoft vs a vendor with 3 CVEs) never gets a generic plan. A pooler in front must keep
    # prepared statements per client: PgBouncer in session mode, or 1.21+ with max_prepared_statements.
    _options = DATABASES["default"].setdefault("OPTIONS", {})
    _options.update(server_side_binding=True, prepare_threshold=PG_PREPARE_THRESHOLD)
    _options["options"] = f"{_options.get('options', '')} -c plan_cache_mode=force_custom_plan".strip()
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(DATA_DIR / "cvewatch.sqlite3"),
            "OPTIONS": {
                # Readers never block the writer in WAL mode; the importer and the server share the file.
                # busy_timeout (ms) makes a second writer wait instead of failing "database is locked";
                # IMMEDIATE takes the write lock at BEGIN so a reader-turned-writer cannot deadlock.
                "timeout": 30,
                "transaction_mode": "IMMEDIATE",
                "init_command": (
                    "PRAGMA journal_mode=WAL;"
                    "PRAGMA synchronous=NORMAL;"
                    "PRAGMA busy_timeout=30000;"
                    "PRAGMA foreign_keys=ON;"
                    "PRAGMA cache_size=-65536;"
                    "PRAGMA mmap_size=268435456;"
                    "PRAGMA temp_store=MEMORY;"
                ),
            },
        }
    }
# Each test process gets its own PostgreSQL test database so parallel runs never collide.
DATABASES["default"].setdefault("TEST", {})
if DATABASES["default"]["ENGINE"].endswith("postgresql"):
    DATABASES["default"]["TEST"]["NAME"] = f"test_cvewatch_{os.getpid()}"

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth, sessions, security ---------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "/login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/login"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Deployment headers (docs/security.md). An https CVEWATCH_BASE_URL means TLS ends at a proxy in front of
# gunicorn: cookies travel only over https and browsers are told to stay on it (HSTS, a year, subdomains of
# this host too). The pages have no inline script, so scripts come from our own origin only, always.
HTTPS = BASE_URL.startswith("https://")
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = 31_536_000 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
CONTENT_SECURITY_POLICY = "script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
if config.env_str("CVEWATCH_BASE_URL"):
    CSRF_TRUSTED_ORIGINS.append("{0.scheme}://{0.netloc}".format(urlsplit(BASE_URL)))  # the form posts that arrive through the proxy come from there
SILENCED_SYSTEM_CHECKS = [
    # The proxy that ends TLS redirects http to https: a redirect here would loop whenever it does not pass
    # the scheme on, and HSTS keeps browsers on https anyway.
    "security.W008",
    # Preloading commits the whole registered domain to https in browsers; that is its owner's decision.
    "security.W021",
]

# --- Throttling and rate limits (issue 10; docs/api.md) ------------------------------------------------
# Failed logins (the /login form, the admin, API Basic) are counted by django-axes per account and per
# client address, and API callers by a DRF throttle on django-ratelimit's counters; both keep them in the
# `throttle` cache: this process's memory, or Redis shared by every process when CVEWATCH_REDIS_URL is set.
CACHES = config.caches(config.env_str("CVEWATCH_REDIS_URL"))  # the same Redis as the job queue
API_RATE_LIMIT = config.api_rate_limit()  # (requests, seconds) or None
RATELIMIT_USE_CACHE = "throttle"  # django-ratelimit's counters (api/throttling.py)
PROXY_COUNT = config.env_int("CVEWATCH_PROXY_COUNT", minimum=0, maximum=10)
AUTHENTICATION_BACKENDS = [
    "cvewatch.api.throttling.LockoutBackend",  # django-axes: refuses a locked-out account or address first
    "django.contrib.auth.backends.ModelBackend",
]
AXES_HANDLER = "axes.handlers.cache.AxesCacheHandler"
AXES_CACHE = "throttle"
AXES_FAILURE_LIMIT = config.env_int("CVEWATCH_LOGIN_FAILURE_LIMIT", maximum=10_000)
AXES_COOLOFF_TIME = timedelta(seconds=config.env_int("CVEWATCH_LOGIN_LOCKOUT", maximum=30 * 86400))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]  # each on its own: per account, and per address
AXES_CLIENT_IP_CALLABLE = "cvewatch.api.throttling.client_address"  # CVEWATCH_PROXY_COUNT, never a bare XFF
AXES_LOCKOUT_CALLABLE = "cvewatch.web.lockout.lockout_response"
AXES_ENABLE_ADMIN = False  # the cache handler keeps no rows to show
AXES_DISABLE_ACCESS_LOG = True
# The in-process cache counts per server process (the limits are per process without Redis): by design.
SILENCED_SYSTEM_CHECKS.append("axes.W001")
# --- end throttling ---

# --- Mail -----------------------------------------------------------------------------------------------
EMAIL_URL = config.env_str("CVEWATCH_EMAIL_URL")
DEFAULT_FROM_EMAIL = config.env_str("CVEWATCH_EMAIL_FROM")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
if EMAIL_URL:
    from cvewatch.core.mail import smtp_settings_from_url

    globals().update(smtp_settings_from_url(EMAIL_URL))
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"

# --- Alerts (wt-f) ----------------------------------------------------------------------------------------
DELIVERY_RETRY_BASE = config.env_int("CVEWATCH_DELIVERY_RETRY_BASE", minimum=1, maximum=86_400)
DELIVERY_MAX_AGE = config.env_int("CVEWATCH_DELIVERY_MAX_AGE", minimum=1, maximum=30 * 86_400)
DELIVERY_TIMEOUT = config.env_int("CVEWATCH_DELIVERY_TIMEOUT", minimum=1, maximum=300)
ALLOW_PRIVATE_WEBHOOKS = config.env_bool("CVEWATCH_ALLOW_PRIVATE_WEBHOOKS")
# --- end alerts -----------------------------------------------------------------------------------------

# --- I18N / time ----------------------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = str(DATA_DIR / "static")
(DATA_DIR / "static").mkdir(exist_ok=True)  # whitenoise warns on every start without it
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

# --- REST framework -------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "cvewatch.organizations.api.authentication.OrganizationTokenAuthentication",
        "cvewatch.api.authentication.CachedBasicAuthentication",
        "cvewatch.api.authentication.CsrfSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "cvewatch.api.pagination.PageNumberPagination",
    "PAGE_SIZE": PAGE_SIZE,
    "EXCEPTION_HANDLER": "cvewatch.api.exceptions.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "DATETIME_FORMAT": "iso-8601",
    "DEFAULT_THROTTLE_CLASSES": ["cvewatch.api.throttling.ApiRateThrottle"],  # CVEWATCH_API_RATE_LIMIT
    "NUM_PROXIES": PROXY_COUNT,  # client addresses from X-Forwarded-For only behind that many proxies
    "DEFAULT_SCHEMA_CLASS": "cvewatch.api.schema.ApiAutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "cvewatch API",
    "DESCRIPTION": "OpenCVE-compatible, read-only CVE catalog and organizations API (docs/api.md).",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,  # /api/schema itself is not part of the API it describes
    "SCHEMA_PATH_PREFIX": "/api",
}

# --- Job engine (Huey; read by huey.contrib.djhuey, built in cvewatch.jobs.queue) ------------------------
REDIS_URL = config.env_str("CVEWATCH_REDIS_URL")
WORKER_MODE = config.env_choice("CVEWATCH_WORKER", ("internal", "external"))
WORKER_THREADS = config.env_int("CVEWATCH_WORKER_THREADS", maximum=64)
BACKGROUND_NICE = config.env_int("CVEWATCH_BACKGROUND_NICE", minimum=0, maximum=19)
HUEY = {
    "name": config.env_str("CVEWATCH_QUEUE_NAME") or "cvewatch",
    # Redis pops each task exactly once across machines; the SQLite file serves one machine without a server.
    "huey_class": "huey.RedisHuey" if REDIS_URL else "huey.SqliteHuey",
    **({"url": REDIS_URL} if REDIS_URL else {"filename": str(DATA_DIR / "jobs.sqlite3")}),
    "results": False,  # nothing reads task return values; storing them would only grow the queue store
    "immediate": False,  # djhuey would otherwise run tasks inline whenever DEBUG is on
    "utc": True,
    "consumer": {"workers": WORKER_THREADS, "worker_type": "thread"},
}

# --- Logging --------------------------------------------------------------------------------------------
LOG_LEVEL = config.env_str("CVEWATCH_LOG_LEVEL").upper() or "INFO"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "axes.apps": {"level": "WARNING"},  # its "BEGIN version" banner opened every cvewatch command's output
    },
}
