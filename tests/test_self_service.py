"""The prospect's own pages from email links: unsubscribe and consultation self-service."""

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from itsdangerous import URLSafeSerializer

from leads import consultations, links, policy
from leads.extensions import db
from leads.models import ConsultationStatus, LeadStatus, Suppression, SuppressionReason
from tests.api_helpers import book, events, make_coordinator, messages
from tests.factories import receive

STARTS_AT = datetime(2026, 3, 4, 15, 0, tzinfo=UTC)  # Wednesday 10:00 AM in New York (EST)
ONE_CLICK = "List-Unsubscribe=One-Click"


@pytest.fixture
def client(clocked_app):
    return clocked_app.test_client()


@pytest.fixture
def lead(clocked_app, clock):
    lead, _ = receive(clock())
    lead.clinic.timezone = "America/New_York"
    db.session.commit()
    return lead


@pytest.fixture
def sam(clocked_app):
    return make_coordinator()


@pytest.fixture
def booked(clock, lead, sam):
    return book(lead, STARTS_AT, clock(), sam)


@pytest.fixture
def page_url(booked):
    return f"/c/{links.consultation_token(booked)}"


def suppressions() -> list[Suppression]:
    return list(db.session.scalars(sa.select(Suppression)))


# --- unsubscribe -----------------------------------------------------------------------------------


@pytest.fixture
def unsubscribe_url(lead):
    return f"/unsubscribe/{links.unsubscribe_token(lead.email)}"


@pytest.fixture
def forged_url(lead):
    forged = URLSafeSerializer("not-our-secret", salt="leads-unsubscribe").dumps(lead.email)
    return f"/unsubscribe/{forged}"


def test_unsubscribe_page_shows_a_button_posting_to_itself(client, unsubscribe_url):
    response = client.get(unsubscribe_url)

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert f'action="{unsubscribe_url}"' in page
    assert '<button type="submit"' in page


def test_unsubscribe_page_does_not_unsubscribe(client, unsubscribe_url):
    client.get(unsubscribe_url)

    assert suppressions() == []


def test_form_post_without_csrf_token_unsubscribes(clocked_app, client, lead, unsubscribe_url):
    assert clocked_app.config.get("WTF_CSRF_ENABLED", True)  # the exemption is what lets this through

    response = client.post(unsubscribe_url)

    assert response.status_code == 200
    assert "You are unsubscribed" in response.get_data(as_text=True)
    (row,) = suppressions()
    assert (row.email, row.reason) == (lead.email, SuppressionReason.UNSUBSCRIBED)


def test_one_click_post_unsubscribes(client, lead, unsubscribe_url):
    response = client.post(unsubscribe_url, data=ONE_CLICK, content_type="application/x-www-form-urlencoded")

    assert response.status_code == 200
    assert "You are unsubscribed" in response.get_data(as_text=True)
    (row,) = suppressions()
    assert (row.email, row.reason) == (lead.email, SuppressionReason.UNSUBSCRIBED)


def test_unsubscribing_twice_keeps_one_row(client, unsubscribe_url):
    client.post(unsubscribe_url, data=ONE_CLICK, content_type="application/x-www-form-urlencoded")

    response = client.post(unsubscribe_url)

    assert response.status_code == 200
    assert len(suppressions()) == 1


def test_unsubscribe_is_on_the_lead_timeline(client, lead, unsubscribe_url):
    client.post(unsubscribe_url)

    (event,) = events(lead, "unsubscribed")
    assert event.actor_id is None


@pytest.mark.parametrize("method", ["get", "post"])
def test_forged_unsubscribe_token_is_404(client, forged_url, method):
    response = getattr(client, method)(forged_url)

    assert response.status_code == 404
    assert suppressions() == []


def test_consultation_token_is_not_an_unsubscribe_token(client, booked):
    response = client.post(f"/unsubscribe/{links.consultation_token(booked)}")

    assert response.status_code == 404
    assert suppressions() == []


# --- the consultation page -------------------------------------------------------------------------


def test_consultation_page_shows_the_local_time(client, page_url):
    response = client.get(page_url)

    assert response.status_code == 200
    assert "Wednesday, March 4 at 10:00 AM EST" in response.get_data(as_text=True)


def test_consultation_page_offers_confirm_cancel_and_reschedule(client, page_url):
    page = client.get(page_url).get_data(as_text=True)

    assert 'value="confirm"' in page
    assert "step=cancel" in page
    assert "step=reschedule" in page


def test_confirm_confirms_and_records_event(client, lead, booked, page_url):
    response = client.post(page_url, data={"action": "confirm"})

    assert response.status_code == 200
    assert "confirmed" in response.get_data(as_text=True)
    assert booked.status == ConsultationStatus.CONFIRMED
    (event,) = events(lead, "consultation_confirmed")
    assert event.data["by"] == "prospect"


def test_confirming_twice_records_one_event(client, lead, page_url):
    client.post(page_url, data={"action": "confirm"})

    response = client.post(page_url, data={"action": "confirm"})

    assert response.status_code == 200
    assert len(events(lead, "consultation_confirmed")) == 1


