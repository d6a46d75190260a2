"""Settings for Wangge, driven by the environment (one module, nothing only in production).

Embedded default (no variables set): SQLite and a filesystem Celery broker under ``var/``.
Production and tests: ``DATABASE_URL`` (PostgreSQL) and ``REDIS_URL``.
"""

from pathlib import Path

import environ
from django.utils.translation import gettext_lazy as _
from kombu import Queue

from governance import keys

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)
# The embedded default's SQLite file, broker queue, cache and static files.
VAR_DIR = Path(env.str("WANGGE_VAR_DIR", default=str(BASE_DIR / "var")))

DEBUG = env.bool("DJANGO_DEBUG", default=False)
# Production mode: WANGGE_ENV=production. Then every secret must come from the environment (the
# process refuses to start naming the missing variable) and the HTTPS settings default to on.
PRODUCTION = keys.is_production()
# Each secret separate (governance.keys): SECRET_KEY for sessions and CSRF, DATA_KEYS encrypt ID-card
# numbers (grids.fields), ID_HASH_KEYS key the look-up hash (grids.identity). Outside production an
# unset one is generated at random into var/keys/ (mode 0600) on first use.
_keys = keys.load(VAR_DIR)
SECRET_KEY = str(_keys["SECRET_KEY"])
DATA_KEYS: list[str] = list(_keys["DATA_KEYS"])  # type: ignore[call-overload]
ID_HASH_KEYS: list[str] = list(_keys["ID_HASH_KEYS"])  # type: ignore[call-overload]
ALLOWED_HOSTS = env.list(
    "DJANGO_ALLOWED_HOSTS", default=[] if PRODUCTION else ["localhost", "127.0.0.1", "[::1]", "testserver"]
)
if PRODUCTION and not ALLOWED_HOSTS:
    raise keys.MissingKey("DJANGO_ALLOWED_HOSTS is not set: list the host names this installation serves.")
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "mptt",
    "import_export",
    "django_filters",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "csp",
    "simple_history",
    "governance",
    "parties",
    "grids",
    "petitions",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "governance.middleware.ChineseByDefaultLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Idle and absolute session timeouts; no-store on every answer that may carry personal data.
    "governance.middleware.SessionTimeoutMiddleware",
    "governance.middleware.NoStoreMiddleware",
    # Who made each admin change, for the audit trail (django-simple-history).
    "simple_history.middleware.HistoryRequestMiddleware",
    "governance.middleware.DatabaseUnavailableMiddleware",
    # Last, as django-axes asks: it answers locked-out sign-ins.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "governance.urls"
WSGI_APPLICATION = "governance.wsgi.application"

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

DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'wangge.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several processes (web, worker) share the file: wait for the lock instead of failing.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "governance.User"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    # Not a rule on the password: Django calls it when a password changes, to revoke API tokens.
    {"NAME": "governance.security.RevokeTokensOnPasswordChange"},
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    # Short socket timeouts: with Redis down or hung a cache call fails fast instead of holding a
    # worker for seconds (the write throttle then fails open, governance.api.throttling).
    REDIS_SOCKET_TIMEOUT = env.float("WANGGE_REDIS_TIMEOUT", default=0.3)
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_timeout": REDIS_SOCKET_TIMEOUT, "socket_connect_timeout": REDIS_SOCKET_TIMEOUT},
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Uploaded files (petition photos): local files under var/media in the embedded default, never
# served by URL (only through the scope-checked views, petitions.photos); S3-compatible object
# storage (django-storages, the optional extra "s3") with WANGGE_STORAGE=s3 and the WANGGE_S3_* variables.
MEDIA_ROOT = VAR_DIR / "media"
if env.str("WANGGE_STORAGE", default="local") == "s3":
    _default_storage: dict[str, object] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env.str("WANGGE_S3_BUCKET"),
            "endpoint_url": env.str("WANGGE_S3_ENDPOINT_URL", default="") or None,
            "region_name": env.str("WANGGE_S3_REGION", default="") or None,
            "access_key": env.str("WANGGE_S3_ACCESS_KEY", default="") or None,
            "secret_key": env.str("WANGGE_S3_SECRET_KEY", default="") or None,
            "default_acl": "private",
            "querystring_auth": True,
            "file_overwrite": False,
        },
    }
else:
    _default_storage = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(MEDIA_ROOT), "base_url": None, "file_permissions_mode": 0o600},
    }
