"""The lead state machine: which transitions are allowed, the event each writes, and the follow-up
sequence they start or stop. Callers own the transaction; everything here happens inside it."""

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from leads import cadence, outbox
from leads.message_kinds import followup_kind
from leads.models import Coordinator, Lead, LeadEvent, LeadStatus, Message, MessageStatus
from leads.policy import Policy

S = LeadStatus

ALLOWED_TRANSITIONS: dict[LeadStatus, frozenset[LeadStatus]] = {
    S.NEW: frozenset({S.CONTACTED, S.CONSULTATION_SCHEDULED, S.UNRESPONSIVE, S.CLOSED}),
    S.CONTACTED: frozenset({S.CONSULTATION_SCHEDULED, S.UNRESPONSIVE, S.CLOSED}),
    S.CONSULTATION_SCHEDULED: frozenset({S.CONSULTED, S.NO_SHOW, S.CONTACTED, S.CLOSED}),
    S.NO_SHOW: frozenset({S.CONSULTATION_SCHEDULED, S.CONTACTED, S.CLOSED}),
    S.CONSULTED: frozenset({S.CONVERTED, S.CLOSED}),
    S.CONVERTED: frozenset(),
    # A reply or a new inquiry re-opens these.
    S.UNRESPONSIVE: frozenset({S.NEW, S.CONTACTED, S.CONSULTATION_SCHEDULED, S.CLOSED}),
    S.CLOSED: frozenset({S.NEW, S.CONTACTED}),
}
NEEDS_REASON = frozenset({S.CLOSED})
# The marketing that belongs to a status stops when the lead leaves it (reached, booked, closed…).
STOPPED_ON_LEAVING = {S.NEW: "followup_", S.NO_SHOW: "no_show_followup"}
# These follow from a consultation being booked, held or missed, never from a bare status change.
SET_BY_CONSULTATIONS = frozenset({S.CONSULTATION_SCHEDULED, S.CONSULTED, S.NO_SHOW})
SYSTEM = "system"


class TransitionError(Exception):
    """The lifecycle does not allow this change."""


def record_event(
    session: Session,
    lead: Lead,
    kind: str,
    now: datetime,
    *,
    actor: Coordinator | None = None,
    **data: Any,
) -> LeadEvent:
    """Append an event to the lead's timeline; `actor` None means the system or the prospect."""
    event = LeadEvent(lead=lead, kind=kind, actor=actor, data=data, created_at=now)
    session.add(event)
    return event


def can_transition(lead: Lead, to: LeadStatus) -> bool:
    return to in ALLOWED_TRANSITIONS[lead.status]


def manual_targets(lead: Lead) -> list[LeadStatus]:
    """The statuses a coordinator may pick for this lead directly (the rest follow consultations)."""
    if lead.status == S.CONSULTATION_SCHEDULED or lead.erased_at is not None:
        return []
    return [status for status in LeadStatus if can_transition(lead, status) and status not in SET_BY_CONSULTATIONS]


def change_status(
    session: Session, lead: Lead, to: LeadStatus, now: datetime, policy: Policy, *, actor: Coordinator, reason: str = ""
) -> LeadEvent:
    """A coordinator's status change; consultation statuses must come from booking or an outcome."""
    if to in SET_BY_CONSULTATIONS and can_transition(lead, to):
        raise TransitionError(f"A lead becomes {to.value} through its consultation, not by a status change.")
    if lead.status == S.CONSULTATION_SCHEDULED and can_transition(lead, to):
        # Otherwise the prospect would still be reminded of a consultation nobody expects them at.
        raise TransitionError("Cancel the booked consultation first, or record its outcome.")
    return transition(session, lead, to, now, policy, actor=actor, reason=reason)


def transition(
    session: Session,
    lead: Lead,
    to: LeadStatus,
    now: datetime,
    policy: Policy,
    *,
    actor: Coordinator | None = None,
    reason: str = "",
    by: str = "coordinator",
) -> LeadEvent:
    """Move the lead to `to`, or raise TransitionError; record it and start or stop follow-ups."""
    if lead.erased_at is not None:
        raise TransitionError("This lead was erased; nothing about it can change.")
    if not can_transition(lead, to):
        raise TransitionError(f"A lead that is {lead.status.value} cannot become {to.value}.")
    if to in NEEDS_REASON and not reason.strip():
        raise TransitionError(f"Give a reason to mark a lead {to.value}.")
    from_status = lead.status
    lead.status = to
    lead.updated_at = now
    if to == S.CONTACTED:
        lead.last_contacted_at = now
    if from_status in STOPPED_ON_LEAVING:
        outbox.cancel_pending(session, lead, kind_prefix=STOPPED_ON_LEAVING[from_status])
    if to == S.NEW:
        start_followups(session, lead, now, policy)
    return record_event(
        session,
        lead,
        "status_changed",
        now,
        actor=actor,
        by=by if actor is None else "coordinator",
        from_status=from_status.value,
        to_status=to.value,
        reason=reason.strip(),
    )


