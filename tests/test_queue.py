"""leads/queue.py: which queue a send goes to, and publishing only after commit."""

import pytest
import redis
import sqlalchemy as sa

from leads import outbox, queue
from leads.extensions import db
from leads.models import Message
from tests.factories import receive


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("inquiry_received", "interactive"),
        ("new_lead_alert", "interactive"),
        ("consultation_confirmed", "interactive"),
        ("consultation_reminder", "interactive"),
        ("followup_1", "bulk"),
        ("followup_7", "bulk"),
        ("no_show_followup", "bulk"),
    ],
)
def test_marketing_goes_to_the_bulk_queue_and_the_rest_to_the_interactive_one(kind, expected):
    assert queue.queue_for(kind) == expected


def queued(redis_server, name: str) -> int:
    return redis.Redis.from_url(redis_server.url).llen(name)


def test_a_commit_publishes_the_due_messages_on_their_queues(clocked_app, clock, redis_server):
    receive(clock())

    assert queued(redis_server, "interactive") == 2
    assert queued(redis_server, "bulk") == 0


def test_a_rollback_publishes_nothing(clocked_app, clock, redis_server):
    lead, _ = receive(clock())
    redis.Redis.from_url(redis_server.url).flushall()
    outbox.schedule(db.session, kind="followup_1", lead=lead, recipient=lead.email, send_at=clock(), dedupe_key="k")
    db.session.rollback()
    db.session.commit()

    assert queued(redis_server, "bulk") == 0
    assert db.session.scalar(sa.select(sa.func.count(Message.id))) == 2
