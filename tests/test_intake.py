"""leads/intake.py: an inquiry becomes a lead (or joins one) with its acknowledgment and alert."""

import pytest
import sqlalchemy as sa

from leads import intake, policy
from leads.extensions import db
from leads.models import Clinic, Lead, LeadEvent, LeadStatus, Message, MessageStatus, RejectedInquiry
from tests.factories import default_clinic, make_inquiry, receive


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def events(lead: Lead, kind: str) -> list[LeadEvent]:
    return list(
        db.session.scalars(
            sa.select(LeadEvent).where(LeadEvent.lead_id == lead.id, LeadEvent.kind == kind).order_by(LeadEvent.id)
        )
    )


def messages_of(lead: Lead) -> list[Message]:
    return list(db.session.scalars(sa.select(Message).where(Message.lead_id == lead.id).order_by(Message.id)))


def other_clinic() -> Clinic:
    clinic = Clinic(slug="lakeside", name="Lakeside Infusion", timezone="America/Chicago", inbox="desk@lakeside.test")
    db.session.add(clinic)
    db.session.commit()
    return clinic


def test_new_inquiry_creates_one_new_lead_with_e164_phone(clocked_app, clock):
    lead, _ = receive(clock(), phone="+12015550143")

    assert count(Lead) == 1
    assert lead.status is LeadStatus.NEW
    assert lead.phone == "+12015550143"
    assert lead.email == "dana.whitfield@example.org"
    assert lead.source == "web"
    assert lead.created_at == lead.last_inquiry_at == clock()


def test_new_inquiry_stores_the_consent_text_time_and_ip(clocked_app, clock):
    lead, _ = receive(clock())

    db.session.expire_all()
    assert lead.consent_text == "I agree."
    assert lead.consent_at == clock()
    assert lead.consent_ip == "203.0.113.9"


def test_new_inquiry_records_one_inquiry_received_event(clocked_app, clock):
    lead, _ = receive(clock(), message="Nothing has helped.")

    [event] = events(lead, "inquiry_received")
    assert event.actor_id is None
    assert event.created_at == clock()
    assert event.data["by"] == "prospect"
    assert event.data["repeat"] is False
    assert event.data["channel"] == "web"
    assert event.data["message"] == "Nothing has helped."
    assert event.data["consent_text"] == "I agree."
    assert count(LeadEvent) == 1


def test_new_inquiry_schedules_an_acknowledgment_and_a_clinic_alert_now(clocked_app, clock):
    lead, returned = receive(clock())

    rows = messages_of(lead)
    assert [(row.kind, row.recipient) for row in rows] == [
        ("inquiry_received", "dana.whitfield@example.org"),
        ("new_lead_alert", "frontdesk@riverside.test"),
    ]
    assert all(row.status is MessageStatus.SCHEDULED and row.send_at == clock() for row in rows)
    assert sorted(message.id for message in returned) == [row.id for row in rows]
    assert count(Message) == 2


def test_rollback_before_commit_leaves_no_lead_event_or_message(clocked_app, clock):
    clinic = default_clinic()
    db.session.commit()

    intake.receive_inquiry(
        db.session,
        clinic,
        make_inquiry(),
        channel="api",
        consent_text="I agree.",
        client_ip="203.0.113.9",
        now=clock(),
        policy=policy.current(),
    )
    db.session.rollback()

    assert (count(Lead), count(LeadEvent), count(Message)) == (0, 0, 0)


def test_same_address_within_the_window_joins_the_existing_lead(clocked_app, clock):
    first, _ = receive(clock())
    clock.advance(days=29)

    second, _ = receive(clock(), message="Writing again.")

    assert second.id == first.id
    assert count(Lead) == 1
    repeat = events(first, "inquiry_received")
    assert [event.data["repeat"] for event in repeat] == [False, True]
    assert repeat[1].data["message"] == "Writing again."
    assert repeat[1].created_at == clock()
    assert second.last_inquiry_at == clock()


