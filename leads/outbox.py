"""The outbox: schedule, claim, retry and cancel messages. No SMTP here; callers own the transaction."""

from collections.abc import Iterable
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from leads import message_kinds
from leads.models import Consultation, Lead, Message, MessageStatus, Suppression, SuppressionReason

PENDING = (MessageStatus.SCHEDULED, MessageStatus.QUEUED)
SCHEDULED_IN_TRANSACTION = "leads.scheduled_messages"


def schedule(
    session: Session,
    *,
    kind: str,
    lead: Lead,
    recipient: str,
    send_at: datetime,
    dedupe_key: str,
    consultation: Consultation | None = None,
) -> Message | None:
    """Add a message to the outbox; return None when one with the same key already exists.

    INSERT … ON CONFLICT DO NOTHING rather than a savepoint: it is race-free on both backends and
    leaves the caller's transaction untouched either way.
    """
    session.flush()
    dialect_insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    message_id = session.scalar(
        dialect_insert(Message)
        .values(
            kind=kind,
            lead_id=lead.id,
            consultation_id=consultation.id if consultation else None,
            recipient=recipient,
            send_at=send_at,
            dedupe_key=dedupe_key,
            status=MessageStatus.SCHEDULED,
        )
        .on_conflict_do_nothing(index_elements=[Message.dedupe_key])
        .returning(Message.id)
    )
    if message_id is None:
        return None
    session.info.setdefault(SCHEDULED_IN_TRANSACTION, []).append((message_id, kind, send_at))
    return session.get(Message, message_id)


def scheduled_in_transaction(session: Session) -> list[tuple[int, str, datetime]]:
    """Take the (id, kind, send_at) of the messages this transaction scheduled, for publishing after commit."""
    return session.info.pop(SCHEDULED_IN_TRANSACTION, [])


def cancel_pending(
    session: Session,
    lead: Lead,
    *,
    kinds: Iterable[str] | None = None,
    kind_prefix: str | None = None,
    consultation: Consultation | None = None,
) -> int:
    """Cancel the lead's messages that have not started sending; return how many."""
    query = sa.update(Message).where(Message.lead_id == lead.id, Message.status.in_(PENDING))
    if kinds is not None:
        query = query.where(Message.kind.in_(list(kinds)))
    if kind_prefix is not None:
        query = query.where(Message.kind.startswith(kind_prefix, autoescape=True))
    if consultation is not None:
        query = query.where(Message.consultation_id == consultation.id)
    result = session.execute(
        query.values(status=MessageStatus.CANCELLED, lease_expires_at=None).execution_options(synchronize_session=False)
    )
    return result.rowcount


def recover_expired_leases(session: Session, now: datetime) -> int:
    """Return to the schedule every row whose worker died or whose queued task was lost."""
    result = session.execute(
        sa.update(Message)
        .where(
            Message.status.in_([MessageStatus.QUEUED, MessageStatus.SENDING]),
            Message.lease_expires_at < now,
        )
        .values(status=MessageStatus.SCHEDULED, lease_expires_at=None)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


def claim_due(session: Session, now: datetime, *, limit: int, queue_lease: timedelta) -> list[int]:
    """Mark up to `limit` due rows as queued for `queue_lease` and return their ids, oldest due first."""
    due = (
        sa.select(Message.id)
        .where(Message.status == MessageStatus.SCHEDULED, Message.send_at <= now)
        .order_by(Message.send_at, Message.id)
        .limit(limit)
        # Two sweeps at once (beat started twice) each take different rows on PostgreSQL;
        # SQLite has a single writer and ignores the clause.
        .with_for_update(skip_locked=True)
    )
    ids = list(session.scalars(due))
    if not ids:
        return []
    claimed = set(
        session.scalars(
            sa.update(Message)
            .where(Message.id.in_(ids), Message.status == MessageStatus.SCHEDULED)
            .values(status=MessageStatus.QUEUED, lease_expires_at=now + queue_lease)
            .returning(Message.id)
            .execution_options(synchronize_session=False)
        )
    )
    return [message_id for message_id in ids if message_id in claimed]


def kinds_of(session: Session, message_ids: list[int]) -> list[tuple[int, str]]:
    """(id, kind) of these messages, in the order given."""
    kinds = dict(session.execute(sa.select(Message.id, Message.kind).where(Message.id.in_(message_ids))).all())
    return [(message_id, kinds[message_id]) for message_id in message_ids if message_id in kinds]


def claim_for_sending(session: Session, message_id: int, now: datetime, *, send_lease: timedelta) -> bool:
    """Take one due row for sending; False when another worker has it or it is no longer pending.

    The conditional update is the claim: of any number of tasks for the same row, one sees a
    row count of 1 and sends; the others do nothing.
    """
    result = session.execute(
        sa.update(Message)
        .where(Message.id == message_id, Message.status.in_(PENDING), Message.send_at <= now)
        .values(
            status=MessageStatus.SENDING,
            attempts=Message.attempts + 1,
            lease_expires_at=now + send_lease,
        )
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def reason_not_to_send(session: Session, message: Message) -> str | None:
    """Re-check just in time whether the message still applies; return why not, or None."""
    kind = message_kinds.kind_of(message.kind)
    suppressed = session.scalar(sa.select(Suppression.reason).where(Suppression.email == message.recipient.lower()))
    # An unsubscribe stops marketing; a hard bounce stops everything to that address.
    if suppressed is not None and (kind.marketing or suppressed != SuppressionReason.UNSUBSCRIBED):
        return f"recipient suppressed ({suppressed})"
    if not kind.still_applies(message):
        return "no longer applies: the lead or its consultation changed"
    return None


def mark_sent(message: Message, now: datetime) -> None:
    message.status = MessageStatus.SENT
    message.sent_at = now
    message.lease_expires_at = None
    message.last_error = None


def mark_skipped(message: Message, reason: str) -> None:
    message.status = MessageStatus.SKIPPED
    message.lease_expires_at = None
    message.last_error = reason


def mark_failed(message: Message, error: str) -> None:
    message.status = MessageStatus.FAILED
    message.lease_expires_at = None
    message.last_error = error[:1000]


def schedule_retry(message: Message, error: str, now: datetime, *, base: timedelta, max_attempts: int) -> None:
    """Put a transiently failed message back on the schedule after an exponential backoff.

    The wait lives in the row's `send_at`, not in a broker ETA: Redis redelivers long ETA tasks
    after its visibility timeout, which would send twice.
    """
    if message.attempts >= max_attempts:
        mark_failed(message, f"gave up after {message.attempts} attempts: {error}")
        return
    message.status = MessageStatus.SCHEDULED
    message.send_at = now + base * (2 ** (message.attempts - 1))
    message.lease_expires_at = None
    message.last_error = error[:1000]


def retry_failed(session: Session, message: Message, now: datetime) -> bool:
    """Give a failed message another round of attempts from now; False if it had not failed."""
    if message.status != MessageStatus.FAILED:
        return False
    message.status = MessageStatus.SCHEDULED
    message.send_at = now
    message.attempts = 0
    message.lease_expires_at = None
    session.info.setdefault(SCHEDULED_IN_TRANSACTION, []).append((message.id, message.kind, now))
    return True


def cancel_one(message: Message) -> bool:
    """Cancel one message that has not started sending; False if it is too late."""
    if message.status not in PENDING:
        return False
    message.status = MessageStatus.CANCELLED
    message.lease_expires_at = None
    return True
