"""leads/lifecycle.py: the lead state machine and the status_changed events it writes."""

import pytest
import sqlalchemy as sa

from leads import policy
from leads.extensions import db
from leads.lifecycle import ALLOWED_TRANSITIONS, TransitionError, can_transition, transition
from leads.models import Coordinator, Lead, LeadEvent, LeadStatus
from tests.factories import receive

S = LeadStatus
ALLOWED = [(source, target) for source, targets in ALLOWED_TRANSITIONS.items() for target in sorted(targets)]
FORBIDDEN = [
    (source, target) for source in LeadStatus for target in LeadStatus if target not in ALLOWED_TRANSITIONS[source]
]


def _ids(pairs):
    return [f"{source.value}->{target.value}" for source, target in pairs]


@pytest.fixture
def lead(clocked_app, clock):
    lead, _ = receive(clock())
    return lead


@pytest.fixture
def coordinator(clocked_app):
    person = Coordinator(email="sam@riverside.test", password_hash="not-a-real-hash")
    db.session.add(person)
    db.session.commit()
    return person


def put_in(lead: Lead, status: LeadStatus) -> Lead:
    lead.status = status
    db.session.commit()
    return lead


def status_events(lead: Lead) -> list[LeadEvent]:
    return list(
        db.session.scalars(sa.select(LeadEvent).where(LeadEvent.lead_id == lead.id, LeadEvent.kind == "status_changed"))
    )


def test_the_design_diagram_is_the_transition_table():
    assert {
        S.NEW: {S.CONTACTED, S.CONSULTATION_SCHEDULED, S.UNRESPONSIVE, S.CLOSED},
        S.CONTACTED: {S.CONSULTATION_SCHEDULED, S.UNRESPONSIVE, S.CLOSED},
        S.CONSULTATION_SCHEDULED: {S.CONSULTED, S.NO_SHOW, S.CONTACTED, S.CLOSED},
        S.NO_SHOW: {S.CONSULTATION_SCHEDULED, S.CONTACTED, S.CLOSED},
        S.CONSULTED: {S.CONVERTED, S.CLOSED},
        S.CONVERTED: set(),
        S.UNRESPONSIVE: {S.NEW, S.CONTACTED, S.CONSULTATION_SCHEDULED, S.CLOSED},
        S.CLOSED: {S.NEW, S.CONTACTED},
    } == ALLOWED_TRANSITIONS


@pytest.mark.parametrize(("source", "target"), ALLOWED, ids=_ids(ALLOWED))
def test_allowed_transition_changes_status_and_records_who_and_why(lead, coordinator, clock, source, target):
    put_in(lead, source)
    clock.advance(hours=2)

    transition(db.session, lead, target, clock(), policy.current(), actor=coordinator, reason="  Spoke on the phone.  ")
    db.session.commit()

    db.session.expire_all()
    assert lead.status is target
    assert lead.updated_at == clock()
    [event] = status_events(lead)
    assert event.actor_id == coordinator.id
    assert event.created_at == clock()
    assert event.data == {
        "by": "coordinator",
        "from_status": source.value,
        "to_status": target.value,
        "reason": "Spoke on the phone.",
    }


@pytest.mark.parametrize(("source", "target"), FORBIDDEN, ids=_ids(FORBIDDEN))
def test_forbidden_transition_raises_and_changes_nothing(lead, coordinator, clock, source, target):
    put_in(lead, source)
    updated_at = lead.updated_at
    assert not can_transition(lead, target)

    with pytest.raises(TransitionError, match=f"{source.value} cannot become {target.value}"):
        transition(
            db.session, lead, target, clock.advance(hours=1), policy.current(), actor=coordinator, reason="Because."
        )
    db.session.commit()

    db.session.expire_all()
    assert lead.status is source
    assert lead.updated_at == updated_at
    assert status_events(lead) == []


@pytest.mark.parametrize("reason", ["", "   ", "\n\t"])
def test_closing_without_a_reason_is_refused(lead, coordinator, clock, reason):
    with pytest.raises(TransitionError, match="reason"):
        transition(db.session, lead, S.CLOSED, clock(), policy.current(), actor=coordinator, reason=reason)
    db.session.commit()

    db.session.expire_all()
    assert lead.status is S.NEW
    assert status_events(lead) == []


def test_closing_with_a_reason_records_it(lead, coordinator, clock):
    event = transition(db.session, lead, S.CLOSED, clock(), policy.current(), actor=coordinator, reason="Not a fit")
    db.session.commit()

    assert lead.status is S.CLOSED
    assert event.data["reason"] == "Not a fit"


def test_a_transition_without_an_actor_records_the_system_or_prospect(lead, clock):
    event = transition(db.session, lead, S.UNRESPONSIVE, clock(), policy.current(), by="system")
    db.session.commit()

    assert event.actor_id is None
    assert event.data["by"] == "system"


def test_a_coordinator_actor_is_always_recorded_as_coordinator(lead, coordinator, clock):
    event = transition(db.session, lead, S.CONTACTED, clock(), policy.current(), actor=coordinator, by="system")

    assert event.data["by"] == "coordinator"
    assert event.actor is coordinator
