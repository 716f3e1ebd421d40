"""The .ics invitation that goes with a consultation's confirmation or cancellation (RFC 5545/5546)."""

from datetime import datetime, timedelta
from email.utils import parseaddr

from icalendar import Calendar, Event, vCalAddress, vText

from leads.models import Consultation


def consultation_ics(consultation: Consultation, *, sender: str, now: datetime, cancelled: bool = False) -> bytes:
    """Return the calendar: METHOD:REQUEST, or METHOD:CANCEL once cancelled; same UID throughout."""
    clinic = consultation.lead.clinic
    domain = parseaddr(sender)[1].rpartition("@")[2] or "leads.local"
    calendar = Calendar()
    calendar.add("prodid", "-//leads//consultations//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "CANCEL" if cancelled else "REQUEST")
    event = Event()
    event.add("uid", f"consultation-{consultation.public_id}@{domain}")
    # Each change bumps the version, and calendars apply the invitation with the highest SEQUENCE.
    event.add("sequence", consultation.token_version - 1)
    event.add("dtstamp", now)
    event.add("dtstart", consultation.starts_at)
    event.add("dtend", consultation.starts_at + timedelta(minutes=consultation.duration_minutes))
    # The summary names the clinic only: calendars are often shared, and this is health information.
    event.add("summary", f"Consultation at {clinic.name}")
    if clinic.address:
        event.add("location", clinic.address)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    organizer = vCalAddress(f"mailto:{clinic.inbox}")
    organizer.params["cn"] = vText(clinic.name)
    event.add("organizer", organizer)
    attendee = vCalAddress(f"mailto:{consultation.lead.email}")
    attendee.params["cn"] = vText(consultation.lead.first_name)
    attendee.params["role"] = vText("REQ-PARTICIPANT")
    event.add("attendee", attendee)
    calendar.add_component(event)
    return calendar.to_ical()
