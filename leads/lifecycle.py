"""The lead state machine: which transitions are allowed, and the timeline event each one writes."""

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from leads.models import Coordinator, Lead, LeadEvent, LeadStatus

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


def transition(
    session: Session,
    lead: Lead,
    to: LeadStatus,
    now: datetime,
    *,
    actor: Coordinator | None = None,
    reason: str = "",
    by: str = "coordinator",
) -> LeadEvent:
    """Move the lead to `to`, or raise TransitionError; the change is recorded with its actor."""
    if not can_transition(lead, to):
        raise TransitionError(f"A lead that is {lead.status.value} cannot become {to.value}.")
    if to in NEEDS_REASON and not reason.strip():
        raise TransitionError(f"Give a reason to mark a lead {to.value}.")
    from_status = lead.status
    lead.status = to
    lead.updated_at = now
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
