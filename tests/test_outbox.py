"""leads/outbox.py: scheduling, claiming, retrying and cancelling messages."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from leads import outbox
from leads.extensions import db
from leads.models import Lead, Message, MessageStatus, Suppression
from tests.factories import receive

M = MessageStatus
QUEUE_LEASE = timedelta(minutes=10)
SEND_LEASE = timedelta(minutes=5)


@pytest.fixture
def lead(clocked_app, clock) -> Lead:
    """A lead whose inquiry messages are already out of the way (sent)."""
    lead, messages = receive(clock())
    for message in messages:
        message.status = M.SENT
    db.session.commit()
    return lead


def add(lead: Lead, key: str, send_at, status: MessageStatus = M.SCHEDULED, **values) -> Message:
    kind = values.pop("kind", "followup_1")
    message = outbox.schedule(db.session, kind=kind, lead=lead, recipient=lead.email, send_at=send_at, dedupe_key=key)
    message.status = status
    for name, value in values.items():
        setattr(message, name, value)
    db.session.commit()
    return message


def fresh(message: Message) -> Message:
    db.session.expire_all()
    return db.session.get(Message, message.id)


def count_keys(*keys: str) -> int:
    return db.session.scalar(sa.select(sa.func.count()).where(Message.dedupe_key.in_(keys)))


# --- schedule --------------------------------------------------------------------------------


def test_schedule_adds_a_scheduled_row(lead, clock):
    message = outbox.schedule(
        db.session, kind="followup_1", lead=lead, recipient=lead.email, send_at=clock(), dedupe_key="f1"
    )
    db.session.commit()

    row = fresh(message)
    assert (row.kind, row.recipient, row.status, row.attempts) == ("followup_1", lead.email, M.SCHEDULED, 0)
    assert row.send_at == clock()


def test_schedule_returns_none_for_a_duplicate_key(lead, clock):
    add(lead, "reminder:1:24h", clock())

    again = outbox.schedule(
        db.session, kind="followup_1", lead=lead, recipient=lead.email, send_at=clock(), dedupe_key="reminder:1:24h"
    )

    assert again is None
    db.session.commit()
    assert count_keys("reminder:1:24h") == 1


def test_duplicate_key_keeps_the_callers_transaction_usable(lead, clock):
    first = outbox.schedule(
        db.session, kind="followup_1", lead=lead, recipient=lead.email, send_at=clock(), dedupe_key="k1"
    )
    duplicate = outbox.schedule(
        db.session, kind="followup_1", lead=lead, recipient=lead.email, send_at=clock(), dedupe_key="k1"
    )
    lead.first_name = "Danielle"
    later = outbox.schedule(
        db.session, kind="followup_2", lead=lead, recipient=lead.email, send_at=clock(), dedupe_key="k2"
    )
    db.session.commit()

    assert duplicate is None
    assert first is not None and later is not None
    assert count_keys("k1", "k2") == 2
    db.session.expire_all()
    assert lead.first_name == "Danielle"


def test_rollback_undoes_a_scheduled_message(lead, clock):
    lead.first_name = "Danielle"
    outbox.schedule(db.session, kind="followup_1", lead=lead, recipient=lead.email, send_at=clock(), dedupe_key="k1")

    db.session.rollback()

    assert count_keys("k1") == 0


def test_rollback_undoes_a_message_that_was_the_first_write(lead, clock):
    outbox.schedule(db.session, kind="followup_1", lead=lead, recipient=lead.email, send_at=clock(), dedupe_key="k1")

    db.session.rollback()

    assert count_keys("k1") == 0


# --- claim_for_sending -----------------------------------------------------------------------


def test_claim_for_sending_takes_a_due_row_once(lead, clock):
    message = add(lead, "m1", clock())

    first = outbox.claim_for_sending(db.session, message.id, clock(), send_lease=SEND_LEASE)
    second = outbox.claim_for_sending(db.session, message.id, clock(), send_lease=SEND_LEASE)
    db.session.commit()

    assert (first, second) == (True, False)


def test_claim_for_sending_marks_sending_counts_the_attempt_and_sets_the_lease(lead, clock):
    message = add(lead, "m1", clock(), attempts=2)

    outbox.claim_for_sending(db.session, message.id, clock(), send_lease=SEND_LEASE)
    db.session.commit()

    row = fresh(message)
    assert (row.status, row.attempts) == (M.SENDING, 3)
    assert row.lease_expires_at == clock() + SEND_LEASE


def test_claim_for_sending_takes_a_queued_row(lead, clock):
    message = add(lead, "m1", clock(), M.QUEUED, lease_expires_at=clock() + QUEUE_LEASE)

    assert outbox.claim_for_sending(db.session, message.id, clock(), send_lease=SEND_LEASE) is True


def test_claim_for_sending_refuses_a_row_not_yet_due(lead, clock):
    message = add(lead, "m1", clock() + timedelta(seconds=1))

    claimed = outbox.claim_for_sending(db.session, message.id, clock(), send_lease=SEND_LEASE)
    db.session.commit()

    assert claimed is False
    assert (fresh(message).status, fresh(message).attempts) == (M.SCHEDULED, 0)


@pytest.mark.parametrize("status", [M.CANCELLED, M.SENT, M.SENDING, M.FAILED, M.SKIPPED])
def test_claim_for_sending_refuses_a_row_that_is_not_pending(lead, clock, status):
    message = add(lead, "m1", clock() - timedelta(minutes=1), status)

    claimed = outbox.claim_for_sending(db.session, message.id, clock(), send_lease=SEND_LEASE)
    db.session.commit()

    assert claimed is False
    assert (fresh(message).status, fresh(message).attempts) == (status, 0)


def test_claim_for_sending_refuses_an_unknown_id(lead, clock):
    assert outbox.claim_for_sending(db.session, 999_999, clock(), send_lease=SEND_LEASE) is False


# --- claim_due -------------------------------------------------------------------------------


def test_claim_due_queues_due_rows_with_a_lease(lead, clock):
    due = [add(lead, f"due{n}", clock() - timedelta(minutes=n)) for n in range(3)]

    claimed = outbox.claim_due(db.session, clock(), limit=10, queue_lease=QUEUE_LEASE)
    db.session.commit()

    assert sorted(claimed) == sorted(message.id for message in due)
    for message in due:
        row = fresh(message)
        assert (row.status, row.lease_expires_at, row.attempts) == (M.QUEUED, clock() + QUEUE_LEASE, 0)


def test_claim_due_leaves_future_and_non_scheduled_rows(lead, clock):
    future = add(lead, "future", clock() + timedelta(seconds=1))
    cancelled = add(lead, "cancelled", clock() - timedelta(hours=1), M.CANCELLED)
    sending = add(lead, "sending", clock() - timedelta(hours=1), M.SENDING, lease_expires_at=clock() + SEND_LEASE)

    claimed = outbox.claim_due(db.session, clock(), limit=10, queue_lease=QUEUE_LEASE)
    db.session.commit()

    assert claimed == []
    assert [fresh(row).status for row in (future, cancelled, sending)] == [M.SCHEDULED, M.CANCELLED, M.SENDING]


def test_claim_due_takes_the_oldest_due_rows_up_to_the_limit(lead, clock):
    newest = add(lead, "newest", clock() - timedelta(minutes=1))
    oldest = add(lead, "oldest", clock() - timedelta(minutes=30))
    middle = add(lead, "middle", clock() - timedelta(minutes=10))

    claimed = outbox.claim_due(db.session, clock(), limit=2, queue_lease=QUEUE_LEASE)
    db.session.commit()

    assert sorted(claimed) == sorted([oldest.id, middle.id])
    assert fresh(newest).status is M.SCHEDULED


def test_claim_due_returns_ids_oldest_due_first(lead, clock):
    newest = add(lead, "newest", clock() - timedelta(minutes=1))
    oldest = add(lead, "oldest", clock() - timedelta(minutes=30))
    middle = add(lead, "middle", clock() - timedelta(minutes=10))

    claimed = outbox.claim_due(db.session, clock(), limit=10, queue_lease=QUEUE_LEASE)

    assert claimed == [oldest.id, middle.id, newest.id]


def test_a_second_claim_due_returns_none_of_the_claimed_rows(lead, clock):
    for n in range(3):
        add(lead, f"due{n}", clock())
    first = outbox.claim_due(db.session, clock(), limit=10, queue_lease=QUEUE_LEASE)
    db.session.commit()

    second = outbox.claim_due(db.session, clock(), limit=10, queue_lease=QUEUE_LEASE)

    assert len(first) == 3
    assert second == []


# --- recover_expired_leases ------------------------------------------------------------------


@pytest.mark.parametrize("status", [M.QUEUED, M.SENDING])
def test_recover_returns_rows_whose_lease_passed_to_the_schedule(lead, clock, status):
    message = add(lead, "m1", clock() - timedelta(minutes=20), status, lease_expires_at=clock() - timedelta(seconds=1))

    recovered = outbox.recover_expired_leases(db.session, clock())
    db.session.commit()

    row = fresh(message)
    assert recovered == 1
    assert (row.status, row.lease_expires_at) == (M.SCHEDULED, None)


@pytest.mark.parametrize("status", [M.QUEUED, M.SENDING])
def test_recover_leaves_rows_whose_lease_is_still_running(lead, clock, status):
    message = add(lead, "m1", clock() - timedelta(minutes=20), status, lease_expires_at=clock() + timedelta(seconds=1))

    recovered = outbox.recover_expired_leases(db.session, clock())
    db.session.commit()

    assert recovered == 0
    assert fresh(message).status is status


@pytest.mark.parametrize("status", [M.SENT, M.FAILED, M.CANCELLED, M.SKIPPED])
def test_recover_leaves_finished_rows_alone(lead, clock, status):
    message = add(lead, "m1", clock() - timedelta(minutes=20), status, lease_expires_at=clock() - timedelta(minutes=1))

    assert outbox.recover_expired_leases(db.session, clock()) == 0
    db.session.commit()
    assert fresh(message).status is status


# --- schedule_retry --------------------------------------------------------------------------


@pytest.mark.parametrize(("attempts", "wait"), [(1, 60), (2, 120), (3, 240), (4, 480)])
def test_schedule_retry_backs_off_exponentially(lead, clock, attempts, wait):
    message = add(lead, "m1", clock(), M.SENDING, attempts=attempts, lease_expires_at=clock() + SEND_LEASE)

    outbox.schedule_retry(message, "451 try later", clock(), base=timedelta(minutes=1), max_attempts=8)
    db.session.commit()

    row = fresh(message)
    assert (row.status, row.lease_expires_at, row.last_error) == (M.SCHEDULED, None, "451 try later")
    assert row.send_at == clock() + timedelta(seconds=wait)


def test_schedule_retry_fails_the_row_after_max_attempts(lead, clock):
    message = add(lead, "m1", clock(), M.SENDING, attempts=3, lease_expires_at=clock() + SEND_LEASE)

    outbox.schedule_retry(message, "451 try later", clock(), base=timedelta(minutes=1), max_attempts=3)
    db.session.commit()

    row = fresh(message)
    assert (row.status, row.lease_expires_at, row.send_at) == (M.FAILED, None, clock())
    assert row.last_error == "gave up after 3 attempts: 451 try later"


def test_schedule_retry_keeps_a_long_error_within_the_column(lead, clock):
    message = add(lead, "m1", clock(), M.SENDING, attempts=1)

    outbox.schedule_retry(message, "x" * 5000, clock(), base=timedelta(minutes=1), max_attempts=8)
    db.session.commit()

    assert len(fresh(message).last_error) == 1000


# --- cancel_pending --------------------------------------------------------------------------


def test_cancel_pending_cancels_only_scheduled_and_queued_rows(lead, clock):
    rows = {status: add(lead, status.value, clock(), status) for status in M}

    cancelled = outbox.cancel_pending(db.session, lead)
    db.session.commit()

    assert cancelled == 2
    assert {status: fresh(row).status for status, row in rows.items()} == {
        M.SCHEDULED: M.CANCELLED,
        M.QUEUED: M.CANCELLED,
        M.SENDING: M.SENDING,
        M.SENT: M.SENT,
        M.FAILED: M.FAILED,
        M.CANCELLED: M.CANCELLED,
        M.SKIPPED: M.SKIPPED,
    }


def test_cancel_pending_clears_the_queue_lease(lead, clock):
    message = add(lead, "m1", clock(), M.QUEUED, lease_expires_at=clock() + QUEUE_LEASE)

    outbox.cancel_pending(db.session, lead)
    db.session.commit()

    assert fresh(message).lease_expires_at is None


def test_cancel_pending_can_cancel_only_some_kinds(lead, clock):
    followup = add(lead, "f1", clock(), kind="followup_1")
    reminder = add(lead, "r1", clock(), kind="consultation_reminder")

    cancelled = outbox.cancel_pending(db.session, lead, kinds=["followup_1", "followup_2"])
    db.session.commit()

    assert cancelled == 1
    assert (fresh(followup).status, fresh(reminder).status) == (M.CANCELLED, M.SCHEDULED)


def test_cancel_pending_touches_only_the_given_lead(lead, clock):
    other, _ = receive(clock(), email="someone.else@example.org")
    theirs = add(other, "theirs", clock())

    outbox.cancel_pending(db.session, lead)
    db.session.commit()

    assert fresh(theirs).status is M.SCHEDULED


# --- reason_not_to_send ----------------------------------------------------------------------


def test_reason_not_to_send_is_none_for_a_reachable_recipient(lead, clock):
    message = add(lead, "m1", clock())

    assert outbox.reason_not_to_send(db.session, message) is None


def test_reason_not_to_send_reports_a_suppressed_recipient(lead, clock):
    message = add(lead, "m1", clock())
    db.session.add(Suppression(email=lead.email, reason="unsubscribed", created_at=clock()))
    db.session.commit()

    assert outbox.reason_not_to_send(db.session, message) == "recipient suppressed (unsubscribed)"
