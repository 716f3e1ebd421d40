"""Shared fixtures: the app on SQLite and PostgreSQL, a real Redis, a real SMTP server, a real worker."""

import os
import socket
import threading
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import flask_migrate
import psycopg
import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher
from werkzeug.serving import make_server

from leads import accounts, create_app, mailer
from leads.clinics import ensure_default_clinic
from leads.extensions import db
from leads.models import Role
from tests.processes import CeleryWorker, RedisServer
from tests.smtp_sink import SmtpSink

POSTGRES_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
# CI sets this so that a PostgreSQL server that is missing fails the run instead of skipping.
REQUIRE_POSTGRES = os.environ.get("LEADS_REQUIRE_POSTGRES") == "1"
BACKENDS = ["sqlite", "postgresql"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class FakeClock:
    """A clock that moves only when told to."""

    def __init__(self, start: datetime | None = None) -> None:
        self.current = start or datetime(2026, 3, 2, 15, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.current

    def advance(self, **delta) -> datetime:
        self.current += timedelta(**delta)
        return self.current


@pytest.fixture(scope="session", autouse=True)
def cheap_password_hashing():
    """Argon2 at its lowest cost: the suite creates hundreds of accounts, and the cost is not under test."""
    production = accounts._hasher
    accounts._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    yield
    accounts._hasher = production


# --- databases -------------------------------------------------------------------------------


def _create_postgres_database() -> str:
    name = f"leads_test_{uuid.uuid4().hex[:10]}"
    try:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=3) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as error:
        reason = f"PostgreSQL is not reachable at {POSTGRES_ADMIN_URL} ({error}); set TEST_POSTGRES_URL"
        if REQUIRE_POSTGRES:
            pytest.fail(reason)
        pytest.skip(reason)
    return name


def _drop_postgres_database(name: str) -> None:
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _postgres_url(name: str) -> str:
    base = sa.engine.make_url(POSTGRES_ADMIN_URL.replace("postgresql://", "postgresql+psycopg://", 1))
    return base.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request, tmp_path_factory):
    """A migrated, empty database on each backend, shared by the tests of a session."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'leads.sqlite3'}"
        name = None
    else:
        name = _create_postgres_database()
        url = _postgres_url(name)
    app = create_app(_base_config(url, "redis://127.0.0.1:1/0", tmp_path_factory.mktemp("instance")))
    with app.app_context():
        flask_migrate.upgrade()
        db.engine.dispose()
    yield url
    if name:
        _drop_postgres_database(name)


# --- services ----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    server = RedisServer(free_port(), tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def smtp_sink():
    sink = SmtpSink(free_port())
    sink.start()
    yield sink
    sink.stop()


# --- the app -----------------------------------------------------------------------------------


def _base_config(database_url: str, redis_url: str, instance: Path) -> dict:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "INSTANCE_PATH": str(instance),
        "SQLALCHEMY_DATABASE_URI": database_url,
        "REDIS_URL": redis_url,
        "PUBLIC_BASE_URL": "http://clinic.test",
        "MAIL_DEFAULT_SENDER": "Riverside Ketamine Clinic <care@riverside.test>",
        "CLINIC_INBOX": "frontdesk@riverside.test",
        "MIN_FILL_TIME": "0s",
        "INQUIRY_RATE_LIMIT": "10000 per minute",
        "DISPATCH_INTERVAL": "0.3s",
        "SEND_RETRY_BASE": "0.2s",
        "SEND_LEASE": "3s",
        "QUEUE_LEASE": "3s",
        # No follow-ups unless a test asks for them, so each test sees only the emails it is about.
        "FOLLOWUP_SCHEDULE": "",
    }


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def app_config(database_url, redis_server, tmp_path, smtp_sink):
    config = _base_config(database_url, redis_server.url, tmp_path / "instance")
    config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp_sink.port, RATELIMIT_STORAGE_URI="memory://")
    return config


@pytest.fixture
def app(app_config, redis_server):
    app = create_app(app_config)
    with app.app_context():
        _empty_all_tables()
    redis_server.flush()
    yield app
    mailer.close_connections()
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _empty_all_tables() -> None:
    with db.engine.begin() as connection:
        for table in reversed(db.metadata.sorted_tables):
            connection.execute(table.delete())


@pytest.fixture
def make_app(app, app_config):
    """Build apps from the test config with some settings changed; dispose of their engines after."""
    made = []

    def make(**changes):
        made.append(create_app(app_config | changes))
        return made[-1]

    yield make
    for other in made:
        with other.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def clocked_app(app, clock):
    """The app with a fake clock, inside an app context."""
    app.config["CLOCK"] = clock
    with app.app_context():
        yield app


@pytest.fixture
def followup_app(clocked_app):
    """Follow-ups at 1, 3 and 7 days, at any hour: the clinic row's hours are what count."""
    clocked_app.config["FOLLOWUP_SCHEDULE"] = "1d,3d,7d"
    clocked_app.config["BUSINESS_HOURS"] = ""
    clocked_app.extensions.pop("leads_policy", None)
    ensure_default_clinic(db.session, clocked_app.config).business_hours = ""
    db.session.commit()
    return clocked_app


@pytest.fixture
def coordinator(clocked_app):
    """An admin account, sam@riverside.example, for the actor of domain changes."""
    person = accounts.create_coordinator(
        db.session, email="sam@riverside.example", password="a long pass phrase", role=Role.ADMIN
    )
    db.session.commit()
    return person


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture
def worker(app_config, tmp_path, request):
    """A real Celery worker process (with its beat) against the test database, Redis and SMTP server."""
    process = CeleryWorker(app_config, tmp_path / "worker")
    process.start()
    yield process
    process.stop()
    if getattr(request.node, "report_call", None) is not None and request.node.report_call.failed:
        print(f"--- worker log ({process.log_path}) ---\n{process.log()[-20000:]}")


# --- a live server and a real browser ------------------------------------------------------------

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
# CI sets this so that a missing browser fails the run instead of skipping the browser tests.
REQUIRE_BROWSER = os.environ.get("LEADS_REQUIRE_BROWSER") == "1"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
def live_server(app):
    """The app served over real HTTP on a local port, in a thread."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        reason = f"no Chromium at {CHROMIUM}; install Debian's chromium or set CHROMIUM_PATH"
        if REQUIRE_BROWSER:
            pytest.fail(reason)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context()
    page = context.new_page()
    yield page
    context.close()
