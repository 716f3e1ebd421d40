"""The follow-up sequence: started by an inquiry, stopped by contact, closing or booking, ended by unresponsive."""

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from leads import consultations, lifecycle, policy
from leads.extensions import db
from leads.lifecycle import TransitionError
from leads.models import Lead, LeadEvent, LeadStatus, Message, MessageStatus
from tests.factories import default_clinic, receive

S = LeadStatus
M = MessageStatus


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def lead(followup_app, clock) -> Lead:
    lead, _ = receive(clock())
    return lead


def followups(lead: Lead) -> list[Message]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            sa.select(Message)
            .where(Message.lead_id == lead.id, Message.kind.like("followup_%"))
            .order_by(Message.send_at, Message.id)
        )
    )


def pending(lead: Lead) -> list[Message]:
    return [message for message in followups(lead) if message.status == M.SCHEDULED]


def send_followups(lead: Lead, *, last_at: datetime) -> None:
    """Mark every pending follow-up sent, the last one at `last_at`."""
    rows = pending(lead)
    for message in rows:
        message.status = M.SENT
        message.sent_at = min(message.send_at, last_at)
    rows[-1].sent_at = last_at
    db.session.commit()


def status_events(lead: Lead) -> list[LeadEvent]:
    return list(
        db.session.scalars(
            sa.select(LeadEvent)
            .where(LeadEvent.lead_id == lead.id, LeadEvent.kind == "status_changed")
            .order_by(LeadEvent.id)
        )
    )


# --- starting the sequence --------------------------------------------------------------------


def test_a_new_lead_gets_three_followups(lead):
    assert [(message.kind, message.status) for message in followups(lead)] == [
        ("followup_1", M.SCHEDULED),
        ("followup_2", M.SCHEDULED),
        ("followup_3", M.SCHEDULED),
    ]


def test_followups_go_one_three_and_seven_days_after_the_inquiry(lead):
    # Monday 10:00 EST; the 7-day one is Monday 10:00 EDT, after the clocks went forward.
    assert [message.send_at for message in followups(lead)] == [
        utc(2026, 3, 3, 15, 0),
        utc(2026, 3, 5, 15, 0),
        utc(2026, 3, 9, 14, 0),
    ]


def test_followups_go_to_the_prospect(lead):
    assert {message.recipient for message in followups(lead)} == {"dana.whitfield@example.org"}


def test_a_repeat_inquiry_while_new_does_not_start_a_second_sequence(lead, clock):
    clock.advance(hours=5)

    again, _ = receive(clock())

    assert again.id == lead.id
    assert len(followups(lead)) == 3


def test_the_clinics_business_hours_move_followups_into_opening_hours(followup_app, clock):
    default_clinic().business_hours = "Mon-Fri 09:00-18:00"
    db.session.commit()
    clock.current = utc(2026, 3, 6, 23, 30)  # Friday 18:30 EST, after closing

    lead, _ = receive(clock())

    # Saturday, Monday and next Friday evening move to 09:00 EDT (13:00 UTC) on the next weekday.
    assert [message.send_at for message in followups(lead)] == [
        utc(2026, 3, 9, 13, 0),
        utc(2026, 3, 10, 13, 0),
        utc(2026, 3, 16, 13, 0),
    ]


def test_an_empty_schedule_starts_no_followups(followup_app, clock):
    followup_app.config["FOLLOWUP_SCHEDULE"] = ""
    followup_app.extensions.pop("leads_policy", None)

    lead, _ = receive(clock())

    assert followups(lead) == []


# --- stopping it ------------------------------------------------------------------------------


def test_contacting_the_lead_cancels_every_pending_followup(lead, coordinator, clock):
    clock.advance(hours=3)

    lifecycle.transition(db.session, lead, S.CONTACTED, clock(), policy.current(), actor=coordinator)
    db.session.commit()

    assert [message.status for message in followups(lead)] == [M.CANCELLED] * 3


def test_contacting_the_lead_records_when(lead, coordinator, clock):
    clock.advance(hours=3)

    lifecycle.transition(db.session, lead, S.CONTACTED, clock(), policy.current(), actor=coordinator)
    db.session.commit()

    db.session.expire_all()
    assert lead.last_contacted_at == utc(2026, 3, 2, 18, 0)


