"""Consultations: book, reschedule, cancel, record the outcome, and the prospect's self-service.

Each change moves the lead through the lifecycle, records who did it, and schedules or cancels
the confirmation, reminders and notices in the caller's transaction.
"""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from leads import cadence, lifecycle, outbox
from leads.message_kinds import ACTIVE_CONSULTATION, alert_recipient, confirmation_key, reminder_key_prefix
from leads.models import Consultation, ConsultationStatus, Coordinator, Lead, LeadStatus
from leads.policy import Policy

MIN_DURATION, MAX_DURATION = 5, 480
C = ConsultationStatus


class ConsultationError(Exception):
    """The consultation cannot change as asked."""


class InvalidConsultation(ConsultationError):
    """A value given for the consultation is not acceptable; `field` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def active_consultation(session: Session, lead: Lead) -> Consultation | None:
    return session.scalar(
        sa.select(Consultation).where(Consultation.lead_id == lead.id, Consultation.status.in_(ACTIVE_CONSULTATION))
    )


def book(
    session: Session,
    lead: Lead,
    starts_at: datetime,
    now: datetime,
    policy: Policy,
    *,
    actor: Coordinator,
    duration_minutes: int | None = None,
) -> Consultation:
    """Book the lead's consultation and send the confirmation and reminders."""
    duration = policy.default_duration_minutes if duration_minutes is None else duration_minutes
    starts_at = _checked_start(starts_at, now)
    if not MIN_DURATION <= duration <= MAX_DURATION:
        raise InvalidConsultation("duration_minutes", f"A consultation lasts {MIN_DURATION} to {MAX_DURATION} minutes.")
    if lead.erased_at is not None:
        raise ConsultationError("This lead was erased; nothing about it can change.")
    if active_consultation(session, lead) is not None:
        raise ConsultationError("This lead already has a consultation booked; reschedule or cancel it.")
    lifecycle.transition(session, lead, LeadStatus.CONSULTATION_SCHEDULED, now, policy, actor=actor)
    consultation = Consultation(
        lead=lead, starts_at=starts_at, timezone=lead.clinic.timezone, duration_minutes=duration, created_at=now
    )
    session.add(consultation)
    session.flush()
    lifecycle.record_event(
        session,
        lead,
        "consultation_booked",
        now,
        actor=actor,
        consultation=str(consultation.public_id),
        starts_at=starts_at.isoformat(),
        duration_minutes=duration,
    )
    _announce(session, consultation, now, policy)
    return consultation


def reschedule(
    session: Session,
    consultation: Consultation,
    starts_at: datetime,
    now: datetime,
    policy: Policy,
    *,
    actor: Coordinator,
) -> Consultation:
    """Move the consultation: old reminders go, a new confirmation and new reminders come."""
    _check_active(consultation)
    starts_at = _checked_start(starts_at, now)
    if starts_at == consultation.starts_at:
        raise ConsultationError("The consultation is already at that time.")
    previous = consultation.starts_at
    outbox.cancel_pending(session, consultation.lead, consultation=consultation)
    consultation.starts_at = starts_at
    # A new time needs the prospect's confirmation again, and the old links stop working.
    consultation.status = C.SCHEDULED
    consultation.token_version += 1
    consultation.updated_at = now
    lifecycle.record_event(
        session,
        consultation.lead,
        "consultation_rescheduled",
        now,
        actor=actor,
        consultation=str(consultation.public_id),
        from_starts_at=previous.isoformat(),
        to_starts_at=starts_at.isoformat(),
    )
    _announce(session, consultation, now, policy)
    return consultation


def cancel(
    session: Session,
    consultation: Consultation,
    now: datetime,
    policy: Policy,
    *,
    actor: Coordinator | None,
    by: str = "coordinator",
    reason: str = "",
) -> Consultation:
    """Cancel it: reminders stop, the prospect is told, and the lead goes back to contacted."""
    _check_active(consultation)
    lead = consultation.lead
    outbox.cancel_pending(session, lead, consultation=consultation)
    consultation.status = C.CANCELLED
    consultation.token_version += 1
    consultation.updated_at = now
    lifecycle.record_event(
        session,
        lead,
        "consultation_cancelled",
        now,
        actor=actor,
        by=by if actor is None else "coordinator",
        consultation=str(consultation.public_id),
        reason=reason.strip(),
    )
    lifecycle.transition(
        session, lead, LeadStatus.CONTACTED, now, policy, actor=actor, by=by, reason="Consultation cancelled."
    )
    _schedule(session, consultation, "consultation_cancelled", lead.email, now)
    if actor is None:
        _schedule(session, consultation, "cancellation_alert", alert_recipient(lead), now, unique=now.isoformat())
    return consultation