def test_repeat_inquiry_schedules_a_new_acknowledgment_and_alert(clocked_app, clock):
    lead, _ = receive(clock())
    clock.advance(days=29)

    _, returned = receive(clock())

    assert sorted(message.kind for message in returned) == ["inquiry_received", "new_lead_alert"]
    assert all(message.send_at == clock() for message in returned)
    assert sorted(row.kind for row in messages_of(lead)) == [
        "inquiry_received",
        "inquiry_received",
        "new_lead_alert",
        "new_lead_alert",
    ]


def test_same_address_after_the_window_makes_a_new_lead(clocked_app, clock):
    first, _ = receive(clock())
    clock.advance(days=31)

    second, _ = receive(clock())

    assert second.id != first.id
    assert count(Lead) == 2
    assert second.status is LeadStatus.NEW
    assert [event.data["repeat"] for event in events(second, "inquiry_received")] == [False]


def test_window_runs_from_the_last_inquiry(clocked_app, clock):
    first, _ = receive(clock())
    clock.advance(days=20)
    receive(clock())
    clock.advance(days=20)

    third, _ = receive(clock())

    assert third.id == first.id


def test_same_address_matches_regardless_of_other_fields(clocked_app, clock):
    first, _ = receive(clock())
    clock.advance(days=1)

    second, _ = receive(clock(), first_name="Danielle", phone="+12015550199")

    assert second.id == first.id


@pytest.mark.parametrize("status", [LeadStatus.UNRESPONSIVE, LeadStatus.CLOSED])
def test_repeat_inquiry_reopens_a_quiet_or_closed_lead(clocked_app, clock, status):
    lead, _ = receive(clock())
    lead.status = status
    db.session.commit()
    clock.advance(days=10)

    receive(clock())

    db.session.expire_all()
    assert lead.status is LeadStatus.NEW
    [event] = events(lead, "status_changed")
    assert event.actor_id is None
    assert event.created_at == clock()
    assert event.data["by"] == "prospect"
    assert (event.data["from_status"], event.data["to_status"]) == (status.value, "new")
    assert event.data["reason"]


@pytest.mark.parametrize("status", [LeadStatus.CONTACTED, LeadStatus.CONSULTATION_SCHEDULED, LeadStatus.CONVERTED])
def test_repeat_inquiry_keeps_an_active_leads_status(clocked_app, clock, status):
    lead, _ = receive(clock())
    lead.status = status
    db.session.commit()
    clock.advance(days=10)

    receive(clock())

    db.session.expire_all()
    assert lead.status is status
    assert events(lead, "status_changed") == []
    assert len(events(lead, "inquiry_received")) == 2


def test_another_clinic_does_not_deduplicate(clocked_app, clock):
    first, _ = receive(clock())
    lakeside = other_clinic()

    second, returned = receive(clock(), clinic=lakeside)

    assert second.id != first.id
    assert second.clinic_id == lakeside.id
    assert count(Lead) == 2
    alert = next(message for message in returned if message.kind == "new_lead_alert")
    assert alert.recipient == "desk@lakeside.test"


def test_another_address_does_not_deduplicate(clocked_app, clock):
    first, _ = receive(clock())

    second, _ = receive(clock(), email="someone.else@example.org")

    assert second.id != first.id


def test_record_rejection_counts_the_refusal_and_makes_no_lead(clocked_app, clock):
    clinic = default_clinic()

    intake.record_rejection(db.session, clinic, channel="web", reason="honeypot", now=clock())
    db.session.commit()

    [rejected] = db.session.scalars(sa.select(RejectedInquiry)).all()
    assert (rejected.clinic_id, rejected.channel, rejected.reason) == (clinic.id, "web", "honeypot")
    assert rejected.created_at == clock()
    assert (count(Lead), count(LeadEvent), count(Message)) == (0, 0, 0)


def test_record_rejection_without_a_clinic(clocked_app, clock):
    intake.record_rejection(db.session, None, channel="api", reason="rate_limited", now=clock())
    db.session.commit()

    [rejected] = db.session.scalars(sa.select(RejectedInquiry)).all()
    assert rejected.clinic_id is None
    assert count(Lead) == 0
