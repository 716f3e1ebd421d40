"""The worker's commands: sweep the outbox, deliver one message, move quiet leads along. Each owns its transactions."""

import logging
from datetime import timedelta

from flask import current_app

from leads import clock, erasure, lifecycle, mailer, outbox, policy, queue
from leads.durations import parse_duration
from leads.extensions import db
from leads.models import Message, MessageStatus, SweepHeartbeat

log = logging.getLogger(__name__)


def _setting(name: str) -> timedelta:
    return parse_duration(current_app.config[name])


# A sweep keeps claiming full batches up to this many of them, so a burst of due messages is
# enqueued within one sweep instead of one batch per DISPATCH_INTERVAL.
BATCHES_PER_SWEEP = 20


def sweep() -> list[int]:
    """Recover expired leases, claim what is due in batches, and enqueue one send task per row."""
    now = clock.now()
    recovered = outbox.recover_expired_leases(db.session, now)
    beat = db.session.get(SweepHeartbeat, 1) or SweepHeartbeat(id=1, sweeps=0)
    beat.swept_at = now
    beat.sweeps += 1
    db.session.add(beat)
    db.session.commit()
    if recovered:
        log.warning("returned %d messages with expired leases to the schedule", recovered)
    batch_size, claimed = current_app.config["SWEEP_BATCH_SIZE"], []
    for _ in range(BATCHES_PER_SWEEP):
        batch = outbox.claim_due(db.session, now, limit=batch_size, queue_lease=_setting("QUEUE_LEASE"))
        db.session.commit()
        queue.enqueue_sends(outbox.kinds_of(db.session, batch))
        claimed += batch
        if len(batch) < batch_size:
            break
    return claimed


def deliver(message_id: int) -> str:
    """Claim, re-check, send and record one message; return what happened to it."""
    claimed = outbox.claim_for_sending(db.session, message_id, clock.now(), send_lease=_setting("SEND_LEASE"))
    db.session.commit()
    if not claimed:
        return "not claimed"
    message = db.session.get(Message, message_id)
    reason = outbox.reason_not_to_send(db.session, message)
    if reason:
        outbox.mark_skipped(message, reason)
        db.session.commit()
        return "skipped"
    try:
        mailer.send(message)
    except mailer.TransientSendError as error:
        outbox.schedule_retry(
            message,
            str(error),
            clock.now(),
            base=_setting("SEND_RETRY_BASE"),
            max_attempts=current_app.config["SEND_MAX_ATTEMPTS"],
        )
        outcome = "failed" if message.status == MessageStatus.FAILED else "retry"
    except mailer.PermanentSendError as error:
        outbox.mark_failed(message, str(error))
        outcome = "failed"
    except Exception as error:
        # A template or data error will not mend itself; fail the row where coordinators see it.
        log.exception("could not build message %s", message.public_id)
        outbox.mark_failed(message, f"could not build the email: {type(error).__name__}: {error}")
        outcome = "failed"
    else:
        outbox.mark_sent(message, clock.now())
        outcome = "sent"
    db.session.commit()
    log.info("message %s (%s): %s", message.public_id, message.kind, outcome)
    return outcome


def mark_unresponsive() -> int:
    """Move the leads whose follow-ups ran out without an answer to unresponsive."""
    quiet = lifecycle.mark_unresponsive(db.session, clock.now(), policy.current())
    db.session.commit()
    return len(quiet)


def apply_retention() -> int:
    """Erase the closed leads whose retention period is over (nothing when none is configured)."""
    keep_for = current_app.config["RETENTION_CLOSED_AFTER"]
    if not keep_for:
        return 0
    erased = erasure.erase_expired(db.session, clock.now(), parse_duration(keep_for))
    db.session.commit()
    return erased
