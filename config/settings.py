"""Settings, all read from the environment here and nowhere else.

With no environment at all the service runs on its embedded defaults: SQLite in WAL
mode, a file-system Celery broker under var/, console SMS and email backends and the
offline LLM provider. Production sets DEBUG=false, and then SECRET_KEY and
ALLOWED_HOSTS have no default: a missing one stops the process at start-up.
Every variable is listed with its default in .env.example.
"""

import base64
import hashlib
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    env.read_env(BASE_DIR / ".env")

DEBUG = env.bool("DEBUG", default=True)

if DEBUG:
    SECRET_KEY = env("SECRET_KEY", default="django-insecure-embedded-default-only-for-debug")
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["*"])
else:
    try:
        SECRET_KEY = env("SECRET_KEY")
        ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")
    except ImproperlyConfigured as exc:
        raise ImproperlyConfigured(f"With DEBUG=false, {exc}") from exc

# The port `make run` and the Procfile's web line listen on; the public address follows
# it unless PUBLIC_BASE_URL says otherwise (e.g. behind a proxy or a tunnel).
PORT = env.int("PORT", default=8000)
PUBLIC_BASE_URL = env("PUBLIC_BASE_URL", default=f"http://localhost:{PORT}").rstrip("/")

INSTALLED_APPS = [
    # django.contrib.admin with the operator console's site (config/admin_site.py)
    "config.apps.ConsoleAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "anymail",
    "workspaces",
    "agents",
    "flows",
    "conversations",
    "channels",
    "campaigns",
    "webhooks",
]

MIDDLEWARE = [
    # First: every response, even a 413 or an error page, carries the request id and is
    # counted; every log line of the request has the id.
    "core.logs.RequestIdMiddleware",
    "config.metrics.RequestCountMiddleware",
    "core.limits.RequestSizeLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "core.errors.ApiErrorMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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

# --- Database -------------------------------------------------------------------------
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    VAR_DIR.mkdir(exist_ok=True)
    # Web, worker and beat all write to the one file: WAL lets readers run beside the
    # writer, IMMEDIATE takes the write lock up front (no deadlock on lock upgrade) and
    # the timeout makes a writer wait for the lock instead of failing at once.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
else:
    # A connection pool per process (psycopg_pool): web threads waiting on the model
    # hand their connection back meanwhile (core.db.release_connection), so a hundred
    # waiting requests need a handful of connections, not a hundred.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": env.int("DB_POOL_MIN_SIZE", default=1),
        "max_size": env.int("DB_POOL_MAX_SIZE", default=20),
        "timeout": env.float("DB_POOL_TIMEOUT", default=10.0),
    }

# Seconds a web process verifies an API key it has verified before from memory, without
# a query: a key revoked elsewhere stops working within this time (at once in the
# process that revoked it). 0: every request looks its key up.
API_KEY_CACHE_SECONDS = env.float("API_KEY_CACHE_SECONDS", default=5.0)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache and broker -----------------------------------------------------------------
REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env("CACHE_KEY_PREFIX", default="msg"),
        }
    }
    CELERY_BROKER_URL = REDIS_URL
    # No countdown is ever longer than this (the scheduler sweeps instead), so Redis
    # never redelivers a task that is merely waiting.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
else:
    # The file cache is shared by the three processes, so rate limits hold across them.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }
    BROKER_DIR = VAR_DIR / "broker"
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
    }
    # The folders must exist before any of the three processes touches the broker.
    for folder in ("queue", "processed", "control"):
        (BROKER_DIR / folder).mkdir(parents=True, exist_ok=True)

CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=120)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=150)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Publishing from a web request must not hang on a broker that is down: one quick retry,
# then core.jobs gives up and the beat sweeps enqueue the work once the broker is back.
CELERY_BROKER_CONNECTION_TIMEOUT = env.float("CELERY_BROKER_CONNECTION_TIMEOUT", default=1.0)
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"


def _every(seconds: float, task: str, queue: str, expires: float | None = None) -> dict:
    """A beat entry; a run not started within `expires` (default: its period) is dropped,
    so a stalled worker does not find a backlog of identical sweeps."""
    return {
        "task": task,
        "schedule": seconds,
        "options": {"queue": queue, "expires": expires or seconds},
    }


