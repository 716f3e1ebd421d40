"""leads/suppressions.unsubscribe and leads/links: unsubscribing, and the signed tokens in email links."""

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from itsdangerous import URLSafeSerializer

from leads import consultations, links, policy, suppressions
from leads.extensions import db
from leads.models import Clinic, Consultation, Lead, LeadEvent, Message, MessageStatus, Suppression
from tests.factories import receive

M = MessageStatus
START = datetime(2026, 3, 10, 14, 0, tzinfo=UTC)
GRACE = timedelta(days=1)
ADDRESS = "dana.whitfield@example.org"


@pytest.fixture
def lead(followup_app, clock) -> Lead:
    lead, _ = receive(clock())
    return lead


@pytest.fixture
def north_lead(followup_app, clock) -> Lead:
    """The same person's inquiry at another location of the clinic."""
    north = Clinic(slug="north", name="Riverside North", timezone="America/Chicago", inbox="north@riverside.test")
    db.session.add(north)
    db.session.commit()
    lead, _ = receive(clock(), clinic=north)
    return lead


@pytest.fixture
def booked(lead, coordinator, clock) -> Consultation:
    consultation = consultations.book(db.session, lead, START, clock(), policy.current(), actor=coordinator)
    db.session.commit()
    return consultation


def statuses(lead: Lead, *, kind_prefix: str = "") -> dict[str, set[MessageStatus]]:
    db.session.expire_all()
    found: dict[str, set[MessageStatus]] = {}
    for message in db.session.scalars(sa.select(Message).where(Message.lead_id == lead.id)):
        if message.kind.startswith(kind_prefix):
            found.setdefault(message.kind, set()).add(message.status)
    return found


def unsubscribe(email: str, now: datetime) -> bool:
    done = suppressions.unsubscribe(db.session, email, now)
    db.session.commit()
    return done


# --- unsubscribe ------------------------------------------------------------------------------


def test_unsubscribing_adds_one_lower_cased_suppression(lead, clock):
    assert unsubscribe("Dana.Whitfield@Example.ORG", clock()) is True

    rows = db.session.execute(sa.select(Suppression.email, Suppression.reason, Suppression.created_at)).all()
    assert rows == [(ADDRESS, "unsubscribed", clock())]


def test_unsubscribing_twice_returns_false_and_adds_nothing(lead, clock):
    unsubscribe(ADDRESS, clock())

    assert unsubscribe(ADDRESS.upper(), clock()) is False
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Suppression)) == 1


def test_unsubscribing_cancels_pending_followups(lead, clock):
    unsubscribe(ADDRESS, clock())

    assert statuses(lead, kind_prefix="followup_") == {
        "followup_1": {M.CANCELLED},
        "followup_2": {M.CANCELLED},
        "followup_3": {M.CANCELLED},
    }


def test_unsubscribing_cancels_followups_of_every_lead_with_the_address(lead, north_lead, clock):
    unsubscribe(ADDRESS, clock())

    assert set().union(*statuses(north_lead, kind_prefix="followup_").values()) == {M.CANCELLED}


def test_unsubscribing_keeps_pending_transactional_messages(booked, lead, clock):
    unsubscribe(ADDRESS, clock())

    found = statuses(lead)
    assert found["inquiry_received"] == {M.SCHEDULED}
    assert found["consultation_confirmed"] == {M.SCHEDULED}
    assert found["consultation_reminder"] == {M.SCHEDULED}


def test_unsubscribing_leaves_a_sent_followup_sent(lead, clock):
    first = db.session.scalar(sa.select(Message).where(Message.kind == "followup_1"))
    first.status, first.sent_at = M.SENT, clock()
    db.session.commit()

    unsubscribe(ADDRESS, clock())

    assert statuses(lead)["followup_1"] == {M.SENT}


def test_unsubscribing_leaves_other_addresses_alone(lead, followup_app, clock):
    other, _ = receive(clock(), email="someone.else@example.org")

    unsubscribe(ADDRESS, clock())

    assert set().union(*statuses(other, kind_prefix="followup_").values()) == {M.SCHEDULED}


