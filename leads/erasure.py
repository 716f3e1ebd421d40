"""Erase a lead on the person's request: their data goes, a tombstone stays on the timeline."""

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from leads import lifecycle, outbox
from leads.models import Coordinator, Lead, LeadEvent, LeadStatus, Message

ERASED = "erased"


def erase(session: Session, lead: Lead, now: datetime, *, actor: Coordinator | None, reason: str = "") -> None:
    """Remove every personal detail of the lead, its events and its emails; keep what happened when."""
    if lead.erased_at is not None:
        return
    outbox.cancel_pending(session, lead)
    for field in ("first_name", "last_name", "message", "heard_about", "utm_source", "utm_medium", "utm_campaign"):
        setattr(lead, field, ERASED if field in ("first_name", "last_name") else "")
    lead.email = f"erased-{lead.public_id}@erased.invalid"
    lead.phone = ""
    lead.referrer = ""
    lead.consent_ip = ""
    lead.erased_at = now
    lead.updated_at = now
    # Events copied the inquiry (message, contact details); keep only their kind, time and actor.
    session.execute(sa.update(LeadEvent).where(LeadEvent.lead_id == lead.id).values(data={}))
    session.execute(sa.update(Message).where(Message.lead_id == lead.id).values(recipient=ERASED, last_error=None))
    lifecycle.record_event(
        session, lead, "erased", now, actor=actor, by="coordinator" if actor else "system", reason=reason.strip()[:500]
    )


def erase_expired(session: Session, now: datetime, keep_for: timedelta, *, limit: int = 500) -> int:
    """Erase closed leads untouched for longer than `keep_for` (the clinic's retention period)."""
    expired = session.scalars(
        sa.select(Lead)
        .where(Lead.status == LeadStatus.CLOSED, Lead.erased_at.is_(None), Lead.updated_at < now - keep_for)
        .order_by(Lead.id)
        .limit(limit)
    ).all()
    for lead in expired:
        erase(session, lead, now, actor=None, reason="Retention period over.")
    return len(expired)
