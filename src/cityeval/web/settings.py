"""Settings: one module, every deployment value read from the environment.

Development defaults are safe and need nothing: a SQLite file and local evidence storage in
``./var``. Production sets ``DEBUG=0``, ``SECRET_KEY``, ``ALLOWED_HOSTS`` and usually
``DATABASE_URL``; the process refuses to start with ``DEBUG`` off and the placeholder key.
``.env.example`` lists every variable.

Stored files (evidence, KKPD receipts, letters and exports) are local files under ``MEDIA_ROOT``
by default. ``STORAGE_BACKEND=s3`` keeps them as private objects in an S3-compatible bucket:
``S3_BUCKET`` (required), ``S3_ENDPOINT_URL`` (empty: AWS; e.g. a MinIO or Ceph address),
``S3_REGION``, ``S3_PREFIX`` (a folder inside the bucket) and ``S3_ADDRESSING_STYLE`` (path or
virtual; empty: boto3 chooses). The credentials are not settings: boto3 reads
``AWS_ACCESS_KEY_ID`` and ``AWS_SECRET_ACCESS_KEY`` (or an instance role) itself.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _
from whitenoise.compress import Compressor

PLACEHOLDER_SECRET_KEY = "dev-only-placeholder-secret-key-never-use-in-production"
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be one of 1/0, true/false, yes/no, on/off, not {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}") from None


def env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, not {raw!r}") from None


def env_list(name: str, default: str) -> list[str]:
    return [part.strip() for part in os.environ.get(name, default).split(",") if part.strip()]


BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(env_str("CITYEVAL_DATA_DIR", str(Path.cwd() / "var"))).resolve()

DEBUG = env_bool("DEBUG", True)
SECRET_KEY = env_str("SECRET_KEY", PLACEHOLDER_SECRET_KEY)
SECRET_KEY_MIN_LENGTH = 50
if not DEBUG and SECRET_KEY == PLACEHOLDER_SECRET_KEY:
    raise ImproperlyConfigured("DEBUG is off but SECRET_KEY is the placeholder: set SECRET_KEY")
if not DEBUG and len(SECRET_KEY) < SECRET_KEY_MIN_LENGTH:
    # Django's own deployment check asks for 50 characters; a short key can be guessed offline
    # from any signed value (session cookies, survey start tokens).
    raise ImproperlyConfigured(
        f"DEBUG is off but SECRET_KEY has {len(SECRET_KEY)} characters; it needs at least "
        f"{SECRET_KEY_MIN_LENGTH} (e.g. python -c 'import secrets; print(secrets.token_urlsafe(50))')"
    )
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")
_LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}
if SECRET_KEY == PLACEHOLDER_SECRET_KEY and not set(ALLOWED_HOSTS) <= _LOCAL_HOSTS:
    # A deployment that forgot DEBUG=0 must still not run on a public key.
    raise ImproperlyConfigured(
        "ALLOWED_HOSTS names a public host but SECRET_KEY is the placeholder: set SECRET_KEY"
    )
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")
SITE_NAME = env_str("SITE_NAME", "cityeval")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",  # the authenticator app's device (two-factor sign-in)
    "django_otp.plugins.otp_static",  # its one-time recovery codes
    "ninja",  # serves Swagger UI for /api/docs from its own static files, not a CDN
    "cityeval.web.audit",
    "cityeval.web.accounts",
    "cityeval.web.notices",
    "cityeval.web.regions",
    "cityeval.web.evaluations",
    "cityeval.web.programmes",
    "cityeval.web.kkpd",
    "cityeval.web.assessments",
    "cityeval.web.panels",
    "cityeval.web.results",
    "cityeval.web.surveys",
    "cityeval.web.jobs",
    "django_tasks",
    "django_tasks_db",
]

# No GZipMiddleware: the app compresses no response, since a compressed page that reflects a
# secret leaks it (BREACH). nginx compresses pages and JSON outside /accounts/, where the
# secrets that repeat are shown (deploy/nginx-cityeval.conf says why that is safe).
MIDDLEWARE = [
    # First: the request id covers everything after it; the probes skip host checks and log-in.
    "cityeval.web.ops.logs.RequestLogMiddleware",
    "cityeval.web.audit.services.AuditOriginMiddleware",  # where audited actions come from
    "cityeval.web.ops.health.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "cityeval.web.security.ContentSecurityPolicyMiddleware",
    "cityeval.web.security.NulCharacterMiddleware",  # text with U+0000 never reaches a view
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "cityeval.web.accounts.middleware.ChosenLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",  # request.user.is_verified(): the session passed the code
    "cityeval.web.accounts.twofactor.TwoFactorMiddleware",  # the code step, and enrolment when required
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
    "cityeval.web.errors.ActionRedirectMiddleware",
    "cityeval.web.errors.RefusalMiddleware",
]

ROOT_URLCONF = "cityeval.web.urls"
WSGI_APPLICATION = "cityeval.web.wsgi.application"

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
                "cityeval.web.accounts.context.navigation",
                "cityeval.web.notices.context.unread",
            ],
        },
    },
]

if "DATABASE_URL" not in os.environ:
    DATA_DIR.mkdir(parents=True, exist_ok=True)  # the default SQLite file lives here
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{DATA_DIR / 'cityeval.sqlite3'}"),
        conn_max_age=env_int("DB_CONN_MAX_AGE", 0),
    )
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # Tests use a file, not SQLite's shared in-memory database, so the live server that the
    # browser tests talk to opens its own connections in its own threads, as in production.
    # One file per process, so that concurrent test runs never share it.
    DATABASES["default"]["TEST"] = {
        "NAME": str(Path(tempfile.gettempdir()) / f"cityeval-test-{os.getpid()}.sqlite3")
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # Django's ModelBackend, but a deactivated account's right password is told apart from a
    # wrong one (the form says so, django-axes counts no failure); its sessions still end.
    "cityeval.web.accounts.backends.AccountBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"

# Failed logins: after AXES_FAILURE_LIMIT failures for one username from one address, that
# pair is locked out for AXES_COOLOFF_MINUTES.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = env_int("AXES_COOLOFF_MINUTES", 15) / 60
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_ENABLED = env_bool("AXES_ENABLED", True)

# Two-factor sign-in (django-otp, an authenticator app's six-digit code; one-time recovery codes).
# Anyone may turn it on for their account. TWO_FACTOR_REQUIRED_ROLES lists the membership roles
# (e.g. "coordinator,assessor") that must have it: such a user without a device is sent to
# enrolment after logging in and can use no other page until enrolled. API tokens are a
# separate credential and are not asked for a code. Wrong codes are counted per account in the
# database (every app server sees the same count); beyond TWO_FACTOR_FAILURES_PER_HOUR in an
# hour, codes are refused until the hour is over. Role names are checked when the app starts.
TWO_FACTOR_REQUIRED_ROLES = env_list("TWO_FACTOR_REQUIRED_ROLES", "")
TWO_FACTOR_FAILURES_PER_HOUR = env_int("TWO_FACTOR_FAILURES_PER_HOUR", 10)
OTP_TOTP_ISSUER = SITE_NAME  # the name the authenticator app shows beside the code

SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
# Strict-Transport-Security, in seconds (e.g. 31536000) once the site is served over HTTPS only.
SECURE_HSTS_SECONDS = env_int("HSTS_SECONDS", 0)
X_FRAME_OPTIONS = "DENY"
# Behind a reverse proxy: trust its X-Forwarded-Proto, and take the client address from the
# last X-Forwarded-For hop it adds (log-in limits, survey abuse limits).
BEHIND_PROXY = env_bool("BEHIND_PROXY", False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if BEHIND_PROXY else None
# The address django-axes counts failed log-ins by is the one the rest of the app uses (the last
# X-Forwarded-For hop behind our proxy): django-ipware is not installed, and without this axes
# would count REMOTE_ADDR, which behind nginx is the proxy's own address for every client.
AXES_CLIENT_IP_CALLABLE = "cityeval.web.addresses.client_ip"

# Nothing shared lives in the cache (the survey's abuse limits are counted in the database,
# see surveys.limits), so each process keeps its own.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

LANGUAGE_CODE = "id"
LANGUAGES = [("id", _("Bahasa Indonesia")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["cityeval.web.formats"]  # one date format per language, see there
USE_I18N = True
TIME_ZONE = env_str("TIME_ZONE", "Asia/Jakarta")
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(DATA_DIR / "media")))
# Stored files (evidence, KKPD receipts, job outputs): local files under MEDIA_ROOT, or, with
# STORAGE_BACKEND=s3, private objects in an S3-compatible bucket (decision record 0007). The
# credentials are not settings: boto3 reads AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or an
# instance role) itself. docs/deployment.md describes each variable.
STORAGE_BACKEND = env_str("STORAGE_BACKEND", "local").strip().lower()
if STORAGE_BACKEND == "local":
    _default_storage: dict = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
elif STORAGE_BACKEND == "s3":
    from cityeval.web.storage import object_storage_options

    if not env_str("S3_BUCKET", "").strip():
        raise ImproperlyConfigured("STORAGE_BACKEND is s3 but S3_BUCKET is not set: name the bucket")
    S3_ADDRESSING_STYLE = env_str("S3_ADDRESSING_STYLE", "").strip().lower()
    if S3_ADDRESSING_STYLE not in ("", "auto", "path", "virtual"):
        raise ImproperlyConfigured("S3_ADDRESSING_STYLE must be auto, path or virtual")
    _default_storage = {
        "BACKEND": "cityeval.web.storage.ObjectStorage",
        "OPTIONS": object_storage_options(
            bucket=env_str("S3_BUCKET", "").strip(),
            endpoint_url=env_str("S3_ENDPOINT_URL", "").strip(),
            region=env_str("S3_REGION", "").strip(),
            prefix=env_str("S3_PREFIX", ""),
            addressing_style=S3_ADDRESSING_STYLE,
        ),
    }
else:
    raise ImproperlyConfigured(f"STORAGE_BACKEND must be local or s3, not {STORAGE_BACKEND!r}")
STORAGES = {
    "default": _default_storage,
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG
# Swagger UI's bundle and source maps (django-ninja's, for /api/docs) are megabytes: keep only the
# hashed copies and leave the maps uncompressed, so collectstatic stays quick.
WHITENOISE_KEEP_ONLY_HASHED_FILES = True
WHITENOISE_SKIP_COMPRESS_EXTENSIONS = [*Compressor.SKIP_COMPRESS_EXTENSIONS, "map"]

# Evidence uploads: size limit in megabytes; the type is checked on content, not name.
EVIDENCE_MAX_MB = env_int("EVIDENCE_MAX_MB", 20)
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# Uploaded tables (regions, participants, panel assignments, history) and survey exports are
# refused before they are parsed when over these: file size and unpacked XLSX size in MB, the
# unpacked ÷ packed ratio, rows and columns. Survey exports hold one form of one region.
IMPORT_MAX_MB = env_int("IMPORT_MAX_MB", 5)
IMPORT_MAX_UNPACKED_MB = env_int("IMPORT_MAX_UNPACKED_MB", 50)
IMPORT_MAX_ROWS = env_int("IMPORT_MAX_ROWS", 20_000)
IMPORT_MAX_COLUMNS = env_int("IMPORT_MAX_COLUMNS", 300)
IMPORT_MAX_RATIO = env_int("IMPORT_MAX_RATIO", 100)
SURVEY_IMPORT_MAX_MB = env_int("SURVEY_IMPORT_MAX_MB", 20)
SURVEY_IMPORT_MAX_UNPACKED_MB = env_int("SURVEY_IMPORT_MAX_UNPACKED_MB", 200)
SURVEY_IMPORT_MAX_ROWS = env_int("SURVEY_IMPORT_MAX_ROWS", 500_000)
SURVEY_IMPORT_MAX_COLUMNS = env_int("SURVEY_IMPORT_MAX_COLUMNS", 1_000)
# A survey export up to this size (in KB) is imported during the upload's request (a 256 KB
# Kobo CSV is about 1,500 responses, imported in well under a second: 100,000 in 17.5 MB took
# 18 s); a larger one is stored and imported by a background job (`cityeval worker`) whose
# page shows the rows checked. 0: every file by a job.
SURVEY_IMPORT_SYNC_MAX_KB = env_int("SURVEY_IMPORT_SYNC_MAX_KB", 256)
# A regions file up to this size (in KB) is imported during the upload's request (a national
# list of 550 regions is about 25 KB); a larger one is stored and imported by a background job
# whose page shows the rows checked. 0: every file by a job.
REGION_IMPORT_SYNC_MAX_KB = env_int("REGION_IMPORT_SYNC_MAX_KB", 256)

# Impact survey: new responses to one form per clock hour — refused beyond the limit from one
# address (an IPv6 /64); accepted but marked "burst" (excluded from the statistics) beyond the
# rate from one /24 (IPv4) or /64 (IPv6) network; beyond the rate to the form as a whole, an
# alert on the survey overview and quality pages. And the "implausibly fast" threshold.
SURVEY_LIMIT_PER_IP_HOUR = env_int("SURVEY_LIMIT_PER_IP_HOUR", 20)
SURVEY_BURST_PER_NETWORK_HOUR = env_int("SURVEY_BURST_PER_NETWORK_HOUR", 40)
SURVEY_BURST_PER_FORM_HOUR = env_int("SURVEY_BURST_PER_FORM_HOUR", 150)
SURVEY_MIN_SECONDS = env_float("SURVEY_MIN_SECONDS", 60.0)
# Assessor panels: an item is flagged when its scores span at least this many levels.
PANEL_DISAGREEMENT_RANGE = env_float("PANEL_DISAGREEMENT_RANGE", 2.0)

SESSION_ENGINE = "cityeval.web.accounts.sessions"  # Django's database sessions, read with SQL written once
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

# E-mail. EMAIL_BACKEND picks Django's backend by short name: "console" (the development default:
# messages printed to standard output), "smtp" (the production default, configured by the EMAIL_*
# variables below), "file" (one file per connection under EMAIL_FILE_PATH: the demo's outbox
# reads them) or "locmem" (the test suite's, which pytest-django sets itself).
_EMAIL_BACKENDS = {
    "console": "django.core.mail.backends.console.EmailBackend",
    "smtp": "django.core.mail.backends.smtp.EmailBackend",
    "file": "django.core.mail.backends.filebased.EmailBackend",
    "locmem": "django.core.mail.backends.locmem.EmailBackend",
}
_email_backend = env_str("EMAIL_BACKEND", "console" if DEBUG else "smtp")
if _email_backend not in _EMAIL_BACKENDS:
    raise ImproperlyConfigured(
        f"EMAIL_BACKEND must be one of {', '.join(_EMAIL_BACKENDS)}, not {_email_backend!r}"
    )
EMAIL_BACKEND = _EMAIL_BACKENDS[_email_backend]
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 587)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 20)
EMAIL_FILE_PATH = Path(env_str("EMAIL_FILE_PATH", str(DATA_DIR / "mail")))
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "cityeval <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Links in e-mail: this address (e.g. https://cityeval.example.go.id) when set, otherwise the
# address of the request that sent the mail.
SITE_URL = env_str("SITE_URL", "").rstrip("/")
# The demo's outbox page (coordinator only) lists the mail the "file" backend wrote.
DEMO_OUTBOX = env_bool("DEMO_OUTBOX", False)
# Password reset requests per hour, from one e-mail address and from one client address.
PASSWORD_RESET_PER_ADDRESS_HOUR = env_int("PASSWORD_RESET_PER_ADDRESS_HOUR", 3)
PASSWORD_RESET_PER_IP_HOUR = env_int("PASSWORD_RESET_PER_IP_HOUR", 20)
PASSWORD_RESET_TIMEOUT = env_int("PASSWORD_RESET_HOURS", 24) * 3600
# Invitations expire after this many days.
INVITATION_DAYS = env_int("INVITATION_DAYS", 14)
# Notices: the daily digest goes out at the first `send_notices` run from this hour (in
# TIME_ZONE) on, once a day.
NOTICE_DIGEST_HOUR = env_int("NOTICE_DIGEST_HOUR", 7)
if not 0 <= NOTICE_DIGEST_HOUR <= 23:  # an hour that never comes would send no digest, silently
    raise ImproperlyConfigured(f"NOTICE_DIGEST_HOUR must be an hour from 0 to 23, not {NOTICE_DIGEST_HOUR}")

# Logs go to standard error: LOG_FORMAT=json writes one JSON object per line (for a log
# collector), text is for people. Every record carries the request's id (X-Request-ID). The
# per-request access line (logger cityeval.request) is on with json; with text the development
# server prints its own. LOG_LEVEL applies to everything else.
LOG_FORMAT = env_str("LOG_FORMAT", "text")
if LOG_FORMAT not in ("text", "json"):
    raise ImproperlyConfigured("LOG_FORMAT must be text or json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "cityeval.web.ops.logs.RequestIdFilter"},
        "secret_path": {"()": "cityeval.web.ops.logs.SecretPathFilter"},
    },
    "formatters": {
        "json": {"()": "cityeval.web.ops.logs.JsonFormatter"},
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request_id", "secret_path"],
        }
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "WARNING")},
    "loggers": {"cityeval.request": {"level": "INFO" if LOG_FORMAT == "json" else "WARNING"}},
}
# Unhandled errors reported to Sentry or a compatible service when SENTRY_DSN is set; never
# from the test suite.
SENTRY_DSN = env_str("SENTRY_DSN", "")
if SENTRY_DSN and "pytest" not in sys.modules:
    from cityeval.web.ops.errors import error_reporting_start

    error_reporting_start(dsn=SENTRY_DSN, environment=env_str("SENTRY_ENVIRONMENT", "production"))

# Background jobs (decision record 0007): django-tasks' database backend, so the queue is the
# app's own database (SQLite for the demo, PostgreSQL in production) and `cityeval worker`
# runs it. A running job whose worker has not reported for JOBS_STALE_SECONDS is taken as
# lost (a worker killed half-way) and queued again; keep it above the slowest single step.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
JOBS_STALE_SECONDS = env_float("JOBS_STALE_SECONDS", 300.0)
# Seconds of pause after each step of a job: 0, except in the kill-the-worker test.
JOBS_STEP_DELAY = env_float("CITYEVAL_JOBS_STEP_DELAY", 0.0)
# `cityeval worker` queues a notices job (reminders due, unsent e-mail, daily digests) once in
# every period of this many seconds; 0 leaves notices to `cityeval manage send_notices` (cron).
JOBS_NOTICES_EVERY_SECONDS = env_int("JOBS_NOTICES_EVERY_SECONDS", 3600)
# `cityeval worker` deletes, once a day, the jobs finished (done or failed) more than
# JOBS_KEEP_DAYS days ago with their stored files (downloads, uploads kept for a retry), and the
# jobs the worker queues itself (sending notices, this deletion; they have no file) after
# JOBS_SCHEDULED_KEEP_DAYS days; 0 keeps those jobs for ever. `cityeval manage prune_jobs`.
JOBS_KEEP_DAYS = env_int("JOBS_KEEP_DAYS", 30)
JOBS_SCHEDULED_KEEP_DAYS = env_int("JOBS_SCHEDULED_KEEP_DAYS", 7)
