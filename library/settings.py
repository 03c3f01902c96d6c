"""Django settings for Dossier.

Everything comes from environment variables (see the README's configuration table).
With nothing set, Dossier runs in development mode on a SQLite file in the project folder.
With ``DEBUG=0`` it refuses to start without a real ``SECRET_KEY`` and ``ALLOWED_HOSTS``.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from library.env import envbool, envchoice, envint, envlist, envstr

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = envbool("DEBUG", True)

_DEV_SECRET_KEY = "dossier-development-only-key-never-use-in-production"
SECRET_KEY = envstr("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set when DEBUG=0 (a long random string, "
            "e.g. from `python -c 'import secrets; print(secrets.token_urlsafe(50))'`)."
        )
    SECRET_KEY = _DEV_SECRET_KEY
elif not DEBUG and (len(SECRET_KEY) < 50 or SECRET_KEY == _DEV_SECRET_KEY):
    raise ImproperlyConfigured("SECRET_KEY must be at least 50 random characters when DEBUG=0.")

ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must be set when DEBUG=0 (comma-separated).")
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
    "library.catalogue",
    "library.search",
    "library.imports",
    "library.readinglists",
    "library.jobs",
    "library.api",
    "ninja",  # serves the API docs page's static files (Swagger UI) itself
    "library.protocols",
    "axes",
    "django_tasks",
    "django_tasks_db",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Static files served by each app instance itself (compressed, cached forever when
    # hashed): no separate web server or shared volume needed behind the load balancer.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # PostgreSQL: every statement of a request is bounded (DB_STATEMENT_TIMEOUT).
    "library.timeouts.StatementTimeoutMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Refuses an oversized body from its length, before the CSRF check reads it.
    "library.uploads.BodyLimitMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # A full disk or I/O error becomes a page that says so (library/storage.py).
    "library.storage.StorageErrorMiddleware",
    # Last, as django-axes asks: turns a locked-out sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "library.urls"
WSGI_APPLICATION = "library.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "library" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "library.catalogue.attachments.attachment_access",
            ],
        },
    },
]


def _database_config() -> dj_database_url.DBConfig:
    url = envstr("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'dossier.sqlite3'}"
    try:
        config = dj_database_url.parse(url, conn_max_age=envint("DB_CONN_MAX_AGE", 0))
    except ValueError as exc:
        raise ImproperlyConfigured(f"DATABASE_URL={url!r} is not understood: {exc}") from None
    engine = config.get("ENGINE", "")
    if engine == "django.db.backends.postgresql":
        # Several app instances share one server: keep connections for a while (each
        # gunicorn worker holds at most one) and check a reused one before a request uses it.
        config["CONN_MAX_AGE"] = envint("DB_CONN_MAX_AGE", 60)
        config["CONN_HEALTH_CHECKS"] = True
        config.setdefault("OPTIONS", {}).setdefault(
            "connect_timeout", envint("DB_CONNECT_TIMEOUT", 10, minimum=1)
        )
        return config
    if engine != "django.db.backends.sqlite3":
        raise ImproperlyConfigured(
            f"DATABASE_URL={url!r}: use a sqlite:/// or postgres:// URL "
            "(SQLite and PostgreSQL are supported)."
        )
    # Concurrent readers with one writer; a writer waits instead of failing at once. The
    # WAL is checkpointed by the worker (library/search/tasks.py, maintain_index) once it
    # holds 1,000 frames; a connection's own automatic checkpoint, which a save's commit
    # pays (37 ms at 10,000 pieces, every tenth save), waits for this many frames (4 KB
    # each), the bound on the WAL if the worker is down.
    autocheckpoint = envint("SQLITE_WAL_AUTOCHECKPOINT", 10_000, minimum=1)
    config.setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            # journal_size_limit=0: the WAL file starts over empty after each complete
            # checkpoint, so its size says when the next is due (search backend, wal_bytes).
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
            f"PRAGMA wal_autocheckpoint={autocheckpoint}; PRAGMA journal_size_limit=0;",
        }
    )
    return config


DATABASES = {"default": _database_config()}
# Seconds any one SQL statement of a web request may run on PostgreSQL before it is
# cancelled and the request answers 503 (library/timeouts.py); 0 means no limit.
# Management commands are not bounded by it.
DB_STATEMENT_TIMEOUT = envint("DB_STATEMENT_TIMEOUT", 15)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Accounts: self-service sign-up (ALLOW_SIGNUP=0 leaves account creation to administrators).
# Failed sign-ins are throttled per username and address by django-axes: after
# LOGIN_FAILURE_LIMIT failures that pair is locked for LOGIN_COOLOFF_MINUTES.
DOSSIER_ALLOW_SIGNUP = envbool("ALLOW_SIGNUP", True)
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = envint("LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=envint("LOGIN_COOLOFF_MINUTES", 15, minimum=1))
# Also per address, whatever the usernames (password spraying), against its own limit;
# and sign-ups per address per hour (library/throttle.py).
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address"]
AXES_HANDLER = "library.throttle.AddressAwareAxesHandler"
DOSSIER_LOGIN_ADDRESS_FAILURE_LIMIT = envint(
    "LOGIN_ADDRESS_FAILURE_LIMIT", max(20, AXES_FAILURE_LIMIT), minimum=AXES_FAILURE_LIMIT
)
DOSSIER_SIGNUPS_PER_ADDRESS_PER_HOUR = envint("SIGNUPS_PER_ADDRESS_PER_HOUR", 5, minimum=1)
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "catalogue:home"
LOGOUT_REDIRECT_URL = "catalogue:home"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = envstr("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(envstr("STATIC_ROOT") or BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "library" / "static"]
# Development and tests serve static files from the app folders, no collectstatic needed.
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG
# Uploaded files are written to a temporary name and renamed when complete, so a full disk
# never leaves a partial attachment (library/storage.py).
STORAGES = {
    "default": {"BACKEND": "library.storage.AtomicFileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
if not DEBUG:
    # Hashed, pre-compressed names from `collectstatic`, which a deployment runs once.
    STORAGES["staticfiles"] = {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"}
MEDIA_URL = "media/"
MEDIA_ROOT = Path(envstr("MEDIA_ROOT") or BASE_DIR / "media")

# Request bodies, bounded before they are read (library/uploads.py): MAX_UPLOAD_BYTES for
# signed-in users (all files of one request together), MAX_ANONYMOUS_UPLOAD_BYTES for
# everyone else; larger ones get a 413 and never reach the disk. Form fields other than
# files are held in memory: at most MAX_FORM_BYTES (room for a pasted commentary at its
# limit, percent-encoded).
DOSSIER_MAX_REQUEST_BYTES = envint("MAX_UPLOAD_BYTES", 25 * 1024 * 1024, minimum=1024)
DOSSIER_MAX_ANONYMOUS_REQUEST_BYTES = envint("MAX_ANONYMOUS_UPLOAD_BYTES", 256 * 1024, minimum=1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = min(
    DOSSIER_MAX_REQUEST_BYTES, envint("MAX_FORM_BYTES", 8 * 1024 * 1024, minimum=1024)
)
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
FILE_UPLOAD_HANDLERS = [
    "library.uploads.BoundedUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
DOSSIER_MAX_INGEST_BYTES = envint("MAX_INGEST_BYTES", 2 * 1024 * 1024, minimum=1024)
# Commentary PDFs (ingest command and /pieces/upload/): size and page limits, and the time and
# memory the PDF reader (a child process) may use on one file before it is stopped.
DOSSIER_MAX_PDF_BYTES = envint("MAX_PDF_BYTES", 25 * 1024 * 1024, minimum=1024)
DOSSIER_MAX_PDF_PAGES = envint("MAX_PDF_PAGES", 500, minimum=1)
DOSSIER_PDF_TIMEOUT_SECONDS = envint("PDF_TIMEOUT_SECONDS", 30, minimum=1)
DOSSIER_PDF_MEMORY_MB = envint("PDF_MEMORY_MB", 768, minimum=128)
# Long work runs in a worker process (`manage.py db_worker`, django-tasks' database backend:
# no new server): a web import writing more than IMPORT_BACKGROUND_ENTRIES pieces becomes a
# background job; a running job silent for JOB_STALL_SECONDS is offered for a retry.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
DOSSIER_IMPORT_BACKGROUND_ENTRIES = envint("IMPORT_BACKGROUND_ENTRIES", 1000)
DOSSIER_JOB_STALL_SECONDS = envint("JOB_STALL_SECONDS", 600, minimum=10)
# A /pieces/upload/ batch of more files than UPLOAD_BACKGROUND_FILES, or more bytes than
# UPLOAD_BACKGROUND_BYTES, is read and saved by the worker (library/catalogue/upload_jobs.py).
# Typical commentary PDFs read at 5-20 a second (library/ingest/README.md), so up to three
# keep the in-request review step with time to spare; big files are the slow ones, hence the
# byte bound. Three PDFs that each run into PDF_TIMEOUT_SECONDS (30) would still pass
# gunicorn's 60 s: where that matters, set UPLOAD_BACKGROUND_FILES=0 (every upload in the
# worker) or lower PDF_TIMEOUT_SECONDS.
DOSSIER_UPLOAD_BACKGROUND_FILES = envint("UPLOAD_BACKGROUND_FILES", 3, minimum=0)
DOSSIER_UPLOAD_BACKGROUND_BYTES = envint("UPLOAD_BACKGROUND_BYTES", 10 * 1024 * 1024, minimum=0)
# Citation files (BibTeX, RIS, CSL-JSON) for import_citations and /import/: checked before parsing.
DOSSIER_MAX_IMPORT_BYTES = envint("MAX_IMPORT_BYTES", 50 * 1024 * 1024, minimum=1024)
DOSSIER_PAGE_SIZE = envint("PAGE_SIZE", 20, minimum=1)
# JSON API rate limits, requests a minute: per address without credentials, per token or user.
DOSSIER_API_RATE_ANON = envint("API_RATE_ANON", 60, minimum=1)
DOSSIER_API_RATE_AUTH = envint("API_RATE_AUTH", 600, minimum=1)
# Proxies in front of the app that append to X-Forwarded-For; 0 trusts none (REMOTE_ADDR).
DOSSIER_API_TRUSTED_PROXIES = envint("API_TRUSTED_PROXIES", 0)

# The process cache holds the JSON API's rate counters (formatted citations are stored in
# the database: library/catalogue/citation_store.py).
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "dossier",
        "OPTIONS": {"MAX_ENTRIES": envint("CITATION_CACHE_ENTRIES", 20_000, minimum=1)},
    },
    # Catalogue page parts (facets, tallies, related pieces), keyed on the catalogue's
    # change record in the database (library/catalogue/generation.py), so a per-process
    # cache is never stale; "database" shares the computed values between instances too
    # (a table that `manage.py createcachetable` makes).
    "pages": {
        "memory": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "dossier-pages",
        },
        "database": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "dossier_page_cache",
        },
    }[envchoice("PAGE_CACHE", "memory", ("memory", "database"))]
    | {"OPTIONS": {"MAX_ENTRIES": envint("PAGE_CACHE_ENTRIES", 5_000, minimum=1)}},
}

# Search engine: "database" (the database's own full-text search, SQLite FTS5 or PostgreSQL
# tsvector, written in the saving transaction) or "whoosh" (files in WHOOSH_INDEX_DIR,
# written after commit). See library/search/backends/ (get_backend in __init__.py).
SEARCH_BACKEND = envchoice("SEARCH_BACKEND", "database", ("database", "whoosh"))
WHOOSH_INDEX_DIR = Path(envstr("WHOOSH_INDEX_DIR") or BASE_DIR / "whoosh_index")
WHOOSH_LOCK_TIMEOUT = envint("WHOOSH_LOCK_TIMEOUT", 10, minimum=1)
SEARCH_RESULT_CACHE_SIZE = envint("SEARCH_RESULT_CACHE_SIZE", 128)
# PostgreSQL: every this many index writes a save asks the worker (maintain_index) to merge
# the text indexes' GIN pending lists; 0 never asks (the inserts merge them at the limit).
SEARCH_UPKEEP_EVERY = envint("SEARCH_UPKEEP_EVERY", 100)

# Security headers; the HTTPS-only ones follow DEBUG so development works over plain HTTP.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
if not DEBUG:
    SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", True)
    # Load balancers probe instances over plain HTTP on their private address.
    SECURE_REDIRECT_EXEMPT = [r"^health/$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 31_536_000)
    # Whether every subdomain is HTTPS-only, and asking browsers to ship that built in, are
    # decisions for whoever owns the domain: off unless set (and then the deploy checks
    # that would ask for them are not silenced).
    SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
    SECURE_HSTS_PRELOAD = envbool("SECURE_HSTS_PRELOAD", False)
    SILENCED_SYSTEM_CHECKS = [
        check
        for check, chosen in (
            ("security.W005", SECURE_HSTS_INCLUDE_SUBDOMAINS),
            ("security.W021", SECURE_HSTS_PRELOAD),
        )
        if not chosen
    ]
    SECURE_PROXY_SSL_HEADER = (
        ("HTTP_X_FORWARDED_PROTO", "https") if envbool("BEHIND_TLS_PROXY", False) else None
    )

# Content-Security-Policy (django-csp): pages load only their own scripts, styles, images
# and fonts; no inline script or style, no plugins, no framing, forms post only here. The
# browser tests fail on any violation (tests/browser/conftest.py).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

# PDF attachments: downloadable by anyone (1), or by signed-in users only (0, the default:
# a catalogue entry is public, but the file may be someone else's copyright).
DOSSIER_ATTACHMENTS_PUBLIC = envbool("ATTACHMENTS_PUBLIC", False)

# Logs go to standard error, one JSON object per line by default in production (see
# library/jsonlog.py), plain text in development; LOG_FORMAT overrides either way.
LOG_FORMAT = envchoice("LOG_FORMAT", "text" if DEBUG else "json", ("json", "text"))
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {"()": "library.jsonlog.JSONFormatter"},
        "text": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT}},
    "root": {
        "handlers": ["console"],
        "level": envchoice(
            "LOG_LEVEL", "info", ("debug", "info", "warning", "error", "critical")
        ).upper(),
    },
}
