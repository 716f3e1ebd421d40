"""Dispatch: emails per second from due outbox rows to an SMTP server with one Celery worker
(2 processes), against a plain loop sending the same rendered messages over one persistent SMTP
connection, measured in the same run.

Run: python -m bench.dispatch   (BENCH_MESSAGES=2000, BENCH_DATABASE=postgresql|sqlite)
"""

import json
import os
import smtplib
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import flask_migrate
import psycopg
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from flask import current_app

from leads import create_app, mailer
from leads.clinics import ensure_default_clinic
from leads.config import PROJECT_ROOT
from leads.dev import embedded_redis
from leads.extensions import db
from leads.models import Condition, Lead, LeadStatus, Message, MessageStatus, PreferredContact
from leads.queue import WORKER_FLAGS

RESULTS = PROJECT_ROOT / "bench" / "results"
POSTGRES_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


class CountingSink:
    """An SMTP server that counts what it accepts."""

    def __init__(self, port: int) -> None:
        self.count = 0
        self.lock = threading.Lock()
        self.controller = Controller(self, hostname="127.0.0.1", port=port)

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.count += 1
        return "250 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def database_url(kind: str, workdir: Path) -> tuple[str, str | None]:
    if kind == "sqlite":
        return f"sqlite:///{workdir / 'bench.sqlite3'}", None
    name = f"leads_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    url = sa.engine.make_url(POSTGRES_ADMIN_URL.replace("postgresql://", "postgresql+psycopg://", 1)).set(database=name)
    return url.render_as_string(hide_password=False), name


def seed(count: int, now: datetime) -> None:
    """`count` leads, each with one acknowledgment due now."""
    clinic = ensure_default_clinic(db.session, current_app.config)
    db.session.flush()
    leads = [
        {
            "public_id": uuid.uuid4(),
            "clinic_id": clinic.id,
            "first_name": "Bench",
            "last_name": f"Person{number}",
            "email": f"bench{number}@example.org",
            "phone": "+12015550143",
            "preferred_contact": PreferredContact.EMAIL,
            "condition": Condition.MIGRAINE,
            "message": "",
            "heard_about": "",
            "source": "api",
            "utm_source": "",
            "utm_medium": "",
            "utm_campaign": "",
            "referrer": "",
            "consent_text": "I agree.",
            "consent_at": now,
            "consent_ip": "",
            "status": LeadStatus.NEW,
            "created_at": now,
            "updated_at": now,
            "last_inquiry_at": now,
        }
        for number in range(count)
    ]
    db.session.execute(sa.insert(Lead), leads)
    ids = db.session.execute(sa.select(Lead.id, Lead.email).order_by(Lead.id)).all()
    db.session.execute(
        sa.insert(Message),
        [
            {
                "public_id": uuid.uuid4(),
                "kind": "inquiry_received",
                "lead_id": lead_id,
                "recipient": email,
                "send_at": now,
                "status": MessageStatus.SCHEDULED,
                "attempts": 0,
                "dedupe_key": f"bench:{lead_id}",
                "created_at": now,
                "updated_at": now,
            }
            for lead_id, email in ids
        ],
    )
    db.session.commit()


def baseline_rate(app, port: int) -> float:
    """Messages per second for a plain loop over one persistent SMTP connection."""
    with app.app_context():
        emails = [mailer.build(message) for message in db.session.scalars(sa.select(Message).order_by(Message.id))]
        rendered = [(email.sender, email.recipients[0], email.as_bytes()) for email in emails]
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as connection:
        for sender, recipient, body in rendered:
            connection.sendmail(sender, [recipient], body)
    return len(rendered) / (time.perf_counter() - started)


def worker_rate(config: dict, sink: CountingSink, count: int, workdir: Path) -> tuple[float, float]:
    """Messages per second from due rows to the SMTP server with one worker of 2 processes and beat."""
    env = {**os.environ, **{key: str(value) for key, value in config.items()}}
    log = (workdir / "worker.log").open("w")
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "worker",
            "worker",
            "--beat",
            *WORKER_FLAGS,
            "--concurrency",
            "2",
            "--loglevel",
            "WARNING",
            "--schedule",
            str(workdir / "beat"),
        ],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        started = time.perf_counter()
        first = None
        while sink.count < count:
            if worker.poll() is not None:
                raise RuntimeError(f"the worker exited; see {workdir / 'worker.log'}")
            if first is None and sink.count:
                first = time.perf_counter()
            time.sleep(0.01)
        finished = time.perf_counter()
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        log.close()
    # From the first email, so worker start-up is not counted; the total is reported beside it.
    return count / (finished - (first or started)), finished - started


def main() -> None:
    count = int(os.environ.get("BENCH_MESSAGES", "2000"))
    kind = os.environ.get("BENCH_DATABASE", "postgresql")
    workdir = Path(tempfile.mkdtemp(prefix="leads-bench-"))
    redis_port, smtp_port = free_port(), free_port()
    redis_server = embedded_redis.start(redis_port, workdir / "redis")
    url, pg_name = database_url(kind, workdir)
    sink = CountingSink(smtp_port)
    sink.controller.start()
    config = {
        "DATABASE_URL": url,
        "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": smtp_port,
        "LEADS_INSTANCE_PATH": str(workdir / "instance"),
        "DISPATCH_INTERVAL": "1s",
        "SECRET_KEY": "bench",
        "LOG_LEVEL": "WARNING",
    }
    try:
        os.environ.update({key: str(value) for key, value in config.items()})
        app = create_app()
        with app.app_context():
            flask_migrate.upgrade()
            seed(count, datetime.now(UTC))
        baseline = baseline_rate(app, smtp_port)
        sink.count = 0
        leads_rate, total_seconds = worker_rate(config, sink, count, workdir)
        with app.app_context():
            db.engine.dispose()
    finally:
        sink.controller.stop()
        redis_server.terminate()
        if pg_name:
            with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as connection:
                connection.execute(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')
    figures = {
        "figure": "dispatch",
        "database": kind,
        "messages": count,
        "baseline_emails_per_second": round(baseline, 1),
        "leads_emails_per_second": round(leads_rate, 1),
        "ratio": round(leads_rate / baseline, 3),
        "goal_ratio": 0.5,
        "leads_total_seconds_including_worker_start": round(total_seconds, 2),
        "machine": f"{os.cpu_count()} cores",
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "dispatch.json").write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