STORAGES = {
    "default": _default_storage,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Petition photos (petitions.photos): each upload at most this big, resized to this longest edge and
# thumbnailed, re-encoded as JPEG without EXIF; at most this many in one form.
PHOTO_MAX_BYTES = env.int("WANGGE_PHOTO_MAX_BYTES", default=10 * 1024 * 1024)
PHOTO_MAX_EDGE = env.int("WANGGE_PHOTO_MAX_EDGE", default=1600)
PHOTO_THUMB_EDGE = env.int("WANGGE_PHOTO_THUMB_EDGE", default=320)
PHOTO_MAX_PIXELS = env.int("WANGGE_PHOTO_MAX_PIXELS", default=50_000_000)
PHOTOS_PER_FORM = env.int("WANGGE_PHOTOS_PER_FORM", default=6)
# The public report page behind the service card's QR code (petitions.public): reports per client
# address and per grid in a window, and the least time between showing the form and sending it.
PUBLIC_REPORTS_PER_ADDRESS = env.str("WANGGE_PUBLIC_REPORTS_PER_ADDRESS", default="5/h")
PUBLIC_REPORTS_PER_GRID = env.str("WANGGE_PUBLIC_REPORTS_PER_GRID", default="60/h")
PUBLIC_FORM_MIN_SECONDS = env.int("WANGGE_PUBLIC_FORM_MIN_SECONDS", default=3)
PUBLIC_FORM_MAX_SECONDS = env.int("WANGGE_PUBLIC_FORM_MAX_SECONDS", default=2 * 3600)
# The address residents reach the site by, printed in the service card's QR code (when it differs
# from the staff's intranet address), e.g. https://wangge.example.gov.cn; empty: the request's own.
PUBLIC_BASE_URL = env.str("WANGGE_PUBLIC_BASE_URL", default="")

# django-axes: failed sign-ins are counted per pair of username and client address (an attacker's
# address is locked for the account it guesses at; the real user from their usual address is not),
# and per address across usernames with a higher limit (governance.security.failure_limit).
# Locked out: 429 with Retry-After (JSON {"detail": ...} under /api/), see governance.api.auth.
AXES_FAILURE_LIMIT = "governance.security.failure_limit"
SIGNIN_FAILURES_PER_ACCOUNT = env.int("AXES_FAILURE_LIMIT", default=10)
SIGNIN_FAILURES_PER_ADDRESS = env.int("WANGGE_SIGNIN_FAILURES_PER_ADDRESS", default=50)
AXES_COOLOFF_TIME = env.float("WANGGE_SIGNIN_COOLOFF_HOURS", default=0.25)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)
AXES_HTTP_RESPONSE_CODE = 429
AXES_LOCKOUT_CALLABLE = "governance.api.auth.lockout_response"
# The client address: the reverse proxy's header (X-Real-IP, which nginx overwrites with the address
# it saw) only on a connection from a trusted proxy (WANGGE_TRUSTED_PROXIES: the proxy's own addresses
# or networks); the connection's address otherwise. django-ipware reads the header.
TRUSTED_PROXIES = env.list("WANGGE_TRUSTED_PROXIES", default=[])
AXES_CLIENT_IP_CALLABLE = "governance.security.client_ip"
AXES_IPWARE_META_PRECEDENCE_ORDER = [env.str("WANGGE_CLIENT_IP_HEADER", default="HTTP_X_REAL_IP")]
AXES_IPWARE_PROXY_COUNT = None

# HTTPS behind the reverse proxy. In production each defaults to on and check --deploy is clean.
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env.bool("WANGGE_BEHIND_TLS_PROXY", default=PRODUCTION) else None
)
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=PRODUCTION)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31536000 if PRODUCTION else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=PRODUCTION)
# The preload directive only matters if the host is submitted to the browsers' list; harmless on an intranet.
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=PRODUCTION)
SESSION_COOKIE_SECURE = env.bool("DJANGO_SESSION_COOKIE_SECURE", default=PRODUCTION)
CSRF_COOKIE_SECURE = env.bool("DJANGO_CSRF_COOKIE_SECURE", default=PRODUCTION)
SESSION_COOKIE_HTTPONLY = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Sessions: idle and absolute timeouts (governance.middleware.SessionTimeoutMiddleware).
SESSION_IDLE_SECONDS = env.int("WANGGE_SESSION_IDLE_SECONDS", default=30 * 60)
SESSION_COOKIE_AGE = env.int("WANGGE_SESSION_MAX_SECONDS", default=10 * 60 * 60)
# Argon2 for new and changed passwords; older hashes still verify and are upgraded at sign-in.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
# Content Security Policy (django-csp): our own files only, no inline script or style.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

# Celery: Redis when REDIS_URL is set, else kombu's filesystem transport under var/.
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {"socket_timeout": 5, "socket_connect_timeout": 2}
    CELERY_BROKER_CONNECTION_TIMEOUT = 2
