"""Thin tasks: an explicit name, ids in, and a call to the domain command that does the work."""

from celery import shared_task
from celery.signals import worker_process_shutdown

from leads import dispatch, mailer
from leads.queue import APPLY_RETENTION, MARK_UNRESPONSIVE, SEND_MESSAGE, SWEEP_OUTBOX


@shared_task(name=SWEEP_OUTBOX)
def sweep_outbox() -> int:
    """Enqueue every due message and recover the ones whose worker died."""
    return len(dispatch.sweep())


@shared_task(name=SEND_MESSAGE)
def send_message(message_id: int) -> str:
    """Send one message of the outbox, at most once."""
    return dispatch.deliver(message_id)


@shared_task(name=MARK_UNRESPONSIVE)
def mark_unresponsive() -> int:
    """Move leads whose follow-up sequence ran out without an answer to unresponsive."""
    return dispatch.mark_unresponsive()


@shared_task(name=APPLY_RETENTION)
def apply_retention() -> int:
    """Erase closed leads whose retention period is over."""
    return dispatch.apply_retention()


@worker_process_shutdown.connect
def close_smtp_connections(**_) -> None:
    mailer.close_connections()
