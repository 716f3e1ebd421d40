"""End to end with real parts: the app, a Celery worker process with beat, Redis and an SMTP server."""

import re

import pytest
import sqlalchemy as sa

from leads.extensions import db
from leads.models import Lead, Message, MessageStatus, SweepHeartbeat
from tests.factories import form_data, inquiry_payload
from tests.processes import wait_for

pytestmark = pytest.mark.integration

PROSPECT = "dana.whitfield@example.org"
CLINIC_INBOX = "frontdesk@riverside.test"


def submit_form(client, **overrides):
    page = client.get("/inquire").get_data(as_text=True)
    token = re.search(r'name="form_token" value="([^"]+)"', page).group(1)
    return client.post("/inquire", data=form_data(form_token=token, **overrides))


def messages(app) -> list[Message]:
    with app.app_context():
        rows = db.session.scalars(sa.select(Message).order_by(Message.id)).all()
        db.session.expunge_all()
        return rows


def sweeps(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(SweepHeartbeat.sweeps)) or 0


def after_more_sweeps(app, count: int = 2) -> None:
    """Wait until beat has swept `count` more times, so anything still due would have gone out."""
    target = sweeps(app) + count
    wait_for(lambda: sweeps(app) >= target, timeout=30, message=f"{count} more sweeps")


def all_sent(app, expected: int) -> bool:
    rows = messages(app)
    return len(rows) == expected and all(row.status == MessageStatus.SENT for row in rows)


def test_form_submission_emails_the_prospect_and_the_clinic_exactly_once(app, client, worker, smtp_sink):
    response = submit_form(client)
    assert response.status_code == 302

    wait_for(lambda: len(smtp_sink.messages()) == 2, message="both emails")
    after_more_sweeps(app)

    assert len(smtp_sink.to(PROSPECT)) == 1
    assert len(smtp_sink.to(CLINIC_INBOX)) == 1
    rows = {row.kind: row for row in messages(app)}
    assert {kind: row.status for kind, row in rows.items()} == {
        "inquiry_received": MessageStatus.SENT,
        "new_lead_alert": MessageStatus.SENT,
    }
    for email, row in (
        (smtp_sink.to(PROSPECT)[0], rows["inquiry_received"]),
        (smtp_sink.to(CLINIC_INBOX)[0], rows["new_lead_alert"]),
    ):
        assert email["Message-ID"] == f"<{row.public_id}@riverside.test>"
        assert email["From"] == "Riverside Ketamine Clinic <care@riverside.test>"
        assert email.get_body(("plain",)) is not None and email.get_body(("html",)) is not None
        for secret in ("depression", "Three medications", "psychiatrist"):
            assert secret not in email.as_string()
    acknowledgment = smtp_sink.to(PROSPECT)[0]
    assert acknowledgment["Reply-To"] == CLINIC_INBOX
    assert "Riverside Ketamine Clinic" in acknowledgment.get_body(("plain",)).get_content()
    with app.app_context():
        lead = db.session.scalar(sa.select(Lead))
    alert_text = smtp_sink.to(CLINIC_INBOX)[0].get_body(("plain",)).get_content()
    assert f"http://clinic.test/leads/{lead.public_id}" in alert_text
    assert "Whitfield" not in alert_text


def test_a_submission_while_redis_is_down_is_kept_and_sent_once_redis_is_back(
    app, client, worker, smtp_sink, redis_server
):
    redis_server.stop()
    try:
        response = client.post("/api/v1/inquiries", json=inquiry_payload())
        assert response.status_code == 201
        assert [row.status for row in messages(app)] == [MessageStatus.SCHEDULED] * 2
        assert smtp_sink.messages() == []
    finally:
        redis_server.start()

    # Celery's consumer reconnects with a growing pause (2 s, 4 s, 6 s, …).
    wait_for(lambda: all_sent(app, 2), timeout=120, message="the sends after Redis came back")
    after_more_sweeps(app)
    assert len(smtp_sink.to(PROSPECT)) == 1
    assert len(smtp_sink.to(CLINIC_INBOX)) == 1


def test_a_451_is_retried_and_the_message_sent_once(app, client, worker, smtp_sink):
    smtp_sink.reply_next("451 4.3.0 Mailbox busy, try again later", to=PROSPECT)

    client.post("/api/v1/inquiries", json=inquiry_payload())

    wait_for(lambda: all_sent(app, 2), message="both sends, one after a retry")
    after_more_sweeps(app)
    assert smtp_sink.attempts_to[PROSPECT] == 2
    assert len(smtp_sink.to(PROSPECT)) == 1
    acknowledgment = next(row for row in messages(app) if row.kind == "inquiry_received")
    assert acknowledgment.attempts == 2


def test_a_550_fails_the_message_at_once_and_visibly(app, client, worker, smtp_sink):
    smtp_sink.reply_next("550 5.1.1 No such user here", to=PROSPECT)

    client.post("/api/v1/inquiries", json=inquiry_payload())

    def acknowledgment() -> Message:
        return next(row for row in messages(app) if row.kind == "inquiry_received")

    wait_for(lambda: acknowledgment().status == MessageStatus.FAILED, message="the refused message to fail")
    wait_for(lambda: len(smtp_sink.to(CLINIC_INBOX)) == 1, message="the alert")
    after_more_sweeps(app)
    assert smtp_sink.attempts_to[PROSPECT] == 1
    assert "550" in acknowledgment().last_error
    assert acknowledgment().attempts == 1


def test_a_worker_killed_mid_send_loses_nothing_and_sends_nothing_twice(app, client, worker, smtp_sink):
    smtp_sink.rcpt_delay = 1.0
    for number in range(5):
        response = client.post("/api/v1/inquiries", json=inquiry_payload(email=f"person{number}@example.org"))
        assert response.status_code == 201
    wait_for(lambda: smtp_sink.rcpts_started >= 1, message="a send in progress")

    worker.kill()
    smtp_sink.rcpt_delay = 0.0
    worker.start()

    wait_for(lambda: all_sent(app, 10), timeout=60, message="every message after the restart")
    after_more_sweeps(app)
    message_ids = [email["Message-ID"] for email in smtp_sink.messages()]
    assert len(message_ids) == 10
    assert len(set(message_ids)) == 10
    # The send cut off by the kill was taken again once its lease ran out.
    assert any(row.attempts == 2 for row in messages(app))
