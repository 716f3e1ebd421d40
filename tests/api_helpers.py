"""Helpers shared by the coordinator API and self-service tests: accounts, tokens, bookings, lookups.

Call them inside an app context (the `clocked_app` fixture pushes one).
"""

from datetime import datetime

import sqlalchemy as sa

from leads import accounts, consultations, policy
from leads.extensions import db
from leads.models import Clinic, Consultation, Coordinator, Lead, LeadEvent, Message, Role

PASSWORD = "a long pass phrase"


def make_coordinator(
    email: str = "sam@riverside.example", role: Role = Role.ADMIN, clinic: Clinic | None = None
) -> Coordinator:
    coordinator = accounts.create_coordinator(db.session, email=email, password=PASSWORD, role=role, clinic=clinic)
    db.session.commit()
    return coordinator


def make_token(coordinator: Coordinator) -> str:
    token = accounts.create_api_token(db.session, coordinator)
    db.session.commit()
    return token


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def make_clinic(slug: str = "uptown", timezone: str = "America/Chicago") -> Clinic:
    clinic = Clinic(slug=slug, name="Uptown Ketamine Clinic", timezone=timezone, inbox=f"desk@{slug}.test")
    db.session.add(clinic)
    db.session.commit()
    return clinic


def book(lead: Lead, starts_at: datetime, now: datetime, actor: Coordinator) -> Consultation:
    """Book a consultation through the domain and commit."""
    booked = consultations.book(db.session, lead, starts_at, now, policy.current(), actor=actor)
    db.session.commit()
    return booked


def events(lead: Lead, kind: str) -> list[LeadEvent]:
    query = sa.select(LeadEvent).where(LeadEvent.lead_id == lead.id, LeadEvent.kind == kind).order_by(LeadEvent.id)
    return list(db.session.scalars(query))


def messages(lead: Lead, kind: str | None = None) -> list[Message]:
    query = sa.select(Message).where(Message.lead_id == lead.id).order_by(Message.id)
    if kind is not None:
        query = query.where(Message.kind == kind)
    return list(db.session.scalars(query))
