"""leads/dispatch.py against a real SMTP server: deliver one message, sweep the outbox."""

import smtplib
from datetime import timedelta

import pytest
import sqlalchemy as sa

from leads import dispatch, mailer
from leads.extensions import db
from leads.models import Message, MessageStatus, Suppression, SweepHeartbeat
from tests.factories import receive

M = MessageStatus
RETRY_BASE = timedelta(seconds=0.2)  # SEND_RETRY_BASE in the test config


@pytest.fixture
def messages(clocked_app, clock) -> dict[str, Message]:
    _, rows = receive(clock())
    return {row.kind: row for row in rows}


@pytest.fixture
def ack(messages) -> Message:
    return messages["inquiry_received"]


def fresh(message_id: int) -> Message:
    db.session.expire_all()
    return db.session.get(Message, message_id)


@pytest.fixture
def stopped_smtp(smtp_sink):
    smtp_sink.stop()
    return smtp_sink


def test_deliver_sends_the_message_and_marks_it_sent(ack, clock, smtp_sink):
    outcome = dispatch.deliver(ack.id)

    row = fresh(ack.id)
    assert outcome == "sent"
    assert (row.status, row.sent_at, row.attempts, row.lease_expires_at) == (M.SENT, clock(), 1, None)
    [email] = smtp_sink.to("dana.whitfield@example.org")
    assert email["Message-ID"] == mailer.message_id(row)
    assert email["Subject"] == "We received your message, Dana | Riverside Ketamine Clinic"


def test_deliver_sends_the_alert_to_the_clinic_inbox(messages, smtp_sink):
    assert dispatch.deliver(messages["new_lead_alert"].id) == "sent"

    assert len(smtp_sink.to("frontdesk@riverside.test")) == 1


def test_a_second_deliver_of_the_same_message_is_not_claimed(ack, smtp_sink):
    dispatch.deliver(ack.id)

    assert dispatch.deliver(ack.id) == "not claimed"
    assert len(smtp_sink.messages()) == 1


def test_deliver_does_not_send_a_message_before_it_is_due(clocked_app, clock, smtp_sink):
    _, rows = receive(clock() + timedelta(hours=1))

    assert dispatch.deliver(rows[0].id) == "not claimed"
    assert fresh(rows[0].id).status is M.SCHEDULED
    assert smtp_sink.messages() == []


def test_a_transient_smtp_error_puts_the_message_back_with_a_backoff(ack, clock, smtp_sink):
    smtp_sink.reply_next("451 4.3.0 try again later")

    outcome = dispatch.deliver(ack.id)

    row = fresh(ack.id)
    assert outcome == "retry"
    assert (row.status, row.attempts, row.lease_expires_at) == (M.SCHEDULED, 1, None)
    assert row.send_at == clock() + RETRY_BASE
    assert "451" in row.last_error
    assert smtp_sink.messages() == []


def test_a_retried_message_is_not_sent_before_its_backoff_ends(ack, smtp_sink):
    smtp_sink.reply_next("451 4.3.0 try again later")
    dispatch.deliver(ack.id)

    assert dispatch.deliver(ack.id) == "not claimed"
    assert smtp_sink.attempts == 1


def test_a_retried_message_is_sent_once_the_backoff_has_passed(ack, clock, smtp_sink):
    smtp_sink.reply_next("451 4.3.0 try again later")
    dispatch.deliver(ack.id)
    clock.advance(seconds=1)

    outcome = dispatch.deliver(ack.id)

    row = fresh(ack.id)
    assert outcome == "sent"
    assert (row.status, row.attempts, row.sent_at, row.last_error) == (M.SENT, 2, clock(), None)
    assert len(smtp_sink.messages()) == 1


def test_the_second_transient_error_waits_twice_as_long(ack, clock, smtp_sink):
    smtp_sink.reply_next("451 4.3.0 try again later", "452 4.3.1 insufficient storage")
    dispatch.deliver(ack.id)
    clock.advance(seconds=1)

    assert dispatch.deliver(ack.id) == "retry"

    row = fresh(ack.id)
    assert (row.attempts, row.send_at) == (2, clock() + 2 * RETRY_BASE)
    assert "452" in row.last_error


def test_a_421_reply_is_a_transient_error(ack, smtp_sink):
    smtp_sink.reply_next("421 4.4.2 closing connection")

    assert dispatch.deliver(ack.id) == "retry"
    assert fresh(ack.id).status is M.SCHEDULED


def test_a_421_reply_is_recorded_as_the_servers_reply(ack, smtp_sink):
    smtp_sink.reply_next("421 4.4.2 closing connection")

    dispatch.deliver(ack.id)

    assert "421" in fresh(ack.id).last_error


def test_a_connection_lost_after_the_message_was_accepted_still_counts_as_sent(ack, clock, smtp_sink, monkeypatch):
    def dropped(self):
        self.close()
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")

    monkeypatch.setattr(smtplib.SMTP, "quit", dropped)

    outcome = dispatch.deliver(ack.id)

    assert len(smtp_sink.messages()) == 1
    assert outcome == "sent"


