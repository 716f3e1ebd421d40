"""leads/message_kinds.py and outbox.reason_not_to_send: which email is marketing, and when a message still applies."""

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from leads import consultations, outbox, policy
from leads.config import PROJECT_ROOT
from leads.extensions import db
from leads.message_kinds import KINDS, followup_number, is_marketing, template_name
from leads.models import Consultation, Lead, LeadStatus, Message, MessageStatus, Suppression
from tests.factories import default_clinic, receive

START = datetime(2026, 3, 10, 14, 0, tzinfo=UTC)
MARKETING = ["followup_1", "followup_2", "followup_3", "followup_7", "no_show_followup"]
TRANSACTIONAL = [
    "inquiry_received",
    "new_lead_alert",
    "consultation_confirmed",
    "consultation_reminder",
    "consultation_cancelled",
    "reschedule_request_alert",
    "cancellation_alert",
]


# --- the kinds themselves ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "template"),
    [
        ("followup_1", "followup_1"),
        ("followup_3", "followup_3"),
        ("followup_5", "followup_3"),
        ("followup_12", "followup_3"),
        ("consultation_reminder", "consultation_reminder"),
    ],
)
def test_template_name_reuses_the_last_followup_template(kind, template):
    assert template_name(kind) == template


@pytest.mark.parametrize(
    ("kind", "number"),
    [("followup_1", 1), ("followup_2", 2), ("followup_10", 10), ("no_show_followup", 0), ("inquiry_received", 0)],
)
def test_followup_number_is_n_of_followup_n_else_zero(kind, number):
    assert followup_number(kind) == number


@pytest.mark.parametrize("kind", MARKETING)
def test_followups_and_the_no_show_invitation_are_marketing(kind):
    assert is_marketing(kind) is True


@pytest.mark.parametrize("kind", TRANSACTIONAL)
def test_acknowledgments_alerts_and_consultation_notices_are_not_marketing(kind):
    assert is_marketing(kind) is False


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_kind_has_a_text_and_an_html_template(kind):
    folder = PROJECT_ROOT / "templates" / "email"

    assert (folder / f"{kind}.txt").is_file()
    assert (folder / f"{kind}.html").is_file()


# --- reason_not_to_send -----------------------------------------------------------------------


@pytest.fixture
def lead(clocked_app, clock) -> Lead:
    """A new lead with its three follow-ups scheduled."""
    clocked_app.config["FOLLOWUP_SCHEDULE"] = "1d,3d,7d"
    clocked_app.extensions.pop("leads_policy", None)
    default_clinic().business_hours = ""
    db.session.commit()
    lead, _ = receive(clock())
    return lead


@pytest.fixture
def booked(lead, coordinator, clock) -> Consultation:
    consultation = consultations.book(db.session, lead, START, clock(), policy.current(), actor=coordinator)
    db.session.commit()
    return consultation


def message(lead: Lead, kind: str) -> Message:
    """The lead's first message of this kind, read afresh as a sending worker would."""
    db.session.expire_all()
    return db.session.scalars(
        sa.select(Message).where(Message.lead_id == lead.id, Message.kind == kind).order_by(Message.id)
    ).first()


def suppress(email: str, reason: str) -> None:
    db.session.add(Suppression(email=email, reason=reason))
    db.session.commit()


def reason(row: Message) -> str | None:
    return outbox.reason_not_to_send(db.session, row)


def test_a_followup_to_a_new_lead_applies(lead):
    assert reason(message(lead, "followup_1")) is None


def test_an_unsubscribed_address_gets_no_followup(lead):
    suppress(lead.email, "unsubscribed")

    assert reason(message(lead, "followup_1")) == "recipient suppressed (unsubscribed)"


def test_an_unsubscribed_address_still_gets_the_acknowledgment(lead):
    suppress(lead.email, "unsubscribed")

    assert reason(message(lead, "inquiry_received")) is None


def test_an_unsubscribed_address_still_gets_reminders(booked, lead):
    suppress(lead.email, "unsubscribed")

    assert reason(message(lead, "consultation_reminder")) is None