def test_the_cancellations_roll_back_with_the_status_change(lead, coordinator, clock):
    lifecycle.transition(db.session, lead, S.CONTACTED, clock(), policy.current(), actor=coordinator)
    assert [message.status for message in followups_in_transaction(lead)] == [M.CANCELLED] * 3

    db.session.rollback()

    assert lead.status == S.NEW
    assert [message.status for message in followups(lead)] == [M.SCHEDULED] * 3


def followups_in_transaction(lead: Lead) -> list[Message]:
    # populate_existing reloads the rows inside the open transaction, without committing it.
    return list(
        db.session.scalars(
            sa.select(Message)
            .where(Message.lead_id == lead.id, Message.kind.like("followup_%"))
            .execution_options(populate_existing=True)
        )
    )


def test_contacting_the_lead_leaves_a_sent_followup_sent(lead, coordinator, clock):
    first = followups(lead)[0]
    first.status, first.sent_at = M.SENT, first.send_at
    db.session.commit()
    clock.advance(days=2)

    lifecycle.transition(db.session, lead, S.CONTACTED, clock(), policy.current(), actor=coordinator)
    db.session.commit()

    assert [message.status for message in followups(lead)] == [M.SENT, M.CANCELLED, M.CANCELLED]


def test_closing_the_lead_cancels_its_followups(lead, coordinator, clock):
    lifecycle.transition(db.session, lead, S.CLOSED, clock(), policy.current(), actor=coordinator, reason="Not a fit.")
    db.session.commit()

    assert pending(lead) == []


def test_booking_a_consultation_cancels_the_followups(lead, coordinator, clock):
    consultations.book(db.session, lead, clock() + timedelta(days=2), clock(), policy.current(), actor=coordinator)
    db.session.commit()

    assert [message.status for message in followups(lead)] == [M.CANCELLED] * 3


# --- re-opening -------------------------------------------------------------------------------


def test_a_repeat_inquiry_re_opens_a_closed_lead(lead, coordinator, clock):
    lifecycle.transition(db.session, lead, S.CLOSED, clock(), policy.current(), actor=coordinator, reason="Duplicate.")
    db.session.commit()
    clock.advance(days=10)

    again, _ = receive(clock())

    assert again.id == lead.id
    assert again.status == S.NEW


def test_a_re_opened_lead_gets_a_fresh_sequence_from_the_new_inquiry(lead, coordinator, clock):
    lifecycle.transition(db.session, lead, S.CLOSED, clock(), policy.current(), actor=coordinator, reason="Duplicate.")
    db.session.commit()
    clock.advance(days=10)

    receive(clock())

    fresh = pending(lead)
    assert [message.kind for message in fresh] == ["followup_1", "followup_2", "followup_3"]
    assert [message.send_at for message in fresh] == [
        utc(2026, 3, 13, 15, 0),
        utc(2026, 3, 15, 15, 0),
        utc(2026, 3, 19, 15, 0),
    ]
    assert len([message for message in followups(lead) if message.status == M.CANCELLED]) == 3


# --- unresponsive -----------------------------------------------------------------------------


def test_a_lead_is_not_unresponsive_before_the_grace_after_its_last_followup(lead, clock):
    last_sent = utc(2026, 3, 9, 14, 0)
    send_followups(lead, last_at=last_sent)
    clock.current = last_sent + timedelta(days=3) - timedelta(seconds=1)

    assert lifecycle.mark_unresponsive(db.session, clock(), policy.current()) == []
    assert lead.status == S.NEW


def test_a_lead_becomes_unresponsive_once_the_grace_after_its_last_followup_passed(lead, clock):
    last_sent = utc(2026, 3, 9, 14, 0)
    send_followups(lead, last_at=last_sent)
    clock.current = last_sent + timedelta(days=3)

    quiet = lifecycle.mark_unresponsive(db.session, clock(), policy.current())
    db.session.commit()

    assert [found.id for found in quiet] == [lead.id]
    db.session.expire_all()
    assert lead.status == S.UNRESPONSIVE


def test_becoming_unresponsive_is_recorded_as_done_by_the_system(lead, clock):
    send_followups(lead, last_at=utc(2026, 3, 9, 14, 0))
    clock.current = utc(2026, 3, 20)

    lifecycle.mark_unresponsive(db.session, clock(), policy.current())
    db.session.commit()

    [event] = status_events(lead)
    assert event.actor_id is None
    assert event.created_at == clock()
    assert (event.data["by"], event.data["from_status"], event.data["to_status"]) == ("system", "new", "unresponsive")