def complete(
    session: Session, consultation: Consultation, now: datetime, policy: Policy, *, actor: Coordinator
) -> None:
    """Record that the consultation took place; the lead becomes consulted."""
    _record_outcome(session, consultation, C.COMPLETED, LeadStatus.CONSULTED, now, policy, actor)


def mark_no_show(
    session: Session, consultation: Consultation, now: datetime, policy: Policy, *, actor: Coordinator
) -> None:
    """Record that the prospect did not come; they are invited to book again."""
    _record_outcome(session, consultation, C.NO_SHOW, LeadStatus.NO_SHOW, now, policy, actor)
    zone = ZoneInfo(consultation.lead.clinic.timezone)
    hours = cadence.BusinessHours.parse(consultation.lead.clinic.business_hours)
    _schedule(session, consultation, "no_show_followup", consultation.lead.email, hours.next_open_moment(now, zone))


def confirm_by_prospect(session: Session, consultation: Consultation, now: datetime) -> bool:
    """The prospect confirmed through their link; False if it was confirmed already."""
    _check_active(consultation)
    if consultation.status == C.CONFIRMED:
        return False
    consultation.status = C.CONFIRMED
    consultation.updated_at = now
    lifecycle.record_event(
        session,
        consultation.lead,
        "consultation_confirmed",
        now,
        by="prospect",
        consultation=str(consultation.public_id),
    )
    return True


def request_reschedule(session: Session, consultation: Consultation, now: datetime, note: str = "") -> None:
    """The prospect asked for another time: it goes on the timeline and the coordinator is alerted."""
    _check_active(consultation)
    lead = consultation.lead
    lifecycle.record_event(
        session,
        lead,
        "reschedule_requested",
        now,
        by="prospect",
        consultation=str(consultation.public_id),
        note=note.strip()[:1000],
    )
    _schedule(session, consultation, "reschedule_request_alert", alert_recipient(lead), now, unique=now.isoformat())


def _record_outcome(
    session: Session,
    consultation: Consultation,
    outcome: ConsultationStatus,
    lead_status: LeadStatus,
    now: datetime,
    policy: Policy,
    actor: Coordinator,
) -> None:
    _check_active(consultation)
    if consultation.starts_at > now:
        raise ConsultationError("Record the outcome once the consultation has started.")
    outbox.cancel_pending(session, consultation.lead, consultation=consultation)
    consultation.status = outcome
    consultation.updated_at = now
    lifecycle.record_event(
        session,
        consultation.lead,
        "consultation_outcome",
        now,
        actor=actor,
        consultation=str(consultation.public_id),
        outcome=outcome.value,
    )
    lifecycle.transition(session, consultation.lead, lead_status, now, policy, actor=actor)


def _announce(session: Session, consultation: Consultation, now: datetime, policy: Policy) -> None:
    lead = consultation.lead
    outbox.schedule(
        session,
        kind="consultation_confirmed",
        lead=lead,
        consultation=consultation,
        recipient=lead.email,
        send_at=now,
        dedupe_key=confirmation_key(consultation),
    )
    zone = ZoneInfo(consultation.timezone)
    for offset, send_at in cadence.reminder_times(consultation.starts_at, policy.reminder_offsets, now, zone):
        outbox.schedule(
            session,
            kind="consultation_reminder",
            lead=lead,
            consultation=consultation,
            recipient=lead.email,
            send_at=send_at,
            dedupe_key=f"{reminder_key_prefix(consultation)}{int(offset.total_seconds())}s",
        )


def _schedule(
    session: Session, consultation: Consultation, kind: str, recipient: str, send_at: datetime, *, unique: str = ""
) -> None:
    outbox.schedule(
        session,
        kind=kind,
        lead=consultation.lead,
        consultation=consultation,
        recipient=recipient,
        send_at=send_at,
        dedupe_key=f"{kind}:{consultation.public_id}:{unique}",
    )


def _check_active(consultation: Consultation) -> None:
    if consultation.status not in ACTIVE_CONSULTATION:
        raise ConsultationError(f"This consultation is {consultation.status.value} and can no longer change.")


def _checked_start(starts_at: datetime, now: datetime) -> datetime:
    """Return the start in UTC, as stored and as the reminders' keys spell it."""
    if starts_at.tzinfo is None:
        raise InvalidConsultation("starts_at", "Give the start time with its timezone.")
    try:
        starts_at = starts_at.astimezone(UTC)
    except OverflowError:
        raise InvalidConsultation("starts_at", "Give a date before the year 9999.") from None
    if starts_at <= now:
        raise InvalidConsultation("starts_at", "The consultation must start in the future.")
    return starts_at