else:
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(VAR_DIR / "celery" / "queue"),
        "data_folder_out": str(VAR_DIR / "celery" / "queue"),
        "processed_folder": str(VAR_DIR / "celery" / "processed"),
        # kombu's default is ./control, wherever the worker happens to start
        "control_folder": str(VAR_DIR / "celery" / "control"),
        "store_processed": False,
    }
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# Mail for overdue reminders; the embedded default prints to the worker's log.
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="wangge@localhost")
OVERDUE_SCAN_SECONDS = env.int("WANGGE_OVERDUE_SCAN_SECONDS", default=60)
# Beat's heartbeat for /healthz: sent this often, stale (beat or every worker down) after the second.
HEARTBEAT_SECONDS = env.int("WANGGE_HEARTBEAT_SECONDS", default=60)
HEARTBEAT_MAX_AGE_SECONDS = env.int("WANGGE_HEARTBEAT_MAX_AGE_SECONDS", default=180)
# Deliveries have their own queue, so scans never sit ahead of them; a worker started without -Q
# (the embedded default) consumes both. Production runs a worker for each: -Q celery / -Q reminders.
CELERY_TASK_QUEUES = (Queue("celery"), Queue("reminders"))
CELERY_TASK_DEFAULT_QUEUE = "celery"
# Reminders (petitions.reminders): a worker's lease on a delivery; how long a recorded reminder may
# wait in the queue before the sweep queues it again; the retry backoff's base and the attempts.
REMINDER_LEASE_SECONDS = env.int("WANGGE_REMINDER_LEASE_SECONDS", default=300)
REMINDER_SWEEP_AFTER_SECONDS = env.int("WANGGE_REMINDER_SWEEP_AFTER_SECONDS", default=120)
REMINDER_RETRY_BASE_SECONDS = env.int("WANGGE_REMINDER_RETRY_BASE_SECONDS", default=60)
REMINDER_MAX_ATTEMPTS = env.int("WANGGE_REMINDER_MAX_ATTEMPTS", default=10)
# Yellow and red warnings before a deadline: the shares of the stage's time used.
DEADLINE_WARNINGS = tuple(env.list("WANGGE_DEADLINE_WARNINGS", cast=float, default=[0.5, 0.75]))
# How often beat refreshes the dashboards' daily figures; dashboards use them while under a minute old.
DASHBOARD_REFRESH_SECONDS = env.int("WANGGE_DASHBOARD_REFRESH_SECONDS", default=20)
# How often beat vacuums the daily figures' tables, which refreshes rewrite (petitions.metrics).
DASHBOARD_VACUUM_SECONDS = env.int("WANGGE_DASHBOARD_VACUUM_SECONDS", default=300)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    # JSON in and out (the browsable docs are /api/docs/).
    "DEFAULT_PARSER_CLASSES": ["governance.api.parsers.BoundedJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # The services' ValidationError → 400 per field, workflow.TransitionNotAllowed → 409.
    "EXCEPTION_HANDLER": "governance.api.errors.exception_handler",
    # Writes per token (governance.api.throttling.WriteRateThrottle); a hotline pushing 50/s is normal.
    "DEFAULT_THROTTLE_RATES": {"petition_write": env.str("WANGGE_WRITE_RATE", default="6000/min")},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Wangge API",
    "DESCRIPTION": "网格化基层治理 — the v1 contract",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # No request leaves the intranet: no online validator badge.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "persistAuthorization": True, "validatorUrl": None},
    "ENUM_NAME_OVERRIDES": {
        "PetitionStatusEnum": "petitions.models.Status",
        "PriorityEnum": "petitions.models.Priority",
        "SatisfactionEnum": "petitions.models.Satisfaction",
        "ServiceAreaEnum": "petitions.models.ServiceArea",
        "ChainKindEnum": "parties.models.Kind",
        "GridKindEnum": "grids.models.Grid.Kind",
        "DeliberationStatusEnum": "parties.models.DeliberationStatus",
        "DeliberationSourceEnum": "parties.models.DeliberationSource",
    },
}

# Spreadsheet imports (governance.spreadsheets): refused before parsing beyond these.
IMPORT_MAX_BYTES = env.int("WANGGE_IMPORT_MAX_BYTES", default=20 * 1024 * 1024)
IMPORT_MAX_UNPACKED_BYTES = env.int("WANGGE_IMPORT_MAX_UNPACKED_BYTES", default=200 * 1024 * 1024)
IMPORT_MAX_ROWS = env.int("WANGGE_IMPORT_MAX_ROWS", default=200_000)
IMPORT_MAX_CELL_CHARS = env.int("WANGGE_IMPORT_MAX_CELL_CHARS", default=200)

# The audit trail (django-simple-history) is read, never reverted or edited from the admin.
SIMPLE_HISTORY_REVERT_DISABLED = True
SIMPLE_HISTORY_EDIT = False

# Household count a grid is sized for (urban community grid: about 300 households).
GRID_HOUSEHOLD_STANDARD = {"urban": 300}

# A micro-wish published and unclaimed for longer than this is flagged to its community (微心愿).
WISH_UNCLAIMED_DAYS = env.int("WANGGE_WISH_UNCLAIMED_DAYS", default=7)

# 双报到 (seed 001): a unit whose in-service members' reporting rate is below this percentage may not
# be rated excellent (不得评优评先); a member with fewer confirmed services than this in a year may not
# be rated excellent in the annual assessment (年度考核不得评为优秀).
UNIT_REPORTING_RATE_MIN = env.int("WANGGE_UNIT_REPORTING_RATE_MIN", default=80)
MEMBER_SERVICES_MIN = env.int("WANGGE_MEMBER_SERVICES_MIN", default=2)


# How long a deliberation's resolution stays on public notice (公示) before it is carried out (五议).
DELIBERATION_NOTICE_DAYS = env.int("WANGGE_DELIBERATION_NOTICE_DAYS", default=5)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="WARNING")},
}
