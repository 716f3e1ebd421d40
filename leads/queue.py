"""The Celery app, made inside the factory (the Flask docs' pattern), and publishing after commit."""

import logging
from collections.abc import Iterable

import sqlalchemy as sa
from celery import Celery, Task
from flask import Flask, current_app, has_app_context
from kombu import Queue
from sqlalchemy.orm import Session

from leads import clock, message_kinds, outbox
from leads.durations import parse_seconds

log = logging.getLogger(__name__)

SEND_MESSAGE = "leads.send_message"
SWEEP_OUTBOX = "leads.sweep_outbox"
MARK_UNRESPONSIVE = "leads.mark_unresponsive"
APPLY_RETENTION = "leads.apply_retention"
# Gossip, mingle and event heartbeats are cluster chatter this app does not use, and they slow a
# worker's reconnection after the broker restarts. scripts/run and docker-compose.yml pass these.
# Acknowledgments, alerts, confirmations and reminders must never wait behind a burst of
# follow-ups: they have a queue of their own. A worker consumes both unless told otherwise
# (`-Q interactive` / `-Q bulk` to split them across workers).
INTERACTIVE_QUEUE, BULK_QUEUE = "interactive", "bulk"
WORKER_FLAGS = ("--without-gossip", "--without-mingle", "--without-heartbeat")


def queue_for(kind: str) -> str:
    return BULK_QUEUE if message_kinds.is_marketing(kind) else INTERACTIVE_QUEUE


def celery_init_app(app: Flask) -> Celery:
    """Create the Celery app whose tasks run inside this Flask app's context."""

    class FlaskTask(Task):
        def __call__(self, *args, **kwargs):
            # Reuse a context that is already pushed (eager calls in tests); push one otherwise.
            if has_app_context():
                return self.run(*args, **kwargs)
            with app.app_context():
                return self.run(*args, **kwargs)

    celery_app = Celery(app.import_name, task_cls=FlaskTask)
    celery_app.config_from_object(
        {
            "broker_url": app.config["REDIS_URL"],
            "broker_connection_retry_on_startup": True,
            # A web request must not hang on a broker that is away: one quick try, then the sweep
            # catches up. (The worker's own consumer keeps reconnecting; it ignores these.)
            "broker_transport_options": {"socket_connect_timeout": 2, "max_retries": 0},
            "task_ignore_result": True,
            "task_default_queue": INTERACTIVE_QUEUE,
            "task_queues": (Queue(INTERACTIVE_QUEUE), Queue(BULK_QUEUE)),
            # Sends are slow I/O; a worker takes one at a time so another idle one can take the next.
            "worker_prefetch_multiplier": 1,
            "worker_hijack_root_logger": False,
            "beat_schedule": {
                "sweep-outbox": {
                    "task": SWEEP_OUTBOX,
                    "schedule": parse_seconds(app.config["DISPATCH_INTERVAL"]),
                    # A sweep not started within one interval is stale; the next one will come.
                    "options": {"expires": parse_seconds(app.config["DISPATCH_INTERVAL"])},
                },
                "apply-retention": {"task": APPLY_RETENTION, "schedule": 3600.0, "options": {"expires": 3600}},
                "mark-unresponsive": {
                    "task": MARK_UNRESPONSIVE,
                    "schedule": parse_seconds(app.config["LIFECYCLE_INTERVAL"]),
                    "options": {"expires": parse_seconds(app.config["LIFECYCLE_INTERVAL"])},
                },
            },
            "beat_schedule_filename": f"{app.instance_path}/celerybeat-schedule",
            **app.config.get("CELERY", {}),
        }
    )
    celery_app.set_default()
    app.extensions["celery"] = celery_app
    if not sa.event.contains(Session, "after_commit", publish_after_commit):
        sa.event.listen(Session, "after_commit", publish_after_commit)
        sa.event.listen(Session, "after_rollback", forget_after_rollback)
    return celery_app


def publish_after_commit(session: Session) -> None:
    """After a commit, enqueue a send for every message the transaction scheduled that is due now.

    Listening on the session keeps every caller (form, API, dashboard, tasks) from having to
    remember it, and it runs only once the rows are durable, never before.
    """
    scheduled = outbox.scheduled_in_transaction(session)
    if scheduled:
        now = clock.now()
        enqueue_sends([(message_id, kind) for message_id, kind, send_at in scheduled if send_at <= now])


def forget_after_rollback(session: Session) -> None:
    outbox.scheduled_in_transaction(session)


def enqueue_sends(messages: Iterable[tuple[int, str]]) -> bool:
    """Publish a send task per (message id, kind) on its kind's queue; return False (and log) when
    the broker is unreachable.

    Called after commit. The rows are already in the outbox, so a broker that is down loses
    nothing: the beat sweep enqueues them once it is back.
    """
    celery_app: Celery = current_app.extensions["celery"]
    try:
        for message_id, kind in messages:
            celery_app.send_task(SEND_MESSAGE, args=[message_id], queue=queue_for(kind), retry=False)
    except Exception as error:  # kombu raises many kinds; every one means "not now"
        log.warning("could not enqueue sends, the sweep will pick them up: %s", error)
        return False
    return True
