"""leads/mailer.build for follow-ups, consultation notices and alerts: unsubscribe headers, .ics, links, privacy."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from icalendar import Calendar

from leads import consultations, links, mailer, policy
from leads.extensions import db
from leads.models import Condition, Consultation, Lead, Message
from tests.factories import default_clinic, receive

START = datetime(2026, 3, 10, 14, 0, tzinfo=UTC)  # Tuesday 10:00 EDT
WHEN = "Tuesday, March 10 at 10:00 AM EDT"
# Distinctive strings, so that "not in the email" cannot pass by accident.
MESSAGE_TEXT = "Zorblax tincture made my headaches vanish-ish"
HEARD_ABOUT = "Heard-Via-Glimmerwick-Podcast"
RESCHEDULE_NOTE = "Kelpwhistle infusion clashes with Tuesday"
PRIVATE = ("migraine", MESSAGE_TEXT.lower(), HEARD_ABOUT.lower(), RESCHEDULE_NOTE.lower())
MARKETING = ["followup_1", "followup_2", "followup_3", "no_show_followup"]
TRANSACTIONAL = [
    "inquiry_received",
    "new_lead_alert",
    "consultation_confirmed",
    "consultation_reminder",
    "consultation_cancelled",
    "reschedule_request_alert",
    "cancellation_alert",
]
UNSUBSCRIBE_URL = re.compile(r"http://clinic\.test/unsubscribe/[\w.-]+")
SELF_SERVICE_URL = re.compile(r"http://clinic\.test/c/([\w.-]+)")


@pytest.fixture
def lead(clocked_app, clock) -> Lead:
    """A new lead with three follow-ups, whose inquiry says things no email may repeat."""
    clocked_app.config["FOLLOWUP_SCHEDULE"] = "1d,3d,7d"
    clocked_app.extensions.pop("leads_policy", None)
    default_clinic().business_hours = ""
    db.session.commit()
    lead, _ = receive(clock(), condition=Condition.MIGRAINE, message=MESSAGE_TEXT, heard_about=HEARD_ABOUT)
    return lead


@pytest.fixture
def booked(lead, coordinator, clock) -> Consultation:
    consultation = consultations.book(db.session, lead, START, clock(), policy.current(), actor=coordinator)
    db.session.commit()
    return consultation


@pytest.fixture
def every_kind(booked, lead, coordinator, clock) -> dict[str, Message]:
    """One message of each kind, made by the domain: booked, asked to move, cancelled, re-booked, missed."""
    consultations.request_reschedule(db.session, booked, clock(), note=RESCHEDULE_NOTE)
    consultations.cancel(db.session, booked, clock(), policy.current(), actor=None, by="prospect")
    second = consultations.book(
        db.session, lead, clock() + timedelta(hours=3), clock(), policy.current(), actor=coordinator
    )
    clock.advance(hours=4)
    consultations.mark_no_show(db.session, second, clock(), policy.current(), actor=coordinator)
    db.session.commit()
    found: dict[str, Message] = {}
    for message in db.session.scalars(sa.select(Message).where(Message.lead_id == lead.id).order_by(Message.id)):
        found.setdefault(message.kind, message)
    assert sorted(found) == sorted(MARKETING + TRANSACTIONAL)
    return found


def first(lead: Lead, kind: str) -> Message:
    return db.session.scalars(
        sa.select(Message).where(Message.lead_id == lead.id, Message.kind == kind).order_by(Message.id)
    ).first()


def everything_in(email) -> str:
    """Subject, both parts and every attachment, lower-cased."""
    attached = " ".join(part.data.decode() if isinstance(part.data, bytes) else part.data for part in email.attachments)
    return " ".join([email.subject, email.body, email.html, attached]).lower()


# --- unsubscribe ------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", MARKETING)
def test_marketing_has_a_list_unsubscribe_header(every_kind, kind):
    headers = mailer.build(every_kind[kind]).extra_headers

    assert UNSUBSCRIBE_URL.fullmatch(headers["List-Unsubscribe"].strip("<>"))
    assert headers["List-Unsubscribe"].startswith("<") and headers["List-Unsubscribe"].endswith(">")


@pytest.mark.parametrize("kind", MARKETING)
def test_marketing_offers_one_click_unsubscribe(every_kind, kind):
    assert mailer.build(every_kind[kind]).extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


@pytest.mark.parametrize("kind", MARKETING)
def test_marketing_shows_the_header_unsubscribe_link_in_both_parts(every_kind, kind):
    email = mailer.build(every_kind[kind])
    url = email.extra_headers["List-Unsubscribe"].strip("<>")

    assert url in email.body
    assert url in email.html


def test_the_unsubscribe_link_names_the_prospects_address(lead):
    email = mailer.build(first(lead, "followup_1"))
    token = email.extra_headers["List-Unsubscribe"].strip("<>").rpartition("/")[2]

    assert links.email_for_unsubscribe_token(token) == "dana.whitfield@example.org"


@pytest.mark.parametrize("kind", TRANSACTIONAL)
def test_transactional_mail_has_no_list_unsubscribe_headers(every_kind, kind):
    headers = mailer.build(every_kind[kind]).extra_headers

    assert "List-Unsubscribe" not in headers
    assert "List-Unsubscribe-Post" not in headers


@pytest.mark.parametrize("kind", TRANSACTIONAL)
def test_transactional_mail_has_no_unsubscribe_link(every_kind, kind):
    email = mailer.build(every_kind[kind])

    assert "/unsubscribe/" not in email.body
    assert "/unsubscribe/" not in email.html


def test_a_later_followup_uses_the_last_template_and_says_it_is_the_last(clocked_app, clock):
    clocked_app.config["FOLLOWUP_SCHEDULE"] = "1d,2d,3d,4d,5d"
    clocked_app.extensions.pop("leads_policy", None)
    lead, _ = receive(clock())

    email = mailer.build(first(lead, "followup_5"))

    assert "this is our last email" in email.body
    assert email.extra_headers["X-Leads-Kind"] == "followup_5"


# --- the calendar invitation ------------------------------------------------------------------


def test_the_confirmation_attaches_a_calendar_request(booked, lead):
    [attachment] = mailer.build(first(lead, "consultation_confirmed")).attachments

    assert attachment.filename == "consultation.ics"
    assert attachment.content_type.split(";")[0] == "text/calendar"
    assert "method=REQUEST" in attachment.content_type
    assert str(Calendar.from_ical(attachment.data)["METHOD"]) == "REQUEST"


def test_the_cancellation_notice_attaches_a_calendar_cancel(every_kind):
    [attachment] = mailer.build(every_kind["consultation_cancelled"]).attachments

    assert attachment.filename == "consultation.ics"
    assert "method=CANCEL" in attachment.content_type
    assert b"METHOD:CANCEL" in attachment.data


@pytest.mark.parametrize("kind", [kind for kind in MARKETING + TRANSACTIONAL if not kind.startswith("consultation_c")])
def test_other_kinds_attach_nothing(every_kind, kind):
    assert mailer.build(every_kind[kind]).attachments == []


# --- the confirmation and reminders -----------------------------------------------------------


def test_the_confirmation_says_when_in_the_clinics_local_time(booked, lead):
    email = mailer.build(first(lead, "consultation_confirmed"))

    assert email.subject == f"Your consultation on {WHEN} | Riverside Ketamine Clinic"
    assert WHEN in email.body
    assert WHEN in email.html


def test_the_confirmation_carries_the_self_service_link_in_both_parts(booked, lead):
    email = mailer.build(first(lead, "consultation_confirmed"))

    assert SELF_SERVICE_URL.search(email.body)
    assert SELF_SERVICE_URL.search(email.html)


def test_the_self_service_link_opens_this_consultation(booked, lead, clock):
    email = mailer.build(first(lead, "consultation_confirmed"))
    token = SELF_SERVICE_URL.search(email.body)[1]

    assert links.consultation_for_token(db.session, token, clock(), timedelta(days=1)) == booked


def test_a_reminder_carries_the_time_and_the_self_service_link(booked, lead):
    email = mailer.build(first(lead, "consultation_reminder"))

    assert email.subject == f"Reminder: your consultation on {WHEN} | Riverside Ketamine Clinic"
    assert SELF_SERVICE_URL.search(email.body)


@pytest.mark.parametrize("kind", ["reschedule_request_alert", "cancellation_alert"])
def test_alerts_to_the_clinic_carry_no_self_service_link(every_kind, kind):
    email = mailer.build(every_kind[kind])

    assert email.recipients == ["frontdesk@riverside.test"]
    assert not SELF_SERVICE_URL.search(email.body + email.html)


# --- privacy ----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", MARKETING + TRANSACTIONAL)
def test_no_email_carries_the_condition_the_message_or_how_they_heard(every_kind, kind):
    text = everything_in(mailer.build(every_kind[kind]))

    assert [secret for secret in PRIVATE if secret in text] == []