CELERY_BEAT_SCHEDULE = {
    "sweep-due-replies": _every(10.0, "conversations.sweep_due_replies", "default"),
    "dispatch-due-messages": _every(2.0, "conversations.dispatch_due_messages", "delivery"),
    "recover-stale-sending": _every(60.0, "conversations.recover_stale_sending", "delivery"),
    "purge-idempotency-records": _every(
        3600.0, "conversations.purge_idempotency_records", "default", expires=600
    ),
    "sweep-webhook-deliveries": _every(30.0, "webhooks.sweep", "webhooks"),
    "campaigns-tick": _every(2.0, "campaigns.tick", "default"),
}
CELERY_TASK_ROUTES = {
    "conversations.generate_reply": {"queue": "llm"},
    "conversations.send_message": {"queue": "delivery"},
    # Batches (the sweep's, a campaign's deferred messages) after single sends (a reply
    # to a customer who just wrote): Redis hands out priority 0 before 9 on every queue.
    "conversations.send_messages": {"queue": "delivery", "priority": 9},
    "campaigns.prepare": {"queue": "default", "priority": 9},
    "campaigns.create_batch": {"queue": "default", "priority": 9},
    "campaigns.cancel_messages": {"queue": "default", "priority": 9},
    "webhooks.fan_out": {"queue": "webhooks"},
    "webhooks.deliver": {"queue": "webhooks"},
    "webhooks.sweep": {"queue": "webhooks"},
}

# --- Providers ------------------------------------------------------------------------
ANTHROPIC_API_KEY = env("ANTHROPIC_API_KEY", default="")
ANTHROPIC_BASE_URL = env("ANTHROPIC_BASE_URL", default="")
ANTHROPIC_DEFAULT_MODEL = env("ANTHROPIC_DEFAULT_MODEL", default="claude-sonnet-5-5")
TWILIO_ACCOUNT_SID = env("TWILIO_ACCOUNT_SID", default="")
TWILIO_AUTH_TOKEN = env("TWILIO_AUTH_TOKEN", default="")
if not TWILIO_AUTH_TOKEN and not TWILIO_ACCOUNT_SID:
    # No Twilio account (console SMS): callbacks can only come from `manage.py
    # simulate_inbound`, which signs them with this token derived from SECRET_KEY.
    TWILIO_AUTH_TOKEN = hashlib.sha256(f"local-twilio:{SECRET_KEY}".encode()).hexdigest()[:32]
TWILIO_FROM_NUMBER = env("TWILIO_FROM_NUMBER", default="")
TWILIO_API_BASE_URL = env("TWILIO_API_BASE_URL", default="")
# "twilio" or "console"; empty: Twilio when TWILIO_ACCOUNT_SID is set, else console.
SMS_BACKEND = env("SMS_BACKEND", default="")
# Who answers STOP/START: "service" (this service sends the confirmation) or "twilio"
# (Twilio's Advanced Opt-Out does, so the service stays silent).
SMS_OPT_OUT_CONFIRMATIONS = env("SMS_OPT_OUT_CONFIRMATIONS", default="service")
SMS_OPT_OUT_MESSAGE = env(
    "SMS_OPT_OUT_MESSAGE",
    default="You are unsubscribed and will receive no more messages. Reply START to resubscribe.",
)
SMS_OPT_IN_MESSAGE = env(
    "SMS_OPT_IN_MESSAGE", default="You are subscribed again. Reply STOP to unsubscribe."
)
SMS_HELP_MESSAGE = env(
    "SMS_HELP_MESSAGE", default="Reply STOP to unsubscribe. Msg & data rates may apply."
)
# Sends the provider certainly did not take are retried up to this many attempts.
DELIVERY_MAX_ATTEMPTS = env.int("DELIVERY_MAX_ATTEMPTS", default=5)
# Seconds a message may stay "sending" before it counts as left by a dead worker (then
# Twilio is asked whether it has it before anything is sent again).
DELIVERY_SENDING_TIMEOUT = env.int("DELIVERY_SENDING_TIMEOUT", default=300)
# Threads a worker process sends a sweep batch with (overlapping provider latency).
DELIVERY_THREADS = env.int("DELIVERY_THREADS", default=8)
# Sends per second of an email sender without a max of its own (SMS senders default by
# kind: long code 1, toll-free 3, short code 100; channels.throttle).
EMAIL_MAX_PER_SECOND = env.float("EMAIL_MAX_PER_SECOND", default=10.0)
# The share of every sender's rate left unused: a worker takes its slot a few
# milliseconds (on a busy machine, tenths of a second) before Twilio receives the
# request, and such jitter must not put more than maxPerSecond into Twilio's second.
SENDER_RATE_HEADROOM = env.float("SENDER_RATE_HEADROOM", default=0.1)
# Campaigns: the largest upload (a CSV of 50,000 rows is ~3 MB), the most recipients in
# one campaign, how many recipients one worker task turns into messages, and how often
# at most a running campaign reports its progress (seconds).
CAMPAIGN_UPLOAD_MAX_BYTES = env.int("CAMPAIGN_UPLOAD_MAX_BYTES", default=16 * 1_048_576)
CAMPAIGN_MAX_RECIPIENTS = env.int("CAMPAIGN_MAX_RECIPIENTS", default=100_000)
CAMPAIGN_BATCH_SIZE = env.int("CAMPAIGN_BATCH_SIZE", default=250)
CAMPAIGN_PROGRESS_INTERVAL = env.float("CAMPAIGN_PROGRESS_INTERVAL", default=5.0)
# Outbound webhooks may target loopback and private addresses (and plain http): on for
# the embedded (DEBUG) setup and the tests, off in production (SSRF protection).
WEBHOOKS_ALLOW_PRIVATE_NETWORKS = env.bool("WEBHOOKS_ALLOW_PRIVATE_NETWORKS", default=DEBUG)
# Ports webhook URLs may use besides 443 (and 80 for http where it is allowed).
WEBHOOKS_ALLOWED_PORTS = env.list("WEBHOOKS_ALLOWED_PORTS", cast=int, default=[])

EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
if EMAIL_BACKEND == "django.core.mail.backends.console.EmailBackend":  # noqa: F821 - set above
    # The same console output, without the text of HIPAA flows.
    EMAIL_BACKEND = "channels.email.ConsoleEmailBackend"
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Messaging <noreply@localhost>")
# Domains workspaces may register email senders on (comma-separated); empty: any.
EMAIL_SENDER_DOMAINS = env.list("EMAIL_SENDER_DOMAINS", default=[])
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# The domain of Message-IDs and of the Reply-To routing addresses (reply+…@EMAIL_DOMAIN),
# which must reach the inbound email webhook.
EMAIL_DOMAIN = env("EMAIL_DOMAIN", default="localhost")
# Inbound email webhooks (anymail): the "user:password" the provider sends as HTTP basic
# auth. Empty: anymail accepts anyone, so outside DEBUG the mail is ignored; set it.
ANYMAIL = {"WEBHOOK_SECRET": env("ANYMAIL_WEBHOOK_SECRET", default="")}

# What HIPAA conversations hold, idempotent answers and webhook signing secrets are
# encrypted with these (comma-separated Fernet keys; the first encrypts, all decrypt;
# docs/operations.md, "Encryption at rest"). The default derives one from SECRET_KEY.
FIELD_ENCRYPTION_KEYS = env.list(
    "FIELD_ENCRYPTION_KEYS",
    default=[
        base64.urlsafe_b64encode(
            hashlib.sha256(f"field-encryption:{SECRET_KEY}".encode()).digest()
        ).decode()
    ],
)

# LLM generation: one request's timeout (the SDK's own default is ten minutes), the
# SDK's retries inside a blocking request, and how long a reply lock may be held before
# it counts as abandoned by a dead process.
LLM_REQUEST_TIMEOUT = env.float("LLM_REQUEST_TIMEOUT", default=60.0)
LLM_SDK_MAX_RETRIES = env.int("LLM_SDK_MAX_RETRIES", default=2)
LLM_TASK_MAX_RETRIES = env.int("LLM_TASK_MAX_RETRIES", default=4)
REPLY_LOCK_TIMEOUT = env.int("REPLY_LOCK_TIMEOUT", default=300)
# A pending reply whose task has not started this long after it was due is re-enqueued.
REPLY_SWEEP_GRACE = env.int("REPLY_SWEEP_GRACE", default=30)
EVENTS_MAX_WAIT = 30
# Long polls that may wait at once, per web process and per API key (core.longpoll);
# the process cap stays well under WEB_THREADS so health checks and writes get threads.
EVENTS_LONG_POLLS_PER_PROCESS = env.int("EVENTS_LONG_POLLS_PER_PROCESS", default=20)
EVENTS_LONG_POLLS_PER_KEY = env.int("EVENTS_LONG_POLLS_PER_KEY", default=5)

