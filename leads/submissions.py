"""What the form and the API do with a valid inquiry: record it, commit, then enqueue its emails."""

from flask import g, request

from leads import clock, intake, policy
from leads.extensions import db
from leads.inquiry_form import Inquiry, InquiryForm, consent_text
from leads.models import Clinic, Lead


def accept(form: InquiryForm, clinic: Clinic, *, channel: str) -> Lead:
    """Record a validated inquiry in one transaction (its emails are enqueued after the commit)."""
    lead, _ = intake.receive_inquiry(
        db.session,
        clinic,
        Inquiry.from_form(form),
        channel=channel,
        consent_text=consent_text(clinic),
        client_ip=request.remote_addr or "",
        now=clock.now(),
        policy=policy.current(),
    )
    db.session.commit()
    g.lead_public_id = lead.public_id  # for the request's log line
    return lead


def reject(clinic: Clinic | None, *, channel: str, reason: str) -> None:
    intake.record_rejection(db.session, clinic, channel=channel, reason=reason, now=clock.now())
    db.session.commit()
