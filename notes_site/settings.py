"""Inkdex settings.

Everything comes from the environment with a safe default. The defaults are the
embedded setup: SQLite, images on local disk, the database-backed task queue,
all under ``INKDEX_DATA_DIR``. Scaling out is a matter of setting
``DATABASE_URL`` (PostgreSQL) and friends; the code does not change.
"""

import os
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return default if value is None or value == "" else value


def env_bool(name: str, default: bool) -> bool:
    value = env(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_number(name: str, default, kind: type, what: str):
    value = env(name)
    if value is None:
        return default
    try:
        return kind(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be {what}, not {value!r}") from exc


def env_int(name: str, default: int) -> int:
    return _env_number(name, default, int, "a whole number")


def env_float(name: str, default: float) -> float:
    return _env_number(name, default, float, "a number")


def env_list(name: str, default: list[str]) -> list[str]:
    value = env(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


DATA_DIR = Path(env("INKDEX_DATA_DIR", str(BASE_DIR / "var"))).resolve()

DEBUG = env_bool("INKDEX_DEBUG", False)


def _secret_key() -> str:
    """The key from the environment; for the embedded setup, one generated once
    and kept in the data folder (never in the repository)."""
    key = env("INKDEX_SECRET_KEY")
    if key:
        return key
    key_file = DATA_DIR / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


SECRET_KEY = _secret_key()

ALLOWED_HOSTS = env_list("INKDEX_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("INKDEX_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_tasks",
    "django_tasks_db",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "ocr_app",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "notes_site.urls"

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

WSGI_APPLICATION = "notes_site.wsgi.application"

# --- Database -----------------------------------------------------------------
DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", f"sqlite:///{DATA_DIR / 'inkdex.sqlite3'}"),
        # Reusing connections halves upload and search times on PostgreSQL under load (bench/load.py).
        conn_max_age=env_int("INKDEX_DB_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server read while a worker writes; IMMEDIATE takes the
    # write lock at BEGIN so two writers queue on the timeout instead of failing
    # with "database is locked" half-way through a transaction.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": env_int("INKDEX_SQLITE_TIMEOUT", 20),
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    if env("INKDEX_TEST_DB_NAME"):
        # Tests run the worker in a separate process: it must see the same file.
        DATABASES["default"]["TEST"] = {"NAME": env("INKDEX_TEST_DB_NAME")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Background tasks -----------------------------------------------------------
TASKS = {
    "default": {
        "BACKEND": env("INKDEX_TASK_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default", "ocr"],
    }
}

# --- Accounts -------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Every password sign-in (the sign-in page, the admin's) goes through the limits of
# the first backend, which answers every password try itself. ModelBackend stays
# listed because sessions name the backend that signed them in: without it every
# session made before the limits existed would be signed out.
AUTHENTICATION_BACKENDS = [
    "ocr_app.auth_backends.SignInLimitBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "ocr_app:note_list"
LOGOUT_REDIRECT_URL = "login"

# --- Internationalisation ---------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = env("INKDEX_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# --- Files ------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = Path(env("INKDEX_STATIC_ROOT", str(DATA_DIR / "static")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise warns on every start without it
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = Path(env("INKDEX_MEDIA_ROOT", str(DATA_DIR / "media")))
# Uploaded images are never served from a public URL: a view checks the owner.
MEDIA_URL = "/media-not-public/"
# Images on local disk by default; with INKDEX_S3_BUCKET on S3-compatible storage
# (pip install '.[s3]'). Web and workers only ever use the storage API, never paths.
_S3_BUCKET = env("INKDEX_S3_BUCKET")
STORAGES = {
    "default": (
        {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": _S3_BUCKET,
                "endpoint_url": env("INKDEX_S3_ENDPOINT_URL"),
                "region_name": env("INKDEX_S3_REGION"),
                "access_key": env("INKDEX_S3_ACCESS_KEY_ID"),
                "secret_key": env("INKDEX_S3_SECRET_ACCESS_KEY"),
                "location": env("INKDEX_S3_PREFIX", ""),
                "default_acl": None,
                "querystring_auth": True,
                "file_overwrite": False,
            },
        }
        if _S3_BUCKET
        else {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    ),
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = True
# Django spools large uploads to disk; the first handler stops keeping a file at
# INKDEX["MAX_UPLOAD_BYTES"] while it is read, so no request can fill the disk.
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_HANDLERS = [
    "ocr_app.upload_limits.UploadSizeLimit",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
DATA_UPLOAD_MAX_NUMBER_FILES = env_int("INKDEX_MAX_FILES_PER_UPLOAD", 50)

# --- Security -----------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("INKDEX_BEHIND_HTTPS_PROXY", False) else None
)
# Production behind HTTPS: INKDEX_HTTPS=true turns on redirects to HTTPS, secure
# cookies and HSTS (then `manage.py check --deploy` has nothing to report).
HTTPS = env_bool("INKDEX_HTTPS", False)
SECURE_SSL_REDIRECT = HTTPS
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = HTTPS or env_bool("INKDEX_SECURE_COOKIES", False)
SECURE_HSTS_SECONDS = env_int("INKDEX_HSTS_SECONDS", 31_536_000) if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("INKDEX_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("INKDEX_HSTS_PRELOAD", False)
# Asking browsers to preload HSTS is the site owner's own decision (INKDEX_HSTS_PRELOAD).
SILENCED_SYSTEM_CHECKS = ["security.W021"]

# --- Inkdex -----------------------------------------------------------------------
INKDEX = {
    # Lines whose confidence (0-100) is below this go to the review queue.
    "REVIEW_THRESHOLD": env_float("INKDEX_REVIEW_THRESHOLD", 75.0),
    # Per file, and for all files of one request together (checked while reading).
    "MAX_UPLOAD_BYTES": env_int("INKDEX_MAX_UPLOAD_MB", 25) * 1024 * 1024,
    "MAX_UPLOAD_REQUEST_BYTES": env_int("INKDEX_MAX_UPLOAD_REQUEST_MB", 250) * 1024 * 1024,
    # Decompression-bomb guard: images with more pixels are refused outright.
    "MAX_IMAGE_PIXELS": env_int("INKDEX_MAX_IMAGE_PIXELS", 60_000_000),
    # Images are scaled down to at most this many pixels before OCR.
    "OCR_MAX_PIXELS": env_int("INKDEX_OCR_MAX_PIXELS", 8_000_000),
    # A PDF becomes one note per page, up to this many pages. The worker renders
    # the pages in the engine's child process, each within PDF_PAGE_TIMEOUT and
    # the whole PDF within PDF_TIMEOUT; PDF_RENDERER is the class doing it.
    "MAX_PDF_PAGES": env_int("INKDEX_MAX_PDF_PAGES", 50),
    "PDF_PAGE_TIMEOUT_SECONDS": env_float("INKDEX_PDF_PAGE_TIMEOUT_SECONDS", 60.0),
    "PDF_TIMEOUT_SECONDS": env_float("INKDEX_PDF_TIMEOUT_SECONDS", 600.0),
    "PDF_RENDERER": env("INKDEX_PDF_RENDERER", "ocr_app.pdf_render.PdfiumRenderer"),
    "OCR_ENGINE": env("INKDEX_OCR_ENGINE", "rapidocr"),
    # Engines by name; more can be added as name=dotted.path,... in INKDEX_EXTRA_ENGINES.
    "OCR_ENGINES": {
        "rapidocr": "ocr_app.engines.rapidocr_engine.RapidOcrEngine",
        # Optional: pip install '.[aspose]' and ./inkdex aspose (see README).
        "aspose": "ocr_app.engines.aspose.AsposeEngine",
        **dict(item.split("=", 1) for item in env("INKDEX_EXTRA_ENGINES", "").split(",") if "=" in item),
    },
    # Each engine runs in a child process of the worker; an image that takes
    # longer than this is given up (the engine is stopped and restarted).
    "ENGINE_ISOLATION": env_bool("INKDEX_ENGINE_ISOLATION", True),
    # CPU threads one OCR worker uses per image (0: all cores). `serve --workers N`
    # gives each of its workers cores/N.
    "OCR_THREADS": env_int("INKDEX_OCR_THREADS", 0),
    # rapidocr: where the first look leaves ink unread (small, faint or pencil
    # writing), look there again with the ink stretched. Costs time only on such pages.
    "OCR_RESCAN": env_bool("INKDEX_OCR_RESCAN", True),
    "ENGINE_TIMEOUT_SECONDS": env_float("INKDEX_ENGINE_TIMEOUT_SECONDS", 300.0),
    # Aspose: the license file (without one it runs in trial mode and reads only
    # part of each image), and where Debian 11's libssl 1.1 was unpacked.
    "ASPOSE_LICENSE_FILE": env("INKDEX_ASPOSE_LICENSE_FILE", ""),
    "ASPOSE_LIBSSL_DIR": env("INKDEX_ASPOSE_LIBSSL_DIR", str(BASE_DIR / ".native" / "libssl1.1")),
    "DEFAULT_LANGUAGE": env("INKDEX_DEFAULT_LANGUAGE", "en"),
    # The owner's learned words given to the engine with each note, most used
    # first (0: none; the lexicon prefers them to its general word list).
    "USER_WORDS_LIMIT": env_int("INKDEX_USER_WORDS_LIMIT", 2000),
    # A note "may be partly unread" when at least this share of its page's ink lies
    # outside every line the engine found (engines that can tell: rapidocr).
    "UNREAD_INK_SHARE": env_float("INKDEX_UNREAD_INK_SHARE", 0.15),
    # A failed recognition is tried this many times in all, with growing pauses.
    "MAX_ATTEMPTS": env_int("INKDEX_MAX_ATTEMPTS", 3),
    "RETRY_BACKOFF_SECONDS": env_float("INKDEX_RETRY_BACKOFF_SECONDS", 15.0),
    # A worker writes a heartbeat on the note it is processing this often; a note
    # whose heartbeat is older than STALE_AFTER is taken to have lost its worker.
    "HEARTBEAT_SECONDS": env_float("INKDEX_HEARTBEAT_SECONDS", 10.0),
    "STALE_AFTER_SECONDS": env_float("INKDEX_STALE_AFTER_SECONDS", 60.0),
    # Workers delete the queue's records of tasks finished longer ago than this.
    "FINISHED_TASKS_KEPT_DAYS": env_int("INKDEX_FINISHED_TASKS_KEPT_DAYS", 7),
    "THUMBNAIL_SIZE": 480,
    # Sign-in limits (see ocr_app/services/signin.py). One account from one
    # address: this many failures, then each further try waits 1 s, 2 s, 4 s...
    "SIGNIN_MAX_FAILURES": env_int("INKDEX_SIGNIN_MAX_FAILURES", 5),
    "SIGNIN_DELAY_SECONDS": env_float("INKDEX_SIGNIN_DELAY_SECONDS", 1.0),
    "SIGNIN_MAX_DELAY_SECONDS": env_float("INKDEX_SIGNIN_MAX_DELAY_SECONDS", 900.0),
    # One account from all addresses together: the same, with a short longest wait
    # (an attacker must never hold a lock on the owner's account).
    "SIGNIN_ACCOUNT_MAX_FAILURES": env_int("INKDEX_SIGNIN_ACCOUNT_MAX_FAILURES", 10),
    "SIGNIN_ACCOUNT_MAX_DELAY_SECONDS": env_float("INKDEX_SIGNIN_ACCOUNT_MAX_DELAY_SECONDS", 60.0),
    # Addresses an account signed in from within this many days skip the account-wide wait.
    "SIGNIN_KNOWN_ADDRESS_DAYS": env_int("INKDEX_SIGNIN_KNOWN_ADDRESS_DAYS", 30),
    # One address across accounts: this many failures within the window block it for the window.
    "SIGNIN_MAX_FAILURES_PER_ADDRESS": env_int("INKDEX_SIGNIN_MAX_FAILURES_PER_ADDRESS", 20),
    "SIGNIN_WINDOW_SECONDS": env_int("INKDEX_SIGNIN_WINDOW_SECONDS", 900),
    # Failures for an account after this long without another one are forgotten.
    "SIGNIN_FORGET_SECONDS": env_int("INKDEX_SIGNIN_FORGET_SECONDS", 86_400),
    # Behind a reverse proxy: the header carrying the client's address (e.g.
    # X-Forwarded-For) and how many proxies append to it. Off by default: anyone
    # can send that header, so only a proxy that sets it may be believed.
    "CLIENT_IP_HEADER": env("INKDEX_CLIENT_IP_HEADER", ""),
    "TRUSTED_PROXY_COUNT": env_int("INKDEX_TRUSTED_PROXY_COUNT", 1),
    # A reviewer holds a line this long; then another reviewer may take it.
    "REVIEW_CLAIM_SECONDS": env_float("INKDEX_REVIEW_CLAIM_SECONDS", 600.0),
}

# --- JSON API (/api/v1/) --------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # First, so that a request without credentials gets 401 with WWW-Authenticate: Bearer.
        "ocr_app.api.authentication.BearerTokenAuthentication",
        # The signed-in browser; DRF enforces CSRF on unsafe methods for it.
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "rest_framework.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_THROTTLE_CLASSES": ["rest_framework.throttling.UserRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"user": env("INKDEX_API_RATE", "1200/minute")},
    "EXCEPTION_HANDLER": "ocr_app.api.errors.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Inkdex API",
    "DESCRIPTION": "Upload photos of handwritten notes, follow their recognition, read their lines, search them. "
    'Errors: {"error": {"code": "...", "message": "..."}}.',
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    # Enums stay inline: the languages' enum differs per engine (see ReprocessRequestScheme), and
    # drf-spectacular's enum hoisting would give such sets made-up names. Then: links between calls.
    "POSTPROCESSING_HOOKS": ["ocr_app.api.schema.add_note_links"],
    # The documentation page's JavaScript comes from a package, not a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("INKDEX_LOG_LEVEL", "INFO")},
    "loggers": {
        # RapidOCR logs every model path at INFO on each load.
        "RapidOCR": {"level": "WARNING"},
        "django.request": {"level": "WARNING"},
    },
}
