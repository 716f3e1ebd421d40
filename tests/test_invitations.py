"""leads/invitations.consultation_ics: the calendar invitation, read back as a calendar program would."""

from datetime import UTC, datetime, timedelta

import pytest
from icalendar import Calendar

from leads import consultations, invitations, policy
from leads.extensions import db
from leads.models import Condition, Consultation, Coordinator
from tests.factories import receive

START = datetime(2026, 3, 10, 14, 0, tzinfo=UTC)
NEW_START = datetime(2026, 3, 12, 18, 30, tzinfo=UTC)
SENDER = "Riverside Ketamine Clinic <care@riverside.test>"
MESSAGE_TEXT = "Zorblax tincture made my headaches vanish-ish"


@pytest.fixture
def booked(clocked_app, coordinator, clock) -> Consultation:
    lead, _ = receive(clock(), condition=Condition.MIGRAINE, message=MESSAGE_TEXT)
    consultation = consultations.book(
        db.session, lead, START, clock(), policy.current(), actor=coordinator, duration_minutes=45
    )
    db.session.commit()
    return consultation


def reschedule(consultation: Consultation, coordinator: Coordinator, now: datetime) -> None:
    consultations.reschedule(db.session, consultation, NEW_START, now, policy.current(), actor=coordinator)
    db.session.commit()


def ics(consultation: Consultation, now: datetime, *, cancelled: bool = False) -> bytes:
    db.session.expire_all()  # read it back as the sending worker does
    return invitations.consultation_ics(consultation, sender=SENDER, now=now, cancelled=cancelled)


def parsed(data: bytes) -> Calendar:
    return Calendar.from_ical(data)


def the_event(data: bytes):
    [event] = parsed(data).walk("VEVENT")
    return event


def test_an_invitation_is_a_request(booked, clock):
    assert str(parsed(ics(booked, clock()))["METHOD"]) == "REQUEST"


def test_an_invitation_holds_one_event(booked, clock):
    assert len(parsed(ics(booked, clock())).walk("VEVENT")) == 1


def test_the_event_starts_at_the_consultation_start_in_utc(booked, clock):
    start = the_event(ics(booked, clock())).decoded("DTSTART")

    assert start == START
    assert start.utcoffset() == timedelta(0)


def test_the_event_ends_after_the_consultations_duration(booked, clock):
    assert the_event(ics(booked, clock())).decoded("DTEND") == START + timedelta(minutes=45)


def test_the_event_is_stamped_with_the_time_it_was_made(booked, clock):
    assert the_event(ics(booked, clock())).decoded("DTSTAMP") == clock()


def test_the_summary_names_the_clinic_only(booked, clock):
    assert str(the_event(ics(booked, clock()))["SUMMARY"]) == "Consultation at Riverside Ketamine Clinic"


def test_the_invitation_carries_no_health_details(booked, clock):
    text = ics(booked, clock()).decode().lower()

    assert "migraine" not in text
    assert "zorblax" not in text


def test_the_attendee_is_the_prospect(booked, clock):
    assert str(the_event(ics(booked, clock()))["ATTENDEE"]) == "mailto:dana.whitfield@example.org"


def test_the_organizer_is_the_clinic_inbox(booked, clock):
    assert str(the_event(ics(booked, clock()))["ORGANIZER"]) == "mailto:frontdesk@riverside.test"


def test_the_uid_is_the_consultations_public_id_at_the_senders_domain(booked, clock):
    assert str(the_event(ics(booked, clock()))["UID"]) == f"consultation-{booked.public_id}@riverside.test"


def test_the_first_invitation_has_sequence_zero(booked, clock):
    assert the_event(ics(booked, clock())).decoded("SEQUENCE") == 0


def test_a_rescheduled_invitation_keeps_the_uid(booked, coordinator, clock):
    before = str(the_event(ics(booked, clock()))["UID"])

    reschedule(booked, coordinator, clock())

    assert str(the_event(ics(booked, clock()))["UID"]) == before


def test_a_rescheduled_invitation_has_sequence_one(booked, coordinator, clock):
    reschedule(booked, coordinator, clock())

    assert the_event(ics(booked, clock())).decoded("SEQUENCE") == 1


def test_a_rescheduled_invitation_has_the_new_time(booked, coordinator, clock):
    reschedule(booked, coordinator, clock())

    event = the_event(ics(booked, clock()))
    assert (event.decoded("DTSTART"), event.decoded("DTEND")) == (NEW_START, NEW_START + timedelta(minutes=45))


def test_an_invitation_is_confirmed(booked, clock):
    assert str(the_event(ics(booked, clock()))["STATUS"]) == "CONFIRMED"


def test_a_cancellation_is_a_cancel(booked, clock):
    assert str(parsed(ics(booked, clock(), cancelled=True))["METHOD"]) == "CANCEL"


def test_a_cancellation_has_status_cancelled(booked, clock):
    assert str(the_event(ics(booked, clock(), cancelled=True))["STATUS"]) == "CANCELLED"


def test_a_cancellation_supersedes_the_invitation_it_cancels(booked, coordinator, clock):
    invitation = the_event(ics(booked, clock()))

    consultations.cancel(db.session, booked, clock(), policy.current(), actor=coordinator)
    db.session.commit()
    cancellation = the_event(ics(booked, clock(), cancelled=True))

    assert cancellation["UID"] == invitation["UID"]
    assert cancellation.decoded("SEQUENCE") > invitation.decoded("SEQUENCE")
