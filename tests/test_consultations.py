"""leads/consultations.py: booking, rescheduling, cancelling, outcomes and the prospect's self-service."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from leads import consultations, lifecycle, outbox, policy
from leads.consultations import ConsultationError, InvalidConsultation
from leads.extensions import db
from leads.models import (
    Consultation,
    ConsultationStatus,
    Coordinator,
    Lead,
    LeadEvent,
    LeadStatus,
    Message,
    MessageStatus,
)
from tests.factories import default_clinic, receive

C = ConsultationStatus
S = LeadStatus
M = MessageStatus
START = datetime(2026, 3, 10, 14, 0, tzinfo=UTC)  # Tuesday 10:00 EDT; the clock starts Monday 2026-03-02 15:00 UTC


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def lead(clocked_app, clock) -> Lead:
    default_clinic().business_hours = "Mon-Fri 09:00-18:00"
    db.session.commit()
    lead, _ = receive(clock())
    return lead


def book(lead: Lead, coordinator: Coordinator, now: datetime, starts_at: datetime = START, **options) -> Consultation:
    consultation = consultations.book(db.session, lead, starts_at, now, policy.current(), actor=coordinator, **options)
    db.session.commit()
    return consultation


@pytest.fixture
def booked(lead, coordinator, clock) -> Consultation:
    return book(lead, coordinator, clock())


def messages(lead: Lead, kind: str, status: MessageStatus | None = None) -> list[Message]:
    db.session.expire_all()
    query = sa.select(Message).where(Message.lead_id == lead.id, Message.kind == kind)
    if status is not None:
        query = query.where(Message.status == status)
    return list(db.session.scalars(query.order_by(Message.send_at, Message.id)))


def events(lead: Lead, kind: str) -> list[LeadEvent]:
    return list(
        db.session.scalars(
            sa.select(LeadEvent).where(LeadEvent.lead_id == lead.id, LeadEvent.kind == kind).order_by(LeadEvent.id)
        )
    )


def at_start(clock) -> None:
    clock.current = START + timedelta(minutes=5)


# --- book -------------------------------------------------------------------------------------


def test_booking_schedules_the_consultation_in_the_clinics_timezone(booked):
    db.session.expire_all()
    assert booked.status == C.SCHEDULED
    assert booked.starts_at == START
    assert (booked.timezone, booked.duration_minutes, booked.token_version) == ("America/New_York", 30, 1)


def test_booking_takes_the_duration_given(lead, coordinator, clock):
    assert book(lead, coordinator, clock(), duration_minutes=45).duration_minutes == 45


def test_booking_moves_the_lead_to_consultation_scheduled(booked, lead):
    assert lead.status == S.CONSULTATION_SCHEDULED


def test_booking_records_an_event_by_the_coordinator(booked, lead, coordinator, clock):
    [event] = events(lead, "consultation_booked")

    assert event.actor_id == coordinator.id
    assert event.created_at == clock()
    assert event.data == {
        "consultation": str(booked.public_id),
        "starts_at": START.isoformat(),
        "duration_minutes": 30,
    }


def test_booking_sends_the_confirmation_now(booked, lead, clock):
    [confirmation] = messages(lead, "consultation_confirmed")

    assert (confirmation.status, confirmation.send_at) == (M.SCHEDULED, clock())
    assert (confirmation.recipient, confirmation.consultation_id) == (lead.email, booked.id)


def test_booking_schedules_reminders_24h_and_2h_before_the_start(booked, lead):
    reminders = messages(lead, "consultation_reminder")

    assert [message.send_at for message in reminders] == [utc(2026, 3, 9, 14, 0), utc(2026, 3, 10, 12, 0)]
    assert {(message.recipient, message.consultation_id) for message in reminders} == {(lead.email, booked.id)}


def test_booking_three_hours_ahead_schedules_only_the_2h_reminder(lead, coordinator, clock):
    book(lead, coordinator, clock(), starts_at=clock() + timedelta(hours=3))

    assert [message.send_at for message in messages(lead, "consultation_reminder")] == [clock() + timedelta(hours=1)]


@pytest.mark.parametrize("starts_in", [timedelta(hours=-1), timedelta(0)], ids=["past", "now"])
def test_booking_a_start_that_is_not_in_the_future_is_refused(lead, coordinator, clock, starts_in):
    with pytest.raises(InvalidConsultation, match="future") as raised:
        book(lead, coordinator, clock(), starts_at=clock() + starts_in)

    assert raised.value.field == "starts_at"


def test_booking_a_start_without_timezone_is_refused(lead, coordinator, clock):
    with pytest.raises(InvalidConsultation) as raised:
        book(lead, coordinator, clock(), starts_at=datetime(2026, 3, 10, 10, 0))

    assert raised.value.field == "starts_at"


@pytest.mark.parametrize("minutes", [3, 600])
def test_booking_a_duration_out_of_range_is_refused(lead, coordinator, clock, minutes):
    with pytest.raises(InvalidConsultation, match="5 to 480 minutes") as raised:
        book(lead, coordinator, clock(), duration_minutes=minutes)

    assert raised.value.field == "duration_minutes"


def test_a_refused_booking_leaves_the_lead_as_it_was(lead, coordinator, clock):
    with pytest.raises(InvalidConsultation):
        book(lead, coordinator, clock(), duration_minutes=3)

    assert lead.status == S.NEW


def test_booking_a_second_consultation_is_refused(booked, lead, coordinator, clock):
    with pytest.raises(ConsultationError, match="already has a consultation"):
        book(lead, coordinator, clock(), starts_at=START + timedelta(days=1))


def test_booking_again_after_a_cancellation_is_allowed(booked, lead, coordinator, clock):
    consultations.cancel(db.session, booked, clock(), policy.current(), actor=coordinator)
    db.session.commit()

    again = book(lead, coordinator, clock(), starts_at=START + timedelta(days=1))

    assert again.id != booked.id
    assert lead.status == S.CONSULTATION_SCHEDULED


def test_a_reminder_of_a_consultation_booked_in_local_time_still_applies(lead, coordinator, clock):
    book(lead, coordinator, clock(), starts_at=START.astimezone(ZoneInfo("America/New_York")))

    reminder = messages(lead, "consultation_reminder")[0]

    assert outbox.reason_not_to_send(db.session, reminder) is None


def test_a_lead_with_a_booked_consultation_cannot_be_closed_until_it_is_cancelled(booked, lead, coordinator, clock):
    with pytest.raises(lifecycle.TransitionError, match="Cancel the booked consultation first"):
        lifecycle.change_status(
            db.session, lead, S.CLOSED, clock(), policy.current(), actor=coordinator, reason="Not interested."
        )

    assert lead.status == S.CONSULTATION_SCHEDULED


# --- reschedule -------------------------------------------------------------------------------

NEW_START = utc(2026, 3, 12, 18, 30)  # Thursday 14:30 EDT


@pytest.fixture
def rescheduled(booked, coordinator, clock) -> Consultation:
    clock.advance(hours=1)
    consultations.reschedule(db.session, booked, NEW_START, clock(), policy.current(), actor=coordinator)
    db.session.commit()
    return booked


def test_rescheduling_cancels_the_old_reminders(rescheduled, lead):
    old = [message for message in messages(lead, "consultation_reminder") if message.send_at < utc(2026, 3, 11)]

    assert [message.status for message in old] == [M.CANCELLED, M.CANCELLED]


def test_rescheduling_cancels_the_old_confirmation(rescheduled, lead):
    first, _ = messages(lead, "consultation_confirmed")

    assert first.status == M.CANCELLED


def test_rescheduling_moves_the_consultation_and_bumps_its_token_version(rescheduled):
    db.session.expire_all()
    assert (rescheduled.starts_at, rescheduled.token_version) == (NEW_START, 2)


def test_rescheduling_a_confirmed_consultation_asks_for_confirmation_again(booked, coordinator, clock):
    consultations.confirm_by_prospect(db.session, booked, clock())
    consultations.reschedule(db.session, booked, NEW_START, clock(), policy.current(), actor=coordinator)
    db.session.commit()

    assert booked.status == C.SCHEDULED


def test_rescheduling_sends_a_new_confirmation_now(rescheduled, lead, clock):
    [confirmation] = messages(lead, "consultation_confirmed", M.SCHEDULED)

    assert confirmation.send_at == clock()
    assert confirmation.dedupe_key.endswith(":v2")


def test_rescheduling_schedules_reminders_for_the_new_time(rescheduled, lead):
    reminders = messages(lead, "consultation_reminder", M.SCHEDULED)

    assert [message.send_at for message in reminders] == [utc(2026, 3, 11, 18, 30), utc(2026, 3, 12, 16, 30)]


def test_rescheduling_records_the_old_and_new_times(rescheduled, lead, coordinator):
    [event] = events(lead, "consultation_rescheduled")

    assert event.actor_id == coordinator.id
    assert (event.data["from_starts_at"], event.data["to_starts_at"]) == (START.isoformat(), NEW_START.isoformat())


def test_rescheduling_to_the_same_time_is_refused(booked, coordinator, clock):
    with pytest.raises(ConsultationError, match="already at that time"):
        consultations.reschedule(db.session, booked, START, clock(), policy.current(), actor=coordinator)


def test_rescheduling_into_the_past_is_refused(booked, coordinator, clock):
    with pytest.raises(InvalidConsultation) as raised:
        consultations.reschedule(
            db.session, booked, clock() - timedelta(hours=1), clock(), policy.current(), actor=coordinator
        )

    assert raised.value.field == "starts_at"


# --- cancel -----------------------------------------------------------------------------------


def cancel(consultation: Consultation, now: datetime, actor: Coordinator | None, **options) -> None:
    consultations.cancel(db.session, consultation, now, policy.current(), actor=actor, **options)
    db.session.commit()


def test_cancelling_marks_the_consultation_cancelled(booked, coordinator, clock):
    cancel(booked, clock(), coordinator)

    db.session.expire_all()
    assert booked.status == C.CANCELLED


def test_cancelling_cancels_the_reminders(booked, lead, coordinator, clock):
    cancel(booked, clock(), coordinator)

    assert [message.status for message in messages(lead, "consultation_reminder")] == [M.CANCELLED, M.CANCELLED]


def test_cancelling_tells_the_prospect_at_once(booked, lead, coordinator, clock):
    clock.advance(hours=1)

    cancel(booked, clock(), coordinator)

    [notice] = messages(lead, "consultation_cancelled")
    assert (notice.status, notice.send_at, notice.recipient) == (M.SCHEDULED, clock(), lead.email)


def test_cancelling_puts_the_lead_back_to_contacted(booked, lead, coordinator, clock):
    cancel(booked, clock(), coordinator)

    assert lead.status == S.CONTACTED


def test_a_coordinators_cancellation_does_not_alert_the_clinic(booked, lead, coordinator, clock):
    cancel(booked, clock(), coordinator)

    assert messages(lead, "cancellation_alert") == []


def test_a_prospects_cancellation_alerts_the_clinic_inbox(booked, lead, clock):
    cancel(booked, clock(), None, by="prospect")

    [alert] = messages(lead, "cancellation_alert")
    assert (alert.recipient, alert.send_at) == ("frontdesk@riverside.test", clock())


def test_a_prospects_cancellation_is_recorded_as_theirs(booked, lead, clock):
    cancel(booked, clock(), None, by="prospect", reason="  Feeling better.  ")

    [event] = events(lead, "consultation_cancelled")
    assert event.actor_id is None
    assert (event.data["by"], event.data["reason"]) == ("prospect", "Feeling better.")


# --- outcomes ---------------------------------------------------------------------------------


def test_completing_before_the_start_is_refused(booked, coordinator, clock):
    with pytest.raises(ConsultationError, match="once the consultation has started"):
        consultations.complete(db.session, booked, clock(), policy.current(), actor=coordinator)


def test_completing_after_the_start_makes_the_lead_consulted(booked, lead, coordinator, clock):
    at_start(clock)

    consultations.complete(db.session, booked, clock(), policy.current(), actor=coordinator)
    db.session.commit()

    assert (booked.status, lead.status) == (C.COMPLETED, S.CONSULTED)


def test_completing_records_the_outcome(booked, lead, coordinator, clock):
    at_start(clock)

    consultations.complete(db.session, booked, clock(), policy.current(), actor=coordinator)
    db.session.commit()

    [event] = events(lead, "consultation_outcome")
    assert (event.actor_id, event.data["outcome"]) == (coordinator.id, "completed")


def test_a_no_show_marks_the_lead_no_show(booked, lead, coordinator, clock):
    at_start(clock)

    consultations.mark_no_show(db.session, booked, clock(), policy.current(), actor=coordinator)
    db.session.commit()

    assert (booked.status, lead.status) == (C.NO_SHOW, S.NO_SHOW)


def test_a_no_show_invites_the_prospect_to_book_again(booked, lead, coordinator, clock):
    at_start(clock)

    consultations.mark_no_show(db.session, booked, clock(), policy.current(), actor=coordinator)
    db.session.commit()

    [followup] = messages(lead, "no_show_followup")
    assert (followup.status, followup.send_at, followup.recipient) == (M.SCHEDULED, clock(), lead.email)


def test_a_no_show_recorded_after_hours_invites_during_business_hours(booked, lead, coordinator, clock):
    clock.current = utc(2026, 3, 10, 23, 0)  # Tuesday 19:00 EDT

    consultations.mark_no_show(db.session, booked, clock(), policy.current(), actor=coordinator)
    db.session.commit()

    assert [message.send_at for message in messages(lead, "no_show_followup")] == [utc(2026, 3, 11, 13, 0)]


def test_booking_again_after_a_no_show_cancels_the_pending_invitation(booked, lead, coordinator, clock):
    clock.current = utc(2026, 3, 10, 23, 0)
    consultations.mark_no_show(db.session, booked, clock(), policy.current(), actor=coordinator)
    db.session.commit()

    book(lead, coordinator, clock(), starts_at=utc(2026, 3, 17, 14, 0))

    assert [message.status for message in messages(lead, "no_show_followup")] == [M.CANCELLED]
    assert lead.status == S.CONSULTATION_SCHEDULED


# --- the prospect's self-service --------------------------------------------------------------


def test_the_prospect_confirming_marks_the_consultation_confirmed(booked, clock):
    assert consultations.confirm_by_prospect(db.session, booked, clock()) is True
    db.session.commit()

    db.session.expire_all()
    assert booked.status == C.CONFIRMED


def test_the_prospect_confirming_is_recorded_as_theirs(booked, lead, clock):
    consultations.confirm_by_prospect(db.session, booked, clock())
    db.session.commit()

    [event] = events(lead, "consultation_confirmed")
    assert event.actor_id is None
    assert event.data == {"by": "prospect", "consultation": str(booked.public_id)}


def test_confirming_twice_returns_false_and_records_once(booked, lead, clock):
    consultations.confirm_by_prospect(db.session, booked, clock())

    assert consultations.confirm_by_prospect(db.session, booked, clock()) is False
    assert len(events(lead, "consultation_confirmed")) == 1


def test_a_reschedule_request_is_recorded_with_the_note(booked, lead, clock):
    consultations.request_reschedule(db.session, booked, clock(), note="  Mornings are better.  ")
    db.session.commit()

    [event] = events(lead, "reschedule_requested")
    assert event.actor_id is None
    assert (event.data["by"], event.data["note"]) == ("prospect", "Mornings are better.")


def test_a_reschedule_request_alerts_the_clinic_inbox(booked, lead, clock):
    consultations.request_reschedule(db.session, booked, clock())
    db.session.commit()

    [alert] = messages(lead, "reschedule_request_alert")
    assert (alert.recipient, alert.send_at) == ("frontdesk@riverside.test", clock())


def test_a_reschedule_request_alerts_the_assigned_coordinator(booked, lead, coordinator, clock):
    lead.assignee = coordinator
    db.session.commit()

    consultations.request_reschedule(db.session, booked, clock())
    db.session.commit()

    assert [alert.recipient for alert in messages(lead, "reschedule_request_alert")] == ["sam@riverside.example"]


def test_a_reschedule_request_keeps_the_consultation_as_it_is(booked, clock):
    consultations.request_reschedule(db.session, booked, clock())
    db.session.commit()

    db.session.expire_all()
    assert (booked.status, booked.starts_at, booked.token_version) == (C.SCHEDULED, START, 1)


# --- a consultation that is over cannot change -------------------------------------------------

CHANGES = {
    "reschedule": lambda c, now, actor: consultations.reschedule(
        db.session, c, NEW_START, now, policy.current(), actor=actor
    ),
    "cancel": lambda c, now, actor: consultations.cancel(db.session, c, now, policy.current(), actor=actor),
    "complete": lambda c, now, actor: consultations.complete(db.session, c, now, policy.current(), actor=actor),
    "mark_no_show": lambda c, now, actor: consultations.mark_no_show(db.session, c, now, policy.current(), actor=actor),
    "confirm_by_prospect": lambda c, now, actor: consultations.confirm_by_prospect(db.session, c, now),
    "request_reschedule": lambda c, now, actor: consultations.request_reschedule(db.session, c, now, "Later?"),
}


@pytest.mark.parametrize("change", CHANGES)
def test_a_cancelled_consultation_cannot_change(booked, coordinator, clock, change):
    cancel(booked, clock(), coordinator)
    at_start(clock)

    with pytest.raises(ConsultationError, match="is cancelled and can no longer change"):
        CHANGES[change](booked, clock(), coordinator)


@pytest.mark.parametrize("change", CHANGES)
def test_a_completed_consultation_cannot_change(booked, coordinator, clock, change):
    at_start(clock)
    consultations.complete(db.session, booked, clock(), policy.current(), actor=coordinator)
    db.session.commit()

    with pytest.raises(ConsultationError, match="is completed and can no longer change"):
        CHANGES[change](booked, clock(), coordinator)
