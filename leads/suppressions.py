"""Addresses that must not receive (some) email: unsubscribes and hard bounces."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from leads import lifecycle, message_kinds, outbox
from leads.models import Coordinator, Lead, Message, Suppression, SuppressionReason


def is_suppressed(session: Session, email: str) -> bool:
    return session.scalar(sa.select(Suppression.id).where(Suppression.email == email.lower())) is not None


def unsubscribe(session: Session, email: str, now: datetime, *, actor: Coordinator | None = None) -> bool:
    """Stop marketing to the address and cancel what is pending; False if it had already unsubscribed.

    `actor` is the coordinator who entered the request; None means the prospect's own link.
    """
    address = email.lower()
    if is_suppressed(session, address):
        return False
    session.add(Suppression(email=address, reason=SuppressionReason.UNSUBSCRIBED, created_at=now))
    for lead in session.scalars(sa.select(Lead).where(Lead.email == address)):
        pending_marketing = session.scalars(
            sa.select(Message.kind).where(Message.lead_id == lead.id, Message.status.in_(outbox.PENDING)).distinct()
        )
        outbox.cancel_pending(
            session, lead, kinds=[kind for kind in pending_marketing if message_kinds.is_marketing(kind)]
        )
        lifecycle.record_event(
            session, lead, "unsubscribed", now, actor=actor, by="prospect" if actor is None else "coordinator"
        )
    return True