def test_unsubscribing_is_recorded_on_each_lead_as_the_prospects_doing(lead, north_lead, clock):
    unsubscribe(ADDRESS, clock())

    events = db.session.scalars(sa.select(LeadEvent).where(LeadEvent.kind == "unsubscribed")).all()
    assert sorted(event.lead_id for event in events) == sorted([lead.id, north_lead.id])
    assert {(event.actor_id, event.data["by"], event.created_at) for event in events} == {(None, "prospect", clock())}


def test_unsubscribing_an_address_with_no_lead_still_suppresses_it(clocked_app, clock):
    assert unsubscribe("stranger@example.org", clock()) is True
    assert suppressions.is_suppressed(db.session, "Stranger@Example.org")


# --- unsubscribe links ------------------------------------------------------------------------


def test_an_unsubscribe_token_names_its_address(clocked_app):
    assert links.email_for_unsubscribe_token(links.unsubscribe_token(ADDRESS)) == ADDRESS


def test_an_unsubscribe_token_with_another_address_under_its_signature_is_refused(clocked_app):
    signature = links.unsubscribe_token(ADDRESS).rpartition(".")[2]
    other_payload = links.unsubscribe_token("mallory@example.org").rpartition(".")[0]

    assert links.email_for_unsubscribe_token(f"{other_payload}.{signature}") is None


def test_an_unsubscribe_token_signed_with_another_key_is_refused(clocked_app):
    forged = URLSafeSerializer("not-the-secret", salt="leads-unsubscribe").dumps(ADDRESS)

    assert links.email_for_unsubscribe_token(forged) is None


def test_an_unsubscribe_token_that_names_no_address_is_refused(clocked_app):
    signed_list = URLSafeSerializer(clocked_app.config["SECRET_KEY"], salt="leads-unsubscribe").dumps([ADDRESS])

    assert links.email_for_unsubscribe_token(signed_list) is None


def test_a_consultation_token_is_not_an_unsubscribe_token(booked):
    assert links.email_for_unsubscribe_token(links.consultation_token(booked)) is None


# --- consultation links -----------------------------------------------------------------------


def found(token: str, now: datetime) -> Consultation | None:
    return links.consultation_for_token(db.session, token, now, GRACE)


def test_a_consultation_token_finds_its_consultation(booked, clock):
    assert found(links.consultation_token(booked), clock()) == booked


def test_a_consultation_token_stops_working_after_a_reschedule(booked, coordinator, clock):
    token = links.consultation_token(booked)

    consultations.reschedule(
        db.session, booked, START + timedelta(days=1), clock(), policy.current(), actor=coordinator
    )
    db.session.commit()

    assert found(token, clock()) is None
    assert found(links.consultation_token(booked), clock()) == booked


def test_a_consultation_token_stops_working_after_a_cancellation(booked, coordinator, clock):
    token = links.consultation_token(booked)

    consultations.cancel(db.session, booked, clock(), policy.current(), actor=coordinator)
    db.session.commit()

    assert found(token, clock()) is None


def test_a_consultation_token_works_until_the_grace_after_the_start_ends(booked):
    assert found(links.consultation_token(booked), START + GRACE) == booked


def test_a_consultation_token_stops_working_once_the_grace_after_the_start_ended(booked):
    assert found(links.consultation_token(booked), START + GRACE + timedelta(seconds=1)) is None


def test_a_consultation_token_signed_with_another_key_is_refused(booked, clock):
    forged = URLSafeSerializer("not-the-secret", salt="leads-consultation").dumps([str(booked.public_id), 1])

    assert found(forged, clock()) is None


@pytest.mark.parametrize("token", ["", "garbage", "a.b"])
def test_a_consultation_token_that_is_not_one_is_refused(booked, clock, token):
    assert found(token, clock()) is None


@pytest.mark.parametrize("payload", ["just-a-string", ["not-a-uuid", 1], [1, 2, 3], 7])
def test_a_signed_consultation_token_of_the_wrong_shape_is_refused(booked, clocked_app, clock, payload):
    token = URLSafeSerializer(clocked_app.config["SECRET_KEY"], salt="leads-consultation").dumps(payload)

    assert found(token, clock()) is None


def test_an_unsubscribe_token_is_not_a_consultation_token(booked, clock):
    assert found(links.unsubscribe_token(ADDRESS), clock()) is None