CALL_OUTCOMES = ("reached", "voicemail", "no_answer", "wrong_number")


def log_call(
    session: Session, lead: Lead, outcome: str, now: datetime, policy: Policy, *, actor: Coordinator, note: str = ""
) -> LeadEvent:
    """Record a call; reaching a new or unresponsive lead makes it contacted (and stops follow-ups)."""
    if outcome not in CALL_OUTCOMES:
        raise TransitionError(f"A call's outcome is one of: {', '.join(CALL_OUTCOMES)}.")
    event = record_event(session, lead, "call_logged", now, actor=actor, outcome=outcome, note=note.strip()[:5000])
    if outcome == "reached":
        lead.last_contacted_at = now
        if lead.status in (S.NEW, S.UNRESPONSIVE):
            transition(session, lead, S.CONTACTED, now, policy, actor=actor, reason="Reached by phone.")
    return event


def may_be_assigned(coordinator: Coordinator, lead: Lead) -> bool:
    """An active coordinator of every clinic, or of the lead's own."""
    return coordinator.active and coordinator.clinic_id in (None, lead.clinic_id)


def assign(
    session: Session, lead: Lead, assignee: Coordinator | None, now: datetime, *, actor: Coordinator
) -> LeadEvent:
    """Give the lead to a coordinator (None: to nobody); alerts about it then go to them."""
    if assignee is not None and not may_be_assigned(assignee, lead):
        raise TransitionError("This coordinator is inactive or works for another clinic.")
    previous = lead.assignee
    lead.assignee = assignee
    lead.updated_at = now
    return record_event(
        session,
        lead,
        "assigned",
        now,
        actor=actor,
        from_assignee=previous.email if previous else None,
        to_assignee=assignee.email if assignee else None,
    )


def start_followups(session: Session, lead: Lead, now: datetime, policy: Policy) -> list[Message]:
    """Schedule the follow-up sequence from `now` in the clinic's business hours."""
    zone = ZoneInfo(lead.clinic.timezone)
    hours = cadence.BusinessHours.parse(lead.clinic.business_hours)
    times = cadence.followup_times(now, policy.followup_schedule, hours, zone)
    # One sequence per time the lead is opened: the start time keeps a re-opened lead's keys new.
    sequence = f"{lead.public_id}:{now.isoformat()}"
    scheduled = (
        outbox.schedule(
            session,
            kind=followup_kind(number),
            lead=lead,
            recipient=lead.email,
            send_at=send_at,
            dedupe_key=f"{followup_kind(number)}:{sequence}",
        )
        for number, send_at in enumerate(times, start=1)
    )
    return [message for message in scheduled if message is not None]


def leads_gone_quiet(session: Session, now: datetime, policy: Policy, *, limit: int = 500) -> list[Lead]:
    """New leads whose follow-ups have all gone, the last one longer ago than the grace period."""
    followups = (
        sa.select(Message.lead_id)
        .where(Message.kind.like("followup_%"))
        .group_by(Message.lead_id)
        .having(
            sa.func.sum(sa.case((Message.status.in_([*outbox.PENDING, MessageStatus.SENDING]), 1), else_=0)) == 0,
            sa.func.max(Message.sent_at) <= now - policy.unresponsive_after,
        )
    )
    return list(
        session.scalars(
            sa.select(Lead).where(Lead.status == S.NEW, Lead.id.in_(followups)).order_by(Lead.id).limit(limit)
        )
    )


def mark_unresponsive(session: Session, now: datetime, policy: Policy) -> list[Lead]:
    """Move every lead that went quiet to unresponsive, as the system."""
    quiet = leads_gone_quiet(session, now, policy)
    for lead in quiet:
        transition(session, lead, S.UNRESPONSIVE, now, policy, by=SYSTEM, reason="No answer to any follow-up.")
    return quiet