def test_an_unsubscribed_address_gets_no_no_show_invitation(booked, lead, coordinator, clock):
    clock.current = START + timedelta(minutes=10)
    consultations.mark_no_show(db.session, booked, clock(), policy.current(), actor=coordinator)
    db.session.commit()
    suppress(lead.email, "unsubscribed")

    assert reason(message(lead, "no_show_followup")) == "recipient suppressed (unsubscribed)"


@pytest.mark.parametrize("kind", ["inquiry_received", "followup_1", "consultation_confirmed", "consultation_reminder"])
def test_a_bounced_address_gets_nothing(booked, lead, kind):
    suppress(lead.email, "bounced")

    assert reason(message(lead, kind)) == "recipient suppressed (bounced)"


def test_a_suppression_of_another_address_changes_nothing(lead):
    suppress("someone.else@example.org", "bounced")

    assert reason(message(lead, "followup_1")) is None


def test_a_followup_no_longer_applies_once_the_lead_is_contacted(lead):
    row = message(lead, "followup_1")  # claimed before the coordinator called, say
    lead.status = LeadStatus.CONTACTED
    db.session.commit()

    assert reason(row) == "no longer applies: the lead or its consultation changed"


def test_a_reminder_for_the_current_start_applies(booked, lead):
    assert reason(message(lead, "consultation_reminder")) is None


def test_a_reminder_for_the_old_start_no_longer_applies_after_a_reschedule(booked, lead, coordinator, clock):
    old = message(lead, "consultation_reminder")
    old.status = MessageStatus.SENDING  # a worker had it already, so the reschedule could not cancel it
    db.session.commit()

    consultations.reschedule(
        db.session, booked, START + timedelta(days=1), clock(), policy.current(), actor=coordinator
    )
    db.session.commit()

    assert reason(message(lead, "consultation_reminder")) is not None


def test_a_reminder_for_the_new_start_applies_after_a_reschedule(booked, lead, coordinator, clock):
    consultations.reschedule(
        db.session, booked, START + timedelta(days=1), clock(), policy.current(), actor=coordinator
    )
    db.session.commit()

    newest = max(
        db.session.scalars(sa.select(Message).where(Message.kind == "consultation_reminder")), key=lambda row: row.id
    )
    assert reason(newest) is None


def test_a_confirmation_of_an_older_version_no_longer_applies(booked, lead, coordinator, clock):
    consultations.reschedule(
        db.session, booked, START + timedelta(days=1), clock(), policy.current(), actor=coordinator
    )
    db.session.commit()

    first, second = db.session.scalars(
        sa.select(Message).where(Message.kind == "consultation_confirmed").order_by(Message.id)
    )
    assert reason(first) == "no longer applies: the lead or its consultation changed"
    assert reason(second) is None


def test_a_confirmation_of_a_cancelled_consultation_no_longer_applies(booked, lead, coordinator, clock):
    consultations.cancel(db.session, booked, clock(), policy.current(), actor=coordinator)
    db.session.commit()

    assert reason(message(lead, "consultation_confirmed")) is not None


def test_a_cancellation_notice_applies_while_the_consultation_is_cancelled(booked, lead, coordinator, clock):
    consultations.cancel(db.session, booked, clock(), policy.current(), actor=coordinator)
    db.session.commit()

    assert reason(message(lead, "consultation_cancelled")) is None


def test_a_cancellation_notice_for_a_consultation_still_booked_does_not_apply(booked, lead, clock):
    row = outbox.schedule(
        db.session,
        kind="consultation_cancelled",
        lead=lead,
        consultation=booked,
        recipient=lead.email,
        send_at=clock(),
        dedupe_key="consultation_cancelled:test",
    )
    db.session.commit()

    assert reason(row) is not None


def test_a_no_show_invitation_no_longer_applies_once_booked_again(booked, lead, coordinator, clock):
    clock.current = START + timedelta(minutes=10)
    consultations.mark_no_show(db.session, booked, clock(), policy.current(), actor=coordinator)
    db.session.commit()
    invitation = message(lead, "no_show_followup")
    consultations.book(db.session, lead, START + timedelta(days=7), clock(), policy.current(), actor=coordinator)
    db.session.commit()

    assert reason(invitation) is not None
