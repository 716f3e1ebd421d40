"""Build inquiries and leads for tests."""

from datetime import datetime

from flask import current_app

from leads import intake, policy
from leads.clinics import ensure_default_clinic
from leads.extensions import db
from leads.inquiry_form import Inquiry
from leads.models import Clinic, Condition, Lead, Message, PreferredContact


def inquiry_payload(**overrides) -> dict:
    """A valid body for POST /api/v1/inquiries."""
    payload = {
        "first_name": "Dana",
        "last_name": "Whitfield",
        "email": "Dana.Whitfield@Example.org",
        "phone": "(201) 555-0143",
        "preferred_contact": "phone",
        "condition": "depression",
        "message": "Three medications have not helped; my psychiatrist suggested ketamine.",
        "heard_about": "My doctor or therapist",
        "consent": True,
        "utm_source": "google",
        "utm_medium": "cpc",
        "utm_campaign": "spring",
        "referrer": "https://riverside.test/ketamine",
    }
    payload.update(overrides)
    return payload


def form_data(form_token: str = "", **overrides) -> dict:
    """A valid body for POST /inquire (the HTML form)."""
    data = {key: value for key, value in inquiry_payload().items() if key != "consent"}
    data.update(consent="y", form_token=form_token, website="")
    data.update(overrides)
    return data


def make_inquiry(**overrides) -> Inquiry:
    values = {
        "first_name": "Dana",
        "last_name": "Whitfield",
        "email": "dana.whitfield@example.org",
        "phone": "+12015550143",
        "preferred_contact": PreferredContact.PHONE,
        "condition": Condition.DEPRESSION,
        "message": "Nothing has helped.",
        "heard_about": "",
        "utm_source": "",
        "utm_medium": "",
        "utm_campaign": "",
        "referrer": "",
    }
    values.update(overrides)
    return Inquiry(**values)


def default_clinic() -> Clinic:
    return ensure_default_clinic(db.session, current_app.config)


def receive(now: datetime, clinic: Clinic | None = None, **overrides) -> tuple[Lead, list[Message]]:
    """Record an inquiry through the domain, as the form and the API do, and commit."""
    lead, messages = intake.receive_inquiry(
        db.session,
        clinic or default_clinic(),
        make_inquiry(**overrides),
        channel="web",
        consent_text="I agree.",
        client_ip="203.0.113.9",
        now=now,
        policy=policy.current(),
    )
    db.session.commit()
    return lead, messages
