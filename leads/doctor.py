"""`flask --app leads doctor`: check everything the system needs and say what is wrong in plain words."""

import re
import smtplib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import redis
import sqlalchemy as sa
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import current_app
from flask_migrate import Migrate

from leads import clock, mailer
from leads.durations import parse_seconds
from leads.extensions import db
from leads.models import SweepHeartbeat


@dataclass(frozen=True)
class Finding:
    name: str
    ok: bool
    detail: str


def database() -> Finding:
    try:
        db.session.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError as error:
        db.session.rollback()
        return Finding("database", False, f"cannot connect ({type(error.orig or error).__name__}); check DATABASE_URL")
    return Finding("database", True, f"answers ({db.engine.dialect.name})")


def migrations() -> Finding:
    migrate: Migrate = current_app.extensions["migrate"]
    config = migrate.migrate.get_config(migrate.directory)
    heads = set(ScriptDirectory.from_config(config).get_heads())
    try:
        with db.engine.connect() as connection:
            current = set(MigrationContext.configure(connection).get_current_heads())
    except sa.exc.SQLAlchemyError:
        return Finding("migrations", False, "cannot read the schema version (is the database up?)")
    if current != heads:
        return Finding(
            "migrations",
            False,
            f"the schema is at {sorted(current) or 'nothing'}, the code wants {sorted(heads)}: run `flask --app leads db upgrade`",
        )
    return Finding("migrations", True, f"up to date ({', '.join(sorted(heads))})")


def broker() -> Finding:
    url = current_app.config["REDIS_URL"]
    client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
    try:
        client.ping()
    except redis.RedisError as error:
        return Finding(
            "redis",
            False,
            f"{_without_password(url)} does not answer ({error}); sends wait in the outbox until it does",
        )
    finally:
        client.close()
    return Finding("redis", True, f"{_without_password(url)} answers")


def smtp() -> Finding:
    config = current_app.config
    where = f"{config['MAIL_SERVER']}:{config['MAIL_PORT']}"
    try:
        with mailer.open_smtp():
            pass
    except smtplib.SMTPAuthenticationError:
        return Finding("smtp", False, f"{where} refuses MAIL_USERNAME/MAIL_PASSWORD")
    except (smtplib.SMTPException, OSError) as error:
        return Finding("smtp", False, f"cannot talk to {where} ({type(error).__name__}: {error})")
    return Finding("smtp", True, f"{where} accepts us")


def beat() -> Finding:
    try:
        heartbeat = db.session.get(SweepHeartbeat, 1)
    except sa.exc.SQLAlchemyError:
        db.session.rollback()
        return Finding("beat", False, "cannot read the last sweep (is the database up?)")
    if heartbeat is None:
        return Finding("beat", False, "no sweep has ever run: is `celery -A worker beat` running, with a worker?")
    interval = parse_seconds(current_app.config["DISPATCH_INTERVAL"])
    late_after = timedelta(seconds=max(3 * interval, 60))
    age = clock.now() - heartbeat.swept_at
    if age > late_after:
        return Finding(
            "beat", False, f"the last sweep was {int(age.total_seconds())} s ago: beat or every worker is down"
        )
    return Finding("beat", True, f"last sweep {int(age.total_seconds())} s ago")


CHECKS: list[Callable[[], Finding]] = [database, migrations, broker, smtp, beat]


def examine() -> list[Finding]:
    return [check() for check in CHECKS]


def _without_password(url: str) -> str:
    return re.sub(r"//[^@/]*@", "//***@", url)
