"""Every kind of email: its subject, its template, whether it is marketing, and when it still applies."""

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC

from leads.models import ConsultationStatus, LeadStatus, Message

ACTIVE_CONSULTATION = (ConsultationStatus.SCHEDULED, ConsultationStatus.CONFIRMED)
FOLLOWUP_TEMPLATES = 3  # followup_4 and later reuse the last one


@dataclass(frozen=True)
class Kind:
    subject: str
    # Marketing mail carries List-Unsubscribe, and an unsubscribe stops it.
    marketing: bool = False
    # Alerts go to the clinic's staff, not to the prospect.
    to_staff: bool = False
    # Whether the message still fits the lead and consultation as they are now.
    still_applies: Callable[[Message], bool] = lambda message: True


def _lead_still_new(message: Message) -> bool:
    return message.lead.status == LeadStatus.NEW


def _confirmation_current(message: Message) -> bool:
    consultation = message.consultation
    return consultation.status in ACTIVE_CONSULTATION and message.dedupe_key == confirmation_key(consultation)


def _reminder_current(message: Message) -> bool:
    consultation = message.consultation
    return consultation.status in ACTIVE_CONSULTATION and message.dedupe_key.startswith(
        reminder_key_prefix(consultation)
    )


def _still_cancelled(message: Message) -> bool:
    return message.consultation.status == ConsultationStatus.CANCELLED


def _still_no_show(message: Message) -> bool:
    return message.lead.status == LeadStatus.NO_SHOW and message.consultation.status == ConsultationStatus.NO_SHOW


KINDS: dict[str, Kind] = {
    "inquiry_received": Kind("We received your message, {first_name} | {clinic}"),
    "new_lead_alert": Kind("New inquiry from {first_name}", to_staff=True),
    "followup_1": Kind("Your complimentary consultation at {clinic}", marketing=True, still_applies=_lead_still_new),
    "followup_2": Kind("What to expect at your consultation | {clinic}", marketing=True, still_applies=_lead_still_new),
    "followup_3": Kind("Ready when you are, {first_name} | {clinic}", marketing=True, still_applies=_lead_still_new),
    "consultation_confirmed": Kind("Your consultation on {when} | {clinic}", still_applies=_confirmation_current),
    "consultation_reminder": Kind("Reminder: your consultation on {when} | {clinic}", still_applies=_reminder_current),
    "consultation_cancelled": Kind(
        "Your consultation on {when} is cancelled | {clinic}", still_applies=_still_cancelled
    ),
    "no_show_followup": Kind("We missed you, {first_name} | {clinic}", marketing=True, still_applies=_still_no_show),
    "reschedule_request_alert": Kind("{first_name} asked to reschedule a consultation", to_staff=True),
    "cancellation_alert": Kind("{first_name} cancelled a consultation", to_staff=True),
}
_FOLLOWUP = re.compile(r"^followup_(\d+)$")


def template_name(kind: str) -> str:
    """Return the templates/email name for a kind (later follow-ups reuse the last template)."""
    match = _FOLLOWUP.match(kind)
    if match and int(match[1]) > FOLLOWUP_TEMPLATES:
        return f"followup_{FOLLOWUP_TEMPLATES}"
    return kind


def kind_of(kind: str) -> Kind:
    return KINDS[template_name(kind)]


def is_marketing(kind: str) -> bool:
    return kind_of(kind).marketing


def followup_kind(number: int) -> str:
    return f"followup_{number}"


def followup_number(kind: str) -> int:
    """Return N of followup_N, or 0 for any other kind."""
    match = _FOLLOWUP.match(kind)
    return int(match[1]) if match else 0


def confirmation_key(consultation) -> str:
    return f"consultation_confirmed:{consultation.public_id}:v{consultation.token_version}"


def reminder_key_prefix(consultation) -> str:
    return f"consultation_reminder:{consultation.public_id}:{consultation.starts_at.astimezone(UTC).isoformat()}:"


def alert_recipient(lead) -> str:
    """Where alerts about a lead go: its coordinator once assigned, else the clinic's inbox."""
    return lead.assignee.email if lead.assignee else lead.clinic.inbox
