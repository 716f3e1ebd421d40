"""How leads, events, messages and consultations look in the API's JSON."""

from datetime import datetime

from leads.models import Consultation, Lead, LeadEvent, Message


def _time(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def lead_summary(lead: Lead) -> dict:
    return {
        "id": str(lead.public_id),
        "first_name": lead.first_name,
        "last_name": lead.last_name,
        "email": lead.email,
        "phone": lead.phone,
        "status": lead.status.value,
        "clinic": lead.clinic.slug,
        "preferred_contact": lead.preferred_contact.value,
        "condition": lead.condition.value,
        "source": lead.source,
        "assignee": lead.assignee.email if lead.assignee else None,
        "created_at": _time(lead.created_at),
        "updated_at": _time(lead.updated_at),
        "last_contacted_at": _time(lead.last_contacted_at),
    }


def lead_detail(lead: Lead, messages: list[Message], consultations: list[Consultation]) -> dict:
    return {
        **lead_summary(lead),
        "message": lead.message,
        "heard_about": lead.heard_about,
        "utm_source": lead.utm_source,
        "utm_medium": lead.utm_medium,
        "utm_campaign": lead.utm_campaign,
        "referrer": lead.referrer,
        "consent_text": lead.consent_text,
        "consent_at": _time(lead.consent_at),
        "events": [event(item) for item in lead.events],
        "messages": [message(item) for item in messages],
        "consultations": [consultation(item) for item in consultations],
    }


def event(item: LeadEvent) -> dict:
    return {
        "id": item.id,
        "kind": item.kind,
        "actor": item.actor.email if item.actor else item.data.get("by", "system"),
        "data": {key: value for key, value in item.data.items() if key != "by"},
        "created_at": _time(item.created_at),
    }


def message(item: Message) -> dict:
    return {
        "id": str(item.public_id),
        "lead": str(item.lead.public_id),
        "kind": item.kind,
        "recipient": item.recipient,
        "status": item.status.value,
        "send_at": _time(item.send_at),
        "sent_at": _time(item.sent_at),
        "attempts": item.attempts,
        "last_error": item.last_error,
    }


def consultation(item: Consultation) -> dict:
    return {
        "id": str(item.public_id),
        "lead": str(item.lead.public_id),
        "starts_at": _time(item.starts_at),
        "timezone": item.timezone,
        "duration_minutes": item.duration_minutes,
        "status": item.status.value,
    }