def test_a_permanent_smtp_error_fails_the_message_without_retry(ack, clock, smtp_sink):
    smtp_sink.reply_next("550 5.1.1 no such user")

    outcome = dispatch.deliver(ack.id)

    row = fresh(ack.id)
    assert outcome == "failed"
    assert (row.status, row.lease_expires_at, row.sent_at) == (M.FAILED, None, None)
    assert "550" in row.last_error
    clock.advance(hours=1)
    assert dispatch.deliver(ack.id) == "not claimed"
    assert smtp_sink.attempts == 1


def test_an_unreachable_smtp_server_is_a_transient_error(ack, clock, stopped_smtp):
    outcome = dispatch.deliver(ack.id)

    row = fresh(ack.id)
    assert outcome == "retry"
    assert row.status is M.SCHEDULED
    assert row.send_at == clock() + RETRY_BASE
    assert "ConnectionRefusedError" in row.last_error
    assert stopped_smtp.attempts == 0


def test_a_message_goes_once_the_smtp_server_is_back(ack, clock, smtp_sink):
    smtp_sink.stop()
    dispatch.deliver(ack.id)
    smtp_sink.start()
    clock.advance(seconds=1)

    assert dispatch.deliver(ack.id) == "sent"
    assert len(smtp_sink.messages()) == 1


def test_transient_errors_fail_the_message_after_the_last_attempt(clocked_app, ack, smtp_sink):
    clocked_app.config["SEND_MAX_ATTEMPTS"] = 1
    smtp_sink.reply_next("451 4.3.0 try again later")

    dispatch.deliver(ack.id)

    row = fresh(ack.id)
    assert row.status is M.FAILED
    assert row.last_error.startswith("gave up after 1 attempts: 451")


def test_deliver_reports_failed_when_it_gives_up(clocked_app, ack, smtp_sink):
    clocked_app.config["SEND_MAX_ATTEMPTS"] = 1
    smtp_sink.reply_next("451 4.3.0 try again later")

    assert dispatch.deliver(ack.id) == "failed"


def test_a_suppressed_recipient_is_skipped_and_nothing_is_sent(ack, clock, smtp_sink):
    db.session.add(Suppression(email="dana.whitfield@example.org", reason="bounced", created_at=clock()))
    db.session.commit()

    outcome = dispatch.deliver(ack.id)

    row = fresh(ack.id)
    assert outcome == "skipped"
    assert (row.status, row.sent_at) == (M.SKIPPED, None)
    assert "suppressed" in row.last_error
    assert smtp_sink.attempts == 0


def test_sweep_queues_due_messages_and_returns_their_ids(messages, clock):
    claimed = dispatch.sweep()

    assert sorted(claimed) == sorted(row.id for row in messages.values())
    for row in messages.values():
        current = fresh(row.id)
        assert (current.status, current.lease_expires_at) == (M.QUEUED, clock() + timedelta(seconds=3))


def test_sweep_leaves_messages_that_are_not_due(clocked_app, clock):
    receive(clock() + timedelta(minutes=5))

    assert dispatch.sweep() == []
    assert set(db.session.scalars(sa.select(Message.status))) == {M.SCHEDULED}


def test_a_second_sweep_does_not_claim_the_same_messages_again(messages):
    dispatch.sweep()

    assert dispatch.sweep() == []


def test_sweep_records_its_heartbeat(clocked_app, clock):
    dispatch.sweep()
    clock.advance(seconds=5)
    dispatch.sweep()

    db.session.expire_all()
    [beat] = db.session.scalars(sa.select(SweepHeartbeat)).all()
    assert (beat.swept_at, beat.sweeps) == (clock(), 2)


def test_sweep_recovers_a_message_whose_sending_lease_expired(ack, clock):
    ack.status = M.SENDING
    ack.attempts = 1
    ack.lease_expires_at = clock() + timedelta(seconds=3)
    db.session.commit()
    clock.advance(seconds=4)

    claimed = dispatch.sweep()

    row = fresh(ack.id)
    assert ack.id in claimed
    assert (row.status, row.lease_expires_at) == (M.QUEUED, clock() + timedelta(seconds=3))


def test_sweep_leaves_a_message_whose_sending_lease_still_runs(ack, clock):
    ack.status = M.SENDING
    ack.lease_expires_at = clock() + timedelta(seconds=3)
    db.session.commit()
    clock.advance(seconds=2)

    claimed = dispatch.sweep()

    assert ack.id not in claimed
    assert fresh(ack.id).status is M.SENDING


def test_a_swept_message_is_then_delivered(ack, smtp_sink):
    dispatch.sweep()

    assert dispatch.deliver(ack.id) == "sent"
    assert len(smtp_sink.to("dana.whitfield@example.org")) == 1


def test_consecutive_sends_share_one_smtp_connection(messages, smtp_sink):
    for message in messages.values():
        assert dispatch.deliver(message.id) == "sent"

    assert len(smtp_sink.messages()) == 2
    assert smtp_sink.greetings == 1


def test_a_connection_the_server_dropped_is_replaced_before_the_next_send(messages, smtp_sink):
    ack, alert = messages["inquiry_received"], messages["new_lead_alert"]
    assert dispatch.deliver(ack.id) == "sent"
    smtp_sink.stop()
    smtp_sink.start()

    assert dispatch.deliver(alert.id) == "sent"
    assert smtp_sink.greetings == 2