def test_cancel_step_asks_for_confirmation_and_does_not_cancel(client, booked, page_url):
    response = client.get(f"{page_url}?step=cancel")

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Are you sure you want to cancel" in page
    assert 'value="cancel"' in page
    assert booked.status == ConsultationStatus.SCHEDULED


def test_reschedule_step_shows_a_note_field(client, page_url):
    page = client.get(f"{page_url}?step=reschedule").get_data(as_text=True)

    assert 'name="note"' in page
    assert 'value="reschedule"' in page


def test_cancel_cancels_and_puts_lead_back_to_contacted(client, lead, booked, page_url):
    response = client.post(page_url, data={"action": "cancel"})

    assert response.status_code == 200
    assert "cancelled" in response.get_data(as_text=True)
    assert booked.status == ConsultationStatus.CANCELLED
    assert lead.status == LeadStatus.CONTACTED


def test_cancel_by_prospect_tells_prospect_and_alerts_clinic(client, lead, page_url):
    client.post(page_url, data={"action": "cancel"})

    assert [message.recipient for message in messages(lead, "consultation_cancelled")] == [lead.email]
    assert [message.recipient for message in messages(lead, "cancellation_alert")] == [lead.clinic.inbox]


def test_link_answers_410_after_cancelling(client, page_url):
    client.post(page_url, data={"action": "cancel"})

    response = client.get(page_url)

    assert response.status_code == 410
    assert "This link no longer works" in response.get_data(as_text=True)


def test_post_on_cancelled_link_is_410(client, page_url):
    client.post(page_url, data={"action": "cancel"})

    assert client.post(page_url, data={"action": "confirm"}).status_code == 410


def test_reschedule_request_records_note_and_alerts_clinic_inbox(client, lead, booked, page_url):
    response = client.post(page_url, data={"action": "reschedule", "note": "Thursday after 4 PM"})

    assert response.status_code == 200
    (event,) = events(lead, "reschedule_requested")
    assert event.data["note"] == "Thursday after 4 PM"
    (alert,) = messages(lead, "reschedule_request_alert")
    assert alert.recipient == lead.clinic.inbox == "frontdesk@riverside.test"
    assert booked.status == ConsultationStatus.SCHEDULED


def test_reschedule_request_alerts_the_assignee_once_assigned(client, lead, sam, page_url):
    lead.assignee = sam
    db.session.commit()

    client.post(page_url, data={"action": "reschedule", "note": ""})

    assert [message.recipient for message in messages(lead, "reschedule_request_alert")] == [sam.email]


@pytest.mark.parametrize("action", ["", "delete", "CONFIRM"])
def test_unknown_action_is_400_and_changes_nothing(client, lead, booked, page_url, action):
    response = client.post(page_url, data={"action": action})

    assert response.status_code == 400
    assert booked.status == ConsultationStatus.SCHEDULED
    assert lead.status == LeadStatus.CONSULTATION_SCHEDULED


def test_link_of_a_rescheduled_consultation_is_410(client, clock, sam, booked, page_url):
    consultations.reschedule(
        db.session, booked, datetime(2026, 3, 5, 15, tzinfo=UTC), clock(), policy.current(), actor=sam
    )
    db.session.commit()

    assert client.get(page_url).status_code == 410
    assert client.get(f"/c/{links.consultation_token(booked)}").status_code == 200


@pytest.mark.parametrize(
    "token",
    ["garbage", URLSafeSerializer("not-our-secret", salt="leads-consultation").dumps(["x", 1])],
    ids=["garbage", "forged"],
)
def test_forged_consultation_link_is_410(client, token):
    response = client.get(f"/c/{token}")

    assert response.status_code == 410
    assert "This link no longer works" in response.get_data(as_text=True)


def test_unsubscribe_token_is_not_a_consultation_token(client, lead):
    assert client.get(f"/c/{links.unsubscribe_token(lead.email)}").status_code == 410


def test_link_expires_after_the_grace_period(client, clock, page_url):
    clock.advance(days=3, minutes=1)  # one day and a minute after the start

    assert client.get(page_url).status_code == 410


def test_completed_consultation_within_grace_shows_it_can_no_longer_change(client, clock, sam, booked, page_url):
    clock.advance(days=2, hours=1)
    consultations.complete(db.session, booked, clock(), policy.current(), actor=sam)
    db.session.commit()

    response = client.get(page_url)

    assert response.status_code == 200
    assert "can no longer be changed online" in response.get_data(as_text=True)
    assert 'value="confirm"' not in response.get_data(as_text=True)


@pytest.mark.parametrize("action", ["confirm", "cancel", "reschedule"])
def test_post_on_completed_consultation_within_grace_is_409_with_notice(client, clock, sam, booked, page_url, action):
    clock.advance(days=2, hours=1)
    consultations.complete(db.session, booked, clock(), policy.current(), actor=sam)
    db.session.commit()

    response = client.post(page_url, data={"action": action})

    assert response.status_code == 409
    assert "can no longer be changed online" in response.get_data(as_text=True)
    assert booked.status == ConsultationStatus.COMPLETED
