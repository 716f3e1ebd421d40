"""Scaling out: two workers, each with a beat of its own (as if beat were started twice by
mistake), share one database and one Redis, and still send every email exactly once."""

import pytest
import sqlalchemy as sa

from leads.extensions import db
from leads.models import Message, MessageStatus, SweepHeartbeat
from tests.factories import inquiry_payload
from tests.processes import CeleryWorker, wait_for

pytestmark = pytest.mark.integration


@pytest.fixture
def two_workers_two_beats(app_config, tmp_path):
    workers = [CeleryWorker(app_config, tmp_path / f"worker-{number}") for number in (1, 2)]
    for worker in workers:
        worker.start()
    yield workers
    for worker in workers:
        worker.stop()


def all_sent(app, expected: int) -> bool:
    with app.app_context():
        statuses = db.session.scalars(sa.select(Message.status)).all()
    return len(statuses) == expected and set(statuses) == {MessageStatus.SENT}


def test_two_beats_and_two_workers_send_each_email_once(app, client, smtp_sink, two_workers_two_beats):
    for number in range(15):
        response = client.post("/api/v1/inquiries", json=inquiry_payload(email=f"person{number}@example.org"))
        assert response.status_code == 201

    wait_for(lambda: all_sent(app, 30), timeout=90, message="all 30 emails")
    target = sweeps(app) + 4
    wait_for(lambda: sweeps(app) >= target, timeout=30, message="more sweeps by both beats")

    message_ids = [email["Message-ID"] for email in smtp_sink.messages()]
    assert len(message_ids) == 30
    assert len(set(message_ids)) == 30


def sweeps(app) -> int:
    with app.app_context():
        return db.session.get(SweepHeartbeat, 1).sweeps
