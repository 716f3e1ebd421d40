"""Settings read from the environment, with defaults that run on a machine with Python alone."""

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_INSTANCE = PROJECT_ROOT / "instance"


def _env(name: str, default: str) -> str:
    value = os.environ.get(name)
    return default if value is None or value == "" else value


def _env_bool(name: str, default: bool) -> bool:
    return _env(name, "1" if default else "0").lower() in {"1", "true", "yes", "on"}


def from_environment() -> dict:
    """Return the app's settings from the environment as the design's contract names them."""
    instance = Path(_env("LEADS_INSTANCE_PATH", str(DEFAULT_INSTANCE)))
    return {
        "INSTANCE_PATH": str(instance),
        "SECRET_KEY": _env("SECRET_KEY", "dev-only-insecure-secret-key"),
        "SQLALCHEMY_DATABASE_URI": _normalise_database_url(
            _env("DATABASE_URL", f"sqlite:///{instance / 'leads.sqlite3'}")
        ),
        "REDIS_URL": _env("REDIS_URL", "redis://127.0.0.1:6379/0"),
        "MAIL_SERVER": _env("MAIL_SERVER", "127.0.0.1"),
        "MAIL_PORT": int(_env("MAIL_PORT", "1025")),
        "MAIL_USE_TLS": _env_bool("MAIL_USE_TLS", False),
        "MAIL_USE_SSL": _env_bool("MAIL_USE_SSL", False),
        "MAIL_USERNAME": os.environ.get("MAIL_USERNAME") or None,
        "MAIL_PASSWORD": os.environ.get("MAIL_PASSWORD") or None,
        "MAIL_DEFAULT_SENDER": _env("MAIL_DEFAULT_SENDER", "Clinic <no-reply@clinic.example>"),
        # Flask-Mail would silently drop mail under TESTING; our tests send to a real SMTP server.
        "MAIL_SUPPRESS_SEND": False,
        # Seconds an SMTP conversation may stall; keep it well under SEND_LEASE so that a hung
        # server never lets a second worker take a message the first is still sending.
        "MAIL_TIMEOUT": float(_env("MAIL_TIMEOUT", "30")),
        "PUBLIC_BASE_URL": _env("PUBLIC_BASE_URL", "http://127.0.0.1:5000").rstrip("/"),
        "CLINIC_NAME": _env("CLINIC_NAME", "Riverside Ketamine Clinic"),
        "CLINIC_SLUG": _env("CLINIC_SLUG", "main"),
        "CLINIC_INBOX": _env("CLINIC_INBOX", "frontdesk@clinic.example"),
        "CLINIC_PHONE": _env("CLINIC_PHONE", "+1 555 010 0100"),
        "CLINIC_ADDRESS": _env("CLINIC_ADDRESS", "100 Main Street, Springfield"),
        "CLINIC_TIMEZONE": _env("CLINIC_TIMEZONE", "America/New_York"),
        # Empty is meaningful for these three: no follow-ups, no reminders, open at all hours.
        "FOLLOWUP_SCHEDULE": os.environ.get("FOLLOWUP_SCHEDULE", "1d,3d,7d"),
        "REMINDER_OFFSETS": os.environ.get("REMINDER_OFFSETS", "24h,2h"),
        # After the last follow-up, how long a lead that nobody reached stays new before it is unresponsive.
        "UNRESPONSIVE_AFTER": _env("UNRESPONSIVE_AFTER", "3d"),
        # Seconds between the checks that move such leads along.
        "LIFECYCLE_INTERVAL": _env("LIFECYCLE_INTERVAL", "60s"),
        # How long a consultation's self-service link stays valid after the consultation starts.
        "SELF_SERVICE_GRACE": _env("SELF_SERVICE_GRACE", "1d"),
        # Closed leads untouched this long are erased by beat (e.g. 730d); empty keeps them.
        "RETENTION_CLOSED_AFTER": os.environ.get("RETENTION_CLOSED_AFTER", ""),
        "DISPATCH_INTERVAL": _env("DISPATCH_INTERVAL", "5s"),
        "BUSINESS_HOURS": os.environ.get("BUSINESS_HOURS", "Mon-Fri 09:00-18:00"),
        "DEFAULT_PHONE_REGION": _env("DEFAULT_PHONE_REGION", "US"),
        "DEDUPLICATION_WINDOW": _env("DEDUPLICATION_WINDOW", "30d"),
        # A new lead not contacted within this much business time is late on the dashboard.
        "RESPONSE_TARGET": _env("RESPONSE_TARGET", "1h"),
        # Origins allowed to frame the public form (the clinic's own site), space-separated.
        "FORM_FRAME_ANCESTORS": os.environ.get("FORM_FRAME_ANCESTORS", ""),
        # Coordinators are signed out after this long without a request, and after this long in all.
        "SESSION_IDLE_TIMEOUT": _env("SESSION_IDLE_TIMEOUT", "15m"),
        "SESSION_LIFETIME": _env("SESSION_LIFETIME", "12h"),
        "LOGIN_RATE_LIMIT": _env("LOGIN_RATE_LIMIT", "5 per 15 minutes"),
        "LOGIN_ADDRESS_RATE_LIMIT": _env("LOGIN_ADDRESS_RATE_LIMIT", "20 per 15 minutes"),
        "MIN_FILL_TIME": _env("MIN_FILL_TIME", "3s"),
        "INQUIRY_RATE_LIMIT": _env("INQUIRY_RATE_LIMIT", "10 per hour;30 per day"),
        # How long a send may hold its row before the sweep gives it to another worker.
        "SEND_LEASE": _env("SEND_LEASE", "5m"),
        # How long an enqueued row waits for a worker before the sweep enqueues it again.
        "QUEUE_LEASE": _env("QUEUE_LEASE", "10m"),
        "SEND_RETRY_BASE": _env("SEND_RETRY_BASE", "1m"),
        "SEND_MAX_ATTEMPTS": int(_env("SEND_MAX_ATTEMPTS", "8")),
        "SWEEP_BATCH_SIZE": int(_env("SWEEP_BATCH_SIZE", "500")),
        "TRUSTED_PROXIES": int(_env("TRUSTED_PROXIES", "0")),
        "MAX_CONTENT_LENGTH": int(_env("MAX_CONTENT_LENGTH", str(64 * 1024))),
        # When set, /metrics answers only to `Authorization: Bearer <METRICS_TOKEN>`.
        "METRICS_TOKEN": os.environ.get("METRICS_TOKEN", ""),
        "LOG_LEVEL": _env("LOG_LEVEL", "INFO"),
        # json: one JSON object per line for a log collector; text: for people at a terminal.
        "LOG_FORMAT": _env("LOG_FORMAT", "text"),
    }


def _normalise_database_url(url: str) -> str:
    # Heroku-style postgres:// URLs name no driver; psycopg 3 is the one installed.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url
