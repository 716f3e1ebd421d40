"""Data retention: closed leads untouched for the configured period are erased by the beat task."""

from datetime import timedelta

import sqlalchemy as sa

from leads import dispatch, lifecycle, policy
from leads.extensions import db
from leads.models import Lead, LeadEvent, LeadStatus
from tests.factories import receive


def close(lead, now) -> None:
    lifecycle.transition(db.session, lead, LeadStatus.CLOSED, now, policy.current(), by="system", reason="Not a fit.")
    lead.updated_at = now
    db.session.commit()


def test_closed_leads_past_the_retention_period_are_erased_and_others_kept(clocked_app, clock):
    clocked_app.config["RETENTION_CLOSED_AFTER"] = "730d"
    old, _ = receive(clock(), email="old@example.org")
    close(old, clock())
    recent, _ = receive(clock() + timedelta(days=700), email="recent@example.org")
    close(recent, clock() + timedelta(days=700))
    still_new, _ = receive(clock(), email="open@example.org")
    clock.advance(days=731)

    assert dispatch.apply_retention() == 1

    db.session.expire_all()
    assert (old.first_name, old.email.endswith("@erased.invalid"), old.erased_at) == ("erased", True, clock())
    assert recent.erased_at is None and still_new.erased_at is None
    tombstone = db.session.scalar(sa.select(LeadEvent).where(LeadEvent.lead_id == old.id, LeadEvent.kind == "erased"))
    assert tombstone.data["by"] == "system"
    assert all(event.data in ({}, tombstone.data) for event in old.events)


def test_no_retention_period_keeps_everything(clocked_app, clock):
    lead, _ = receive(clock())
    close(lead, clock())
    clock.advance(days=5000)

    assert dispatch.apply_retention() == 0
    assert db.session.scalar(sa.select(Lead.erased_at)) is None