def test_a_lead_with_a_followup_still_pending_is_not_unresponsive(lead, clock):
    first, second, _ = followups(lead)
    for message in (first, second):
        message.status, message.sent_at = M.SENT, message.send_at
    db.session.commit()
    clock.current = utc(2026, 4, 30)

    assert lifecycle.mark_unresponsive(db.session, clock(), policy.current()) == []


def test_a_contacted_lead_is_not_made_unresponsive(lead, coordinator, clock):
    send_followups(lead, last_at=utc(2026, 3, 9, 14, 0))
    lifecycle.transition(db.session, lead, S.CONTACTED, clock(), policy.current(), actor=coordinator)
    db.session.commit()
    clock.current = utc(2026, 4, 30)

    assert lifecycle.mark_unresponsive(db.session, clock(), policy.current()) == []


def test_the_unresponsive_grace_follows_the_setting(followup_app, lead, clock):
    followup_app.config["UNRESPONSIVE_AFTER"] = "1d"
    followup_app.extensions.pop("leads_policy", None)
    send_followups(lead, last_at=utc(2026, 3, 9, 14, 0))
    clock.current = utc(2026, 3, 10, 14, 0)

    assert [found.id for found in lifecycle.mark_unresponsive(db.session, clock(), policy.current())] == [lead.id]


@pytest.fixture
def unresponsive_lead(lead, clock) -> Lead:
    send_followups(lead, last_at=utc(2026, 3, 9, 14, 0))
    clock.current = utc(2026, 3, 12, 14, 0)
    lifecycle.mark_unresponsive(db.session, clock(), policy.current())
    db.session.commit()
    return lead


def test_a_new_inquiry_re_opens_an_unresponsive_lead(unresponsive_lead, clock):
    clock.advance(days=2)

    again, _ = receive(clock())

    assert again.id == unresponsive_lead.id
    assert again.status == S.NEW


def test_a_new_inquiry_restarts_the_followups_of_an_unresponsive_lead(unresponsive_lead, clock):
    clock.advance(days=2)  # Saturday 2026-03-14 14:00 UTC

    receive(clock())

    assert [message.send_at for message in pending(unresponsive_lead)] == [
        utc(2026, 3, 15, 14, 0),
        utc(2026, 3, 17, 14, 0),
        utc(2026, 3, 21, 14, 0),
    ]


def test_re_opening_is_recorded_as_done_by_the_prospect(unresponsive_lead, clock):
    clock.advance(days=2)

    receive(clock())

    last = status_events(unresponsive_lead)[-1]
    assert (last.data["by"], last.data["from_status"], last.data["to_status"]) == ("prospect", "unresponsive", "new")


# --- change_status ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "target"),
    [(S.NEW, S.CONSULTATION_SCHEDULED), (S.CONSULTATION_SCHEDULED, S.CONSULTED), (S.CONSULTATION_SCHEDULED, S.NO_SHOW)],
    ids=["consultation_scheduled", "consulted", "no_show"],
)
def test_change_status_refuses_statuses_that_follow_a_consultation(lead, coordinator, clock, source, target):
    lead.status = source
    db.session.commit()

    with pytest.raises(TransitionError, match="through its consultation"):
        lifecycle.change_status(db.session, lead, target, clock(), policy.current(), actor=coordinator)


def test_change_status_to_contacted_cancels_the_followups(lead, coordinator, clock):
    lifecycle.change_status(db.session, lead, S.CONTACTED, clock(), policy.current(), actor=coordinator)
    db.session.commit()

    assert lead.status == S.CONTACTED
    assert pending(lead) == []


def test_change_status_to_closed_keeps_the_reason(lead, coordinator, clock):
    lifecycle.change_status(
        db.session, lead, S.CLOSED, clock(), policy.current(), actor=coordinator, reason="Not interested."
    )
    db.session.commit()

    [event] = status_events(lead)
    assert lead.status == S.CLOSED
    assert (event.actor_id, event.data["reason"]) == (coordinator.id, "Not interested.")


def test_change_status_to_closed_needs_a_reason(lead, coordinator, clock):
    with pytest.raises(TransitionError, match="reason"):
        lifecycle.change_status(db.session, lead, S.CLOSED, clock(), policy.current(), actor=coordinator)