# --- API ------------------------------------------------------------------------------
# The largest request body the API takes (413 beyond it, before anything else runs).
API_MAX_BODY_BYTES = env.int("API_MAX_BODY_BYTES", default=1_048_576)
DATA_UPLOAD_MAX_MEMORY_SIZE = API_MAX_BODY_BYTES
# Routes that take more (exact paths): a campaign's recipients, as JSON or a CSV upload.
API_MAX_BODY_BYTES_BY_PATH = {"/v1/api/campaigns": CAMPAIGN_UPLOAD_MAX_BYTES}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["workspaces.auth.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["workspaces.auth.HasApiKeyScope"],
    "DEFAULT_THROTTLE_CLASSES": ["workspaces.auth.ApiKeyRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"api_key": env("API_RATE_LIMIT", default="600/min")},
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["core.parsers.StrictJSONParser"],
    "DEFAULT_SCHEMA_CLASS": "core.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "core.errors.api_exception_handler",
    "UNAUTHENTICATED_USER": None,
    "DATETIME_FORMAT": "%Y-%m-%dT%H:%M:%SZ",  # as the seeds write it
}

SPECTACULAR_SETTINGS = {
    "TITLE": "AI Messaging Service API",
    "DESCRIPTION": (
        "Conversations with customers over SMS and email, replies written by Claude. "
        "Authenticate with `Authorization: Bearer <key>` or `X-API-Key: <key>`; routes "
        "under /v1/api/ also need the `x-workspace-id` header. Every error has one shape, "
        "the `Error` schema, with a stable `code`. Every POST of the API accepts an "
        "`Idempotency-Key` header."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/v1",
    "ENUM_NAME_OVERRIDES": {
        "MessageChannelEnum": "channels.models.Channel",
        "DirectionEnum": "flows.models.Direction",
        "MessageStatusEnum": "conversations.models.DeliveryStatus",
    },
    # Plain Django views (health, unsubscribe, inbound email) into the schema.
    "PREPROCESSING_HOOKS": ["config.openapi.document_plain_views"],
    "APPEND_COMPONENTS": {
        "securitySchemes": {
            "WebhookBasicAuth": {
                "type": "http",
                "scheme": "basic",
                "description": "ANYMAIL_WEBHOOK_SECRET as user:password.",
            }
        }
    },
    # Swagger UI and Redoc from drf-spectacular-sidecar's own files: /v1/docs needs no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Auth, i18n, static ---------------------------------------------------------------
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
# Static files (the admin's) are served from the finders, so no collectstatic step.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# --- Security (all on in production; `manage.py check --deploy` is clean) --------------
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[PUBLIC_BASE_URL])

LOG_LEVEL = env("LOG_LEVEL", default="INFO").upper()
# json: one JSON object a line, for log shippers (the default in production); plain: for
# reading in a terminal (the default with DEBUG, so `make run` stays readable).
LOG_FORMAT = env("LOG_FORMAT", default="plain" if DEBUG else "json")
if LOG_FORMAT not in ("json", "plain"):
    raise ImproperlyConfigured(f"LOG_FORMAT must be json or plain, not {LOG_FORMAT!r}")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # Every record gets the id of the request (or of the request a task came from).
    "filters": {"request_id": {"()": "core.logs.RequestIdFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(levelname)s %(name)s %(request_id)s %(message)s",
            "rename_fields": {"levelname": "level", "name": "logger"},
            "timestamp": "time",  # ISO 8601, UTC
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    # The Twilio SDK logs each request's parameters (message bodies included) at INFO,
    # and message text must never reach the logs (HIPAA conversations).
    "loggers": {
        "twilio.http_client": {"level": "WARNING"},
        "httpx2": {"level": "WARNING"},
        # Beat sends a sweep every 2 s and the worker logs receiving and finishing each:
        # that chatter shows at LOG_LEVEL=DEBUG only, so a console SMS or email stands out.
        **{
            name: {"level": "DEBUG" if LOG_LEVEL == "DEBUG" else "WARNING"}
            for name in ("celery.beat", "celery.app.trace", "celery.worker.strategy")
        },
    },
}

# --- Observability: Sentry and the /metrics endpoint (docs/operations.md) --------------
# Sentry is on only when SENTRY_DSN is set; events are scrubbed of message content
# (core.sentry). No tracing unless SENTRY_TRACES_SAMPLE_RATE says so.
SENTRY_DSN = env("SENTRY_DSN", default="")
if SENTRY_DSN:
    from core.sentry import sentry_init

    sentry_init(
        dsn=SENTRY_DSN,
        environment=env("SENTRY_ENVIRONMENT", default=""),
        release=env("SENTRY_RELEASE", default=""),
        traces_sample_rate=env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0),
    )
# The bearer token Prometheus scrapes /metrics with; empty: /metrics is a 404.
METRICS_TOKEN = env("METRICS_TOKEN", default="")
