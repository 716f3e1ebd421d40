"""Follow-ups, consultations and reminders end to end, in seconds: the app, a real Celery worker
with beat, Redis and an SMTP server, with durations shortened through the settings."""

from datetime import timedelta

import pytest
import sqlalchemy as sa
from icalendar import Calendar

from leads import accounts, clock, links
from leads.extensions import db
from leads.models import Lead, LeadEvent, LeadStatus, Message, MessageStatus, Role, SweepHeartbeat
from tests.factories import inquiry_payload
from tests.processes import wait_for

pytestmark = pytest.mark.integration

PROSPECT = "dana.whitfield@example.org"


@pytest.fixture
def fast_schedule(app_config):
    """A whole sequence in seconds, at any hour: follow-ups 1 s and 2 s after the inquiry."""
    app_config.update(
        FOLLOWUP_SCHEDULE="1s,2s",
        BUSINESS_HOURS="",
        UNRESPONSIVE_AFTER="1s",
        LIFECYCLE_INTERVAL="0.3s",
        REMINDER_OFFSETS="4s,2s",
    )
    return app_config


@pytest.fixture
def later_followups(fast_schedule):
    """Follow-ups 3 s and 4 s after the inquiry: time enough to stop them first."""
    fast_schedule["FOLLOWUP_SCHEDULE"] = "3s,4s"
    return fast_schedule


@pytest.fixture
def auth(app):
    with app.app_context():
        coordinator = accounts.create_coordinator(
            db.session, email="sam@riverside.example", password="a long pass phrase", role=Role.ADMIN
        )
        token = accounts.create_api_token(db.session, coordinator)
        db.session.commit()
    return {"Authorization": f"Bearer {token}"}


def kinds_received(sink, address: str = PROSPECT) -> list[str]:
    return [email["X-Leads-Kind"] for email in sink.to(address)]


def lead_row(app) -> Lead:
    with app.app_context():
        lead = db.session.scalar(sa.select(Lead))
        db.session.expunge_all()
        return lead


def messages_of(app, kind: str) -> list[Message]:
    with app.app_context():
        rows = db.session.scalars(sa.select(Message).where(Message.kind == kind).order_by(Message.id)).all()
        db.session.expunge_all()
        return rows


def test_follow_ups_go_out_in_turn_then_the_lead_becomes_unresponsive(fast_schedule, app, client, worker, smtp_sink):
    client.post("/api/v1/inquiries", json=inquiry_payload())

    wait_for(lambda: lead_row(app).status == LeadStatus.UNRESPONSIVE, timeout=60, message="the lead to go quiet")

    assert kinds_received(smtp_sink) == ["inquiry_received", "followup_1", "followup_2"]
    for followup in smtp_sink.to(PROSPECT)[1:]:
        assert followup["List-Unsubscribe"].startswith("<http://clinic.test/unsubscribe/")
        assert followup["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    with app.app_context():
        change = db.session.scalar(sa.select(LeadEvent).where(LeadEvent.kind == "status_changed"))
        assert (change.data["to_status"], change.data["by"], change.actor) == ("unresponsive", "system", None)


def test_reaching_the_lead_stops_the_sequence(later_followups, app, client, worker, smtp_sink, auth):
    lead_id = client.post("/api/v1/inquiries", json=inquiry_payload()).json["id"]
    wait_for(lambda: "inquiry_received" in kinds_received(smtp_sink), message="the acknowledgment")

    response = client.patch(f"/api/v1/leads/{lead_id}", json={"status": "contacted"}, headers=auth)

    assert response.status_code == 200
    followups = messages_of(app, "followup_1") + messages_of(app, "followup_2")
    assert [row.status for row in followups] == [MessageStatus.CANCELLED] * 2
    last_due = max(row.send_at for row in followups)
    wait_for(lambda: swept_after(app, last_due + timedelta(seconds=1)), timeout=30, message="sweeps past the due times")
    assert kinds_received(smtp_sink) == ["inquiry_received"]


def swept_after(app, moment) -> bool:
    with app.app_context():
        beat = db.session.get(SweepHeartbeat, 1)
        return beat is not None and beat.swept_at > moment


def test_one_click_unsubscribe_stops_the_follow_ups(later_followups, app, client, worker, smtp_sink):
    client.post("/api/v1/inquiries", json=inquiry_payload())
    with app.app_context():
        token = links.unsubscribe_token(PROSPECT)

    response = client.post(
        f"/unsubscribe/{token}",
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 200
    last_due = max(row.send_at for row in messages_of(app, "followup_2"))
    wait_for(lambda: swept_after(app, last_due + timedelta(seconds=1)), timeout=30, message="sweeps past the due times")
    assert kinds_received(smtp_sink) == ["inquiry_received"]


def test_booking_rescheduling_and_cancelling_a_consultation(fast_schedule, app, client, worker, smtp_sink, auth):
    lead_id = client.post("/api/v1/inquiries", json=inquiry_payload()).json["id"]
    with app.app_context():
        start = clock.system_now() + timedelta(seconds=30)
    booked = client.post(
        f"/api/v1/leads/{lead_id}/consultations", json={"starts_at": start.isoformat()}, headers=auth
    ).json

    wait_for(lambda: "consultation_confirmed" in kinds_received(smtp_sink), message="the first confirmation")
    moved_to = start - timedelta(seconds=22)  # reminders at 2 s and 4 s before: both soon
    response = client.patch(
        f"/api/v1/consultations/{booked['id']}", json={"starts_at": moved_to.isoformat()}, headers=auth
    )
    assert response.status_code == 200

    wait_for(
        lambda: kinds_received(smtp_sink).count("consultation_reminder") == 2,
        timeout=60,
        message="both reminders for the new time",
    )
    confirmations = [email for email in smtp_sink.to(PROSPECT) if email["X-Leads-Kind"] == "consultation_confirmed"]
    invitations = [ics_of(email) for email in confirmations]
    assert [(event["method"], int(event["sequence"])) for event in invitations] == [("REQUEST", 0), ("REQUEST", 1)]
    assert invitations[0]["uid"] == invitations[1]["uid"]
    assert invitations[1]["dtstart"] == moved_to.replace(microsecond=0)
    reminders = messages_of(app, "consultation_reminder")
    assert sorted(row.status for row in reminders) == sorted([MessageStatus.CANCELLED] * 2 + [MessageStatus.SENT] * 2)

    cancelled = client.patch(f"/api/v1/consultations/{booked['id']}", json={"status": "cancelled"}, headers=auth)

    assert cancelled.status_code == 200
    wait_for(lambda: "consultation_cancelled" in kinds_received(smtp_sink), message="the cancellation notice")
    notice = next(email for email in smtp_sink.to(PROSPECT) if email["X-Leads-Kind"] == "consultation_cancelled")
    assert ics_of(notice)["method"] == "CANCEL"
    assert lead_row(app).status == LeadStatus.CONTACTED


def ics_of(email) -> dict:
    attachment = next(part for part in email.iter_attachments() if part.get_content_type() == "text/calendar")
    calendar = Calendar.from_ical(attachment.get_content())
    event = next(iter(calendar.walk("VEVENT")))
    return {
        "method": str(calendar["method"]),
        "uid": str(event["uid"]),
        "sequence": event["sequence"],
        "dtstart": event.decoded("dtstart"),
    }
