"""Turn a validated inquiry into a lead (or a new inquiry on an existing lead) and its first emails."""

import uuid
from dataclasses import asdict
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from leads import lifecycle, outbox
from leads.inquiry_form import Inquiry
from leads.models import Clinic, Lead, LeadEvent, LeadStatus, Message, RejectedInquiry
from leads.policy import Policy

REOPENED_BY_INQUIRY = frozenset({LeadStatus.UNRESPONSIVE, LeadStatus.CLOSED})


def receive_inquiry(
    session: Session,
    clinic: Clinic,
    inquiry: Inquiry,
    *,
    channel: str,
    consent_text: str,
    client_ip: str,
    now: datetime,
    policy: Policy,
) -> tuple[Lead, list[Message]]:
    """Record the inquiry and schedule the acknowledgment and the clinic's alert.

    The same address at the same clinic within the window is the same person: the inquiry
    joins their lead (re-opening it when it had gone quiet or was closed) rather than making a twin.
    """
    lead = find_recent_lead(session, clinic, inquiry.email, since=now - policy.deduplication_window)
    repeat = lead is not None
    if lead is None:
        lead = Lead(
            clinic=clinic,
            **asdict(inquiry),
            source=channel,
            consent_text=consent_text,
            consent_at=now,
            consent_ip=client_ip,
            status=LeadStatus.NEW,
            created_at=now,
            updated_at=now,
            last_inquiry_at=now,
        )
        session.add(lead)
    else:
        lead.last_inquiry_at = now
    inquiry_id = uuid.uuid4().hex
    lifecycle.record_event(
        session,
        lead,
        "inquiry_received",
        now,
        by="prospect",
        inquiry_id=inquiry_id,
        channel=channel,
        repeat=repeat,
        consent_text=consent_text,
        client_ip=client_ip,
        **{name: str(value) for name, value in asdict(inquiry).items()},
    )
    if not repeat:
        session.flush()
        lifecycle.start_followups(session, lead, now, policy)
    elif lead.status in REOPENED_BY_INQUIRY:
        lifecycle.transition(session, lead, LeadStatus.NEW, now, policy, by="prospect", reason="A new inquiry arrived.")
    messages = [
        outbox.schedule(
            session, kind=kind, lead=lead, recipient=recipient, send_at=now, dedupe_key=f"{kind}:{inquiry_id}"
        )
        for kind, recipient in (("inquiry_received", lead.email), ("new_lead_alert", clinic.inbox))
    ]
    return lead, [message for message in messages if message is not None]


def inquiry_event_of(message: Message) -> LeadEvent | None:
    """Return the inquiry an acknowledgment or alert answers (its key ends with the inquiry id)."""
    inquiry_id = message.dedupe_key.partition(":")[2]
    return next(
        (
            event
            for event in message.lead.events
            if event.kind == "inquiry_received" and event.data.get("inquiry_id") == inquiry_id
        ),
        None,
    )


def find_recent_lead(session: Session, clinic: Clinic, email: str, *, since: datetime) -> Lead | None:
    """Return the clinic's lead for this address whose last inquiry came after `since`."""
    return session.scalar(
        sa.select(Lead)
        .where(Lead.clinic_id == clinic.id, Lead.email == email, Lead.last_inquiry_at >= since)
        .order_by(Lead.last_inquiry_at.desc())
        .limit(1)
    )


def record_rejection(session: Session, clinic: Clinic | None, *, channel: str, reason: str, now: datetime) -> None:
    """Count a refused submission (a bot or a flood); nothing of what it carried is kept."""
    session.add(RejectedInquiry(clinic=clinic, channel=channel, reason=reason, created_at=now))
