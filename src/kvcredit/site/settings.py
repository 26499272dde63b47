"""Django settings, all read from the environment in one place.

KVCREDIT_DEBUG          "1"/"true" for development (default off)
KVCREDIT_SECRET_KEY     required outside debug unless the data dir holds ``secret_key`` (written
                        by ``kvcredit init``); the development default is refused there
KVCREDIT_DATABASE_URL   e.g. postgresql://user@host:5432/kvcredit (default: SQLite in the data dir)
KVCREDIT_DATA_DIR       where the SQLite file, static files and documents live (default
                        ./demo-data where it holds a database, else ./var: site/paths.py)
KVCREDIT_SECURE_COOKIES Secure session and CSRF cookies (default: on outside debug, off for a
                        data dir that ``kvcredit demo load`` made, served over plain http)
KVCREDIT_ALLOWED_HOSTS  comma-separated host names (default: localhost names in debug)
KVCREDIT_EMAIL_HOST     an SMTP server: turns on password reset by e-mail (and _PORT, _USER,
                        _PASSWORD, _TLS, _FROM)
KVCREDIT_DASK_ADDRESS   a Dask scheduler (tcp://host:8786) for the publish re-evaluation (unset:
                        in process)
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from kvcredit.site import paths

DEV_SECRET_KEY = "kvcredit-development-only-secret-key-never-use-in-production"


def _flag(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


DEBUG = _flag("KVCREDIT_DEBUG")
DATA_DIR = paths.data_dir()

SECRET_KEY = (
    os.environ.get("KVCREDIT_SECRET_KEY") or paths.stored_secret_key(DATA_DIR) or DEV_SECRET_KEY
)
if not DEBUG and SECRET_KEY == DEV_SECRET_KEY:
    raise ImproperlyConfigured(
        "KVCREDIT_SECRET_KEY must be set when KVCREDIT_DEBUG is off, or the data dir "
        f"({DATA_DIR}) hold the secret_key file that `kvcredit init` writes "
        "(the development key is refused outside debug)"
    )

_hosts = os.environ.get("KVCREDIT_ALLOWED_HOSTS", "")
ALLOWED_HOSTS = [h.strip() for h in _hosts.split(",") if h.strip()] or (
    ["localhost", "127.0.0.1", "[::1]", "testserver"] if DEBUG else ["localhost", "127.0.0.1"]
)

_db_url = os.environ.get("KVCREDIT_DATABASE_URL") or f"sqlite:///{DATA_DIR / 'kvcredit.sqlite3'}"
DATABASES = {"default": dj_database_url.parse(_db_url, conn_max_age=60)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Take the write lock at BEGIN: the audit hash chain reads the last link, then appends.
    DATABASES["default"]["OPTIONS"] = {"transaction_mode": "IMMEDIATE", "timeout": 20}
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    "kvcredit.site.apps.KvcreditAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "axes",
    "ninja",
    # the console's lists (issue 14): filters and sortable, paged tables
    "django_filters",
    "django_tables2",
    "kvcredit.api",
    "kvcredit.accounts",
    "kvcredit.audit",
    "kvcredit.enterprises",
    "kvcredit.lending",
    "kvcredit.console",
    "kvcredit.fund",
    "kvcredit.rulebook",
    "kvcredit.documents",
    "django_tasks_db",
    "kvcredit.jobs",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "kvcredit.site.security.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "kvcredit.audit.middleware.RequestIdMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"  # the console sends each role to its start page

# django-axes: five failures for a username from one address lock it out for 15 minutes.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# The lockout page in the user's language, with a way back (site/templates/lockout.html).
AXES_LOCKOUT_TEMPLATE = "lockout.html"

ROOT_URLCONF = "kvcredit.site.urls"
WSGI_APPLICATION = "kvcredit.site.wsgi.application"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [Path(__file__).parent / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
# The project's catalogues (compiled from .po with Babel: `kvcredit i18n compile`).
LOCALE_PATHS = [Path(__file__).resolve().parent.parent / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # attached documents (kvcredit.documents); an S3-compatible store by replacing this entry,
    # e.g. {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": {...}} (docs/documents.md)
    "documents": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": DATA_DIR / "documents", "base_url": None},
    },
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Secure cookies and headers outside debug (TLS terminates at the proxy in front).
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
if not DEBUG:
    # a demo's data dir is served on this machine over plain http (``make demo``)
    _secure = _flag("KVCREDIT_SECURE_COOKIES", not paths.is_demo(DATA_DIR))
    SESSION_COOKIE_SECURE = _secure
    CSRF_COOKIE_SECURE = _secure
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = int(os.environ.get("KVCREDIT_HSTS_SECONDS", "0"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}

# kvcredit's own settings
KVCREDIT_DEFAULT_POLICY = os.environ.get("KVCREDIT_DEFAULT_POLICY", "chongqing-kvc")
KVCREDIT_TOKEN_DAYS = int(os.environ.get("KVCREDIT_TOKEN_DAYS", "90"))
# no token lives longer than this, nor longer than the token that created it
KVCREDIT_TOKEN_MAX_DAYS = int(os.environ.get("KVCREDIT_TOKEN_MAX_DAYS", "366"))
# An uploaded or imported file's bounds, checked while reading: bytes uncompressed (an XLSX is a
# zip) and data rows. Over either the file is refused before it is parsed.
KVCREDIT_UPLOAD_MAX_BYTES = int(os.environ.get("KVCREDIT_UPLOAD_MAX_BYTES", str(32 << 20)))
KVCREDIT_UPLOAD_MAX_ROWS = int(os.environ.get("KVCREDIT_UPLOAD_MAX_ROWS", "50000"))
# Long jobs (docs/jobs.md): Django's tasks API (django-tasks) on its database backend, so the
# queue is a table of the same database (one queue on SQLite and PostgreSQL, no broker).
# `kvcredit worker` runs them; the queues: "default" (imports, exports) and "batch" (the
# re-evaluation of a published policy, the end of day).
TASKS = {
    "default": {
        "BACKEND": os.environ.get("KVCREDIT_TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default", "batch"],
    }
}
# Rows or enterprises per committed chunk of a job (each chunk checkpoints the job).
KVCREDIT_JOB_CHUNK = int(os.environ.get("KVCREDIT_JOB_CHUNK", "2000"))
# A pause after each chunk, in seconds (0: none; tests and demonstrations slow jobs down).
KVCREDIT_JOB_CHUNK_DELAY = float(os.environ.get("KVCREDIT_JOB_CHUNK_DELAY", "0"))
# A running job's heartbeat, every N seconds; a job silent for STALE seconds is taken over.
KVCREDIT_JOB_HEARTBEAT = float(os.environ.get("KVCREDIT_JOB_HEARTBEAT", "5"))
KVCREDIT_JOB_STALE_SECONDS = float(os.environ.get("KVCREDIT_JOB_STALE_SECONDS", "60"))
# The nightly day: at this local time ("HH:MM") the scheduler closes every business day up to
# yesterday, catching up missed days on start; unset: no nightly run (`kvcredit eod` by hand).
KVCREDIT_NIGHTLY_AT = os.environ.get("KVCREDIT_NIGHTLY_AT", "")
# A repayment file of more rows than this is posted by a job (the page shows its progress).
KVCREDIT_JOB_INLINE_ROWS = int(os.environ.get("KVCREDIT_JOB_INLINE_ROWS", "500"))
# The programme's first open day (ISO date): before the first end of day, no loan is disbursed
# earlier (nor before its district joined the programme). Unset: the district's date alone.
KVCREDIT_PROGRAMME_START = os.environ.get("KVCREDIT_PROGRAMME_START") or None
# A contribution may be recorded up to this many days after today (a transfer announced for
# the coming days), never further ahead.
KVCREDIT_CONTRIBUTION_HORIZON_DAYS = int(os.environ.get("KVCREDIT_CONTRIBUTION_HORIZON_DAYS", "31"))
# E-mail (password reset by e-mail): wired only when KVCREDIT_EMAIL_HOST is set. Without it the
# administrator resets passwords in the console (a temporary password shown once).
EMAIL_HOST = os.environ.get("KVCREDIT_EMAIL_HOST", "")
EMAIL_PORT = int(os.environ.get("KVCREDIT_EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("KVCREDIT_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("KVCREDIT_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = _flag("KVCREDIT_EMAIL_TLS")
DEFAULT_FROM_EMAIL = os.environ.get("KVCREDIT_EMAIL_FROM", "kvcredit@localhost")
KVCREDIT_EMAIL_RESET = bool(EMAIL_HOST)
# The largest document attached to an application or a claim (bytes; over it: 413).
KVCREDIT_DOCUMENT_MAX_BYTES = int(os.environ.get("KVCREDIT_DOCUMENT_MAX_BYTES", str(10 << 20)))
# The publish re-evaluation evaluates its batches on this Dask scheduler (tcp://host:8786) in
# Parquet partitions (kvcredit.scoring_dask); unset: in the worker's own process.
KVCREDIT_DASK_ADDRESS = os.environ.get("KVCREDIT_DASK_ADDRESS") or None
# bench/api.py only: mount the floor endpoint (/bench/floor/, kvcredit.api.bench_floor). Never
# in production: `kvcredit check` reports it as an error.
KVCREDIT_BENCH_FLOOR = _flag("KVCREDIT_BENCH_FLOOR")
