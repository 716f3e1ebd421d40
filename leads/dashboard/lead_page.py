"""One lead's page: opening it is an audited read; it shows the timeline, who looked, and the actions."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import render_template
from flask_login import login_required
from sqlalchemy.orm import joinedload

from leads import clock, consultations, lifecycle, policy, suppressions
from leads.dashboard import forms
from leads.dashboard.blueprint import bp
from leads.dashboard.helpers import coordinators_who_see, is_admin, lead_or_404, me
from leads.extensions import db
from leads.models import LeadEvent, Message

ACCESS_LOG_SIZE = 100
EVENT_LABELS = {
    "inquiry_received": "Inquiry received",
    "status_changed": "Status changed",
    "note": "Note",
    "call_logged": "Call logged",
    "assigned": "Assigned",
    "consultation_booked": "Consultation booked",
    "consultation_rescheduled": "Consultation rescheduled",
    "consultation_cancelled": "Consultation cancelled",
    "consultation_confirmed": "Consultation confirmed by the prospect",
    "reschedule_requested": "The prospect asked for another time",
    "consultation_outcome": "Consultation outcome recorded",
    "unsubscribed": "Unsubscribed from marketing email",
    "email_retried": "Email sent again",
    "email_cancelled": "Email cancelled",
    "erased": "Personal data erased",
    "viewed": "Viewed",
}
# Data of events that hold a moment (ISO 8601), shown in the clinic's timezone.
EVENT_TIMES = ("starts_at", "from_starts_at", "to_starts_at")


@dataclass
class TimelineEntry:
    at: datetime
    event: LeadEvent | None = None
    message: Message | None = None
    times: dict[str, datetime] = field(default_factory=dict)


@bp.get("/leads/<public_id>")
@login_required
def lead_detail(public_id: str):
    lead = lead_or_404(public_id)
    # Reading a prospect's health information is itself on the record.
    lifecycle.record_event(db.session, lead, "viewed", clock.now(), actor=me())
    db.session.commit()
    now = clock.now()
    events = db.session.scalars(
        sa.select(LeadEvent)
        .where(LeadEvent.lead_id == lead.id, LeadEvent.kind != "viewed")
        .options(joinedload(LeadEvent.actor))
        .order_by(LeadEvent.id.desc())
    ).all()
    messages = db.session.scalars(
        sa.select(Message).where(Message.lead_id == lead.id).order_by(Message.id.desc())
    ).all()
    views = sa.select(LeadEvent).where(LeadEvent.lead_id == lead.id, LeadEvent.kind == "viewed")
    access_log = db.session.scalars(
        views.options(joinedload(LeadEvent.actor)).order_by(LeadEvent.id.desc()).limit(ACCESS_LOG_SIZE)
    ).all()
    access_total = db.session.scalar(sa.select(sa.func.count()).select_from(views.subquery()))
    active = consultations.active_consultation(db.session, lead)
    assignable = db.session.scalars(coordinators_who_see(lead.clinic_id)).all()
    zone = lead.clinic.timezone
    return render_template(
        "dashboard/lead.html",
        lead=lead,
        zone=zone,
        now=now,
        timeline=_timeline(events, messages),
        access_log=access_log,
        access_total=access_total,
        event_labels=EVENT_LABELS,
        active=active,
        started=active is not None and active.starts_at <= now,
        targets=lifecycle.manual_targets(lead),
        assignable=assignable,
        suppressed=suppressions.is_suppressed(db.session, lead.email),
        is_admin=is_admin(),
        local_now=now.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%dT%H:%M"),
        default_duration=policy.current().default_duration_minutes,
        call_outcomes=lifecycle.CALL_OUTCOMES,
        unassigned=forms.UNASSIGNED,
        erase_word=forms.ERASE_WORD,
    )


def _timeline(events: Iterable[LeadEvent], messages: Iterable[Message]) -> list[TimelineEntry]:
    """Events and emails, newest first (an email by when it was or will be sent)."""
    entries = [TimelineEntry(event.created_at, event=event, times=_event_times(event)) for event in events]
    entries += [TimelineEntry(message.sent_at or message.send_at, message=message) for message in messages]
    return sorted(entries, key=lambda entry: entry.at, reverse=True)


def _event_times(event: LeadEvent) -> dict[str, datetime]:
    times = {}
    for name in EVENT_TIMES:
        try:
            times[name] = datetime.fromisoformat((event.data or {})[name])
        except (KeyError, TypeError, ValueError):
            continue
    return times
