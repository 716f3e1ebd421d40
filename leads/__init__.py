"""leads: consultation lead management for clinics. `create_app` is the only place extensions are bound."""

from collections.abc import Mapping
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Flask
from sqlalchemy import event
from werkzeug.middleware.proxy_fix import ProxyFix

from leads import accounts, cli, config, errors, health, logs, metrics, security
from leads.api import bp as api_bp
from leads.cadence import BusinessHours
from leads.clock import local_time
from leads.contact import display_phone
from leads.dashboard import bp as dashboard_bp
from leads.durations import parse_duration, parse_seconds
from leads.extensions import csrf, db, limiter, login_manager, mail, migrate
from leads.inquiry_form import CONDITION_LABELS, CONTACT_LABELS, FIELD_LIMITS, HEARD_ABOUT_SUGGESTIONS
from leads.policy import Policy
from leads.public import bp as public_bp
from leads.queue import celery_init_app

PROJECT_ROOT = config.PROJECT_ROOT


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app from the environment, then from `test_config` when given."""
    settings = config.from_environment()
    if test_config:
        settings.update(test_config)
    app = Flask(
        __name__,
        instance_path=settings["INSTANCE_PATH"],
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    app.config.from_mapping(settings)
    check_settings(app)
    configure_defaults(app)
    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_commands(app)
    register_celery(app)
    register_template_globals(app)
    return app


def check_settings(app: Flask) -> None:
    """Refuse to start on a setting that would only fail later, in a worker, at 3 a.m."""
    checks = {
        "FOLLOWUP_SCHEDULE, REMINDER_OFFSETS, UNRESPONSIVE_AFTER or DEDUPLICATION_WINDOW": lambda: Policy.from_config(
            app.config
        ),
        "BUSINESS_HOURS": lambda: BusinessHours.parse(app.config["BUSINESS_HOURS"]),
        "CLINIC_TIMEZONE": lambda: ZoneInfo(app.config["CLINIC_TIMEZONE"]),
        "DISPATCH_INTERVAL": lambda: parse_seconds(app.config["DISPATCH_INTERVAL"]),
        "LIFECYCLE_INTERVAL": lambda: parse_seconds(app.config["LIFECYCLE_INTERVAL"]),
        "a duration (SEND_LEASE, QUEUE_LEASE, …)": lambda: [
            parse_seconds(app.config[name])
            for name in (
                "RETENTION_CLOSED_AFTER",
                "SEND_LEASE",
                "QUEUE_LEASE",
                "SEND_RETRY_BASE",
                "SELF_SERVICE_GRACE",
                "MIN_FILL_TIME",
                "RESPONSE_TARGET",
                "SESSION_IDLE_TIMEOUT",
                "SESSION_LIFETIME",
            )
            if app.config[name]
        ],
    }
    for names, check in checks.items():
        try:
            check()
        except (ValueError, KeyError, ZoneInfoNotFoundError) as error:
            raise RuntimeError(f"Invalid setting ({names}): {error}") from None


def configure_defaults(app: Flask) -> None:
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", _engine_options(app.config["SQLALCHEMY_DATABASE_URI"]))
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config["REDIS_URL"])
    # A rate limiter whose Redis is away must not turn away a prospect: count in memory meanwhile.
    app.config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    app.config.setdefault("RATELIMIT_SWALLOW_ERRORS", True)
    app.config.setdefault("RATELIMIT_STORAGE_OPTIONS", {"socket_connect_timeout": 1, "socket_timeout": 1})
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    app.config.setdefault("SESSION_COOKIE_HTTPONLY", True)
    app.config.setdefault("SESSION_COOKIE_SAMESITE", "Lax")
    app.config.setdefault("SESSION_COOKIE_SECURE", app.config["PUBLIC_BASE_URL"].startswith("https://"))
    app.config.setdefault("REMEMBER_COOKIE_SECURE", app.config["SESSION_COOKIE_SECURE"])
    app.config.setdefault("PERMANENT_SESSION_LIFETIME", parse_duration(app.config["SESSION_LIFETIME"]))
    if app.config["TRUSTED_PROXIES"]:
        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    if not app.testing:
        logs.configure(app.config["LOG_LEVEL"], app.config["LOG_FORMAT"])


def _engine_options(url: str) -> dict[str, Any]:
    if url.startswith("sqlite"):
        # Web, worker and beat share one file: wait for the writer instead of failing at once.
        return {"connect_args": {"timeout": 30}}
    return {"pool_pre_ping": True}


def register_extensions(app: Flask) -> None:
    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"), render_as_batch=True)
    mail.init_app(app)
    csrf.init_app(app)
    login_manager.init_app(app)
    limiter.init_app(app)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        with app.app_context():
            _use_sqlite_wal(db.engine)


def _use_sqlite_wal(engine) -> None:
    @event.listens_for(engine, "connect")
    def set_pragmas(dbapi_connection, _record) -> None:
        cursor = dbapi_connection.cursor()
        # WAL lets the dashboard read while a worker writes; foreign keys are off by default.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()


def register_blueprints(app: Flask) -> None:
    app.register_blueprint(health.bp)
    app.register_blueprint(metrics.bp)
    app.register_blueprint(public_bp)
    app.register_blueprint(api_bp, url_prefix="/api/v1")
    app.register_blueprint(dashboard_bp)
    csrf.exempt(api_bp)
    accounts.init_app(app)
    security.init_app(app)
    logs.init_app(app)


def register_errorhandlers(app: Flask) -> None:
    errors.init_app(app)


def register_commands(app: Flask) -> None:
    cli.init_app(app)


def register_template_globals(app: Flask) -> None:
    app.jinja_env.globals.update(
        contact_labels=CONTACT_LABELS,
        condition_labels=CONDITION_LABELS,
        field_limits=FIELD_LIMITS,
        heard_about_suggestions=HEARD_ABOUT_SUGGESTIONS,
    )
    app.jinja_env.filters["display_phone"] = display_phone
    app.jinja_env.filters["local_time"] = local_time


def register_celery(app: Flask) -> None:
    celery_init_app(app)
