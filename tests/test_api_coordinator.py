"""The coordinator API: bearer tokens, leads, notes, status changes, consultations, messages, OpenAPI."""

import base64
import json
import re
import uuid
from datetime import timedelta

import openapi_spec_validator
import pytest
import sqlalchemy as sa

from leads.extensions import db
from leads.models import ApiToken, Consultation, ConsultationStatus, LeadStatus, MessageStatus, Role
from tests.api_helpers import bearer, events, make_clinic, make_coordinator, make_token, messages
from tests.factories import receive

FUTURE = "2026-03-05T15:00:00+00:00"  # three days after the fake clock's start
LATER = "2026-03-06T15:00:00+00:00"


@pytest.fixture
def client(clocked_app):
    return clocked_app.test_client()


@pytest.fixture
def sam(clocked_app):
    return make_coordinator()


@pytest.fixture
def token(sam):
    return make_token(sam)


@pytest.fixture
def auth(token):
    return bearer(token)


@pytest.fixture
def lead(clocked_app, clock):
    lead, _ = receive(clock())
    return lead


def lead_url(lead, suffix: str = "") -> str:
    return f"/api/v1/leads/{lead.public_id}{suffix}"


def make_leads(clock, count: int, step: timedelta) -> list:
    """`count` leads with distinct emails, `step` apart on the fake clock, oldest first."""
    made = []
    for number in range(count):
        lead, _ = receive(clock(), email=f"person{number}@example.org", phone=f"+1201555{number:04d}")
        made.append(lead)
        clock.advance(seconds=step.total_seconds())
    return made


def cursor_of(value) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


@pytest.fixture
def booked(client, auth, lead):
    response = client.post(lead_url(lead, "/consultations"), json={"starts_at": FUTURE}, headers=auth)
    assert response.status_code == 201
    return db.session.scalar(sa.select(Consultation).where(Consultation.public_id == uuid.UUID(response.json["id"])))


def consultation_url(consultation) -> str:
    return f"/api/v1/consultations/{consultation.public_id}"


# --- authentication ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [None, "Basic {token}", "Token {token}", "Bearer", "Bearer lds_not-a-token-we-issued", "{token}"],
    ids=["none", "basic", "wrong-scheme", "empty", "unknown", "no-scheme"],
)
def test_bad_authorization_is_401_json(client, token, header):
    headers = {} if header is None else {"Authorization": header.format(token=token)}

    response = client.get("/api/v1/leads", headers=headers)

    assert response.status_code == 401
    assert response.is_json
    assert response.json["error"]


def test_revoked_token_is_401(client, clock, token, auth):
    db.session.execute(sa.update(ApiToken).values(revoked_at=clock()))
    db.session.commit()

    response = client.get("/api/v1/leads", headers=auth)

    assert response.status_code == 401
    assert response.json["error"]


def test_deactivated_coordinator_is_401(client, sam, auth):
    sam.active = False
    db.session.commit()

    response = client.get("/api/v1/leads", headers=auth)

    assert response.status_code == 401
    assert response.json["error"]


def test_valid_token_is_accepted_and_records_its_last_use(client, clock, token, auth):
    clock.advance(minutes=5)

    response = client.get("/api/v1/leads", headers=auth)

    assert response.status_code == 200
    api_token = db.session.scalar(sa.select(ApiToken))
    db.session.refresh(api_token)
    assert api_token.last_used_at == clock()


def test_scheme_is_case_insensitive(client, token):
    response = client.get("/api/v1/leads", headers={"Authorization": f"bearer {token}"})

    assert response.status_code == 200


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/leads/{id}"),
        ("patch", "/api/v1/leads/{id}"),
        ("post", "/api/v1/leads/{id}/notes"),
        ("post", "/api/v1/leads/{id}/consultations"),
        ("patch", "/api/v1/consultations/{id}"),
        ("get", "/api/v1/messages"),
    ],
)
def test_every_coordinator_route_requires_a_token(client, lead, method, path):
    response = getattr(client, method)(path.format(id=lead.public_id), json={})

    assert response.status_code == 401
    assert response.json["error"]


# --- GET /api/v1/leads -----------------------------------------------------------------------------


def test_list_returns_leads_newest_first(client, clock, auth):
    made = make_leads(clock, 3, timedelta(hours=1))

    response = client.get("/api/v1/leads", headers=auth)

    assert response.status_code == 200
    assert [item["id"] for item in response.json["items"]] == [str(lead.public_id) for lead in reversed(made)]


def test_list_item_has_the_contract_fields(client, auth, lead):
    (item,) = client.get("/api/v1/leads", headers=auth).json["items"]

    assert item["id"] == str(lead.public_id)
    assert (item["first_name"], item["last_name"]) == ("Dana", "Whitfield")
    assert item["email"] == "dana.whitfield@example.org"
    assert item["phone"] == "+12015550143"
    assert item["status"] == "new"
    assert item["created_at"] == "2026-03-02T15:00:00+00:00"


def test_list_without_more_pages_has_null_next_cursor(client, auth, lead):
    assert client.get("/api/v1/leads", headers=auth).json["next_cursor"] is None


def test_list_filters_by_status(client, clock, auth):
    first, second = make_leads(clock, 2, timedelta(minutes=1))
    client.patch(lead_url(first), json={"status": "contacted"}, headers=auth)

    response = client.get("/api/v1/leads?status=contacted", headers=auth)

    assert [item["id"] for item in response.json["items"]] == [str(first.public_id)]


def test_list_with_unknown_status_is_422(client, auth):
    response = client.get("/api/v1/leads?status=bogus", headers=auth)

    assert response.status_code == 422
    assert "status" in response.json["errors"]


@pytest.mark.parametrize("query", ["whit", "Dana Whit", "DANA.WHITFIELD@example", "555-0143", "0143"])
def test_search_finds_lead_by_name_email_or_phone_digits(client, clock, auth, query):
    wanted, _ = receive(clock())
    receive(clock(), first_name="Robin", last_name="Osei", email="robin@example.net", phone="+13125550199")

    response = client.get("/api/v1/leads", query_string={"q": query}, headers=auth)

    assert [item["id"] for item in response.json["items"]] == [str(wanted.public_id)]


def test_search_without_match_is_empty(client, auth, lead):
    response = client.get("/api/v1/leads?q=nobody", headers=auth)

    assert response.status_code == 200
    assert response.json["items"] == []


def test_search_treats_like_wildcards_literally(client, auth, lead):
    response = client.get("/api/v1/leads?q=%25", headers=auth)

    assert response.json["items"] == []


@pytest.mark.parametrize("step", [timedelta(minutes=1), timedelta(0)], ids=["distinct-times", "same-time"])
def test_cursor_walks_every_page_without_duplicates_or_gaps(client, clock, auth, step):
    made = make_leads(clock, 5, step)
    seen, cursor, pages = [], None, 0
    while True:
        query = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        body = client.get("/api/v1/leads", query_string=query, headers=auth).json
        seen += [item["id"] for item in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break

    assert seen == [str(lead.public_id) for lead in sorted(made, key=lambda lead: (lead.created_at, lead.id))][::-1]
    assert pages == 3


def test_cursor_keeps_the_status_filter(client, clock, auth):
    made = make_leads(clock, 4, timedelta(minutes=1))
    for lead in made[:3]:
        client.patch(lead_url(lead), json={"status": "contacted"}, headers=auth)

    first = client.get("/api/v1/leads?status=contacted&limit=2", headers=auth).json
    second = client.get(
        "/api/v1/leads", query_string={"status": "contacted", "limit": 2, "cursor": first["next_cursor"]}, headers=auth
    ).json

    assert [item["id"] for item in first["items"] + second["items"]] == [str(lead.public_id) for lead in made[2::-1]]
    assert second["next_cursor"] is None


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage!",
        "é",
        cursor_of(["not a time", 1]),
        cursor_of(["2026-03-02T15:00:00", 1]),
        cursor_of(["2026-03-02T15:00:00+00:00", "1"]),
        cursor_of(["2026-03-02T15:00:00+00:00", True]),
        cursor_of({"a": 1}),
        cursor_of(7),
        cursor_of(["2026-03-02T15:00:00+00:00", 1, 2]),
    ],
)
def test_garbage_cursor_is_422(client, auth, lead, cursor):
    response = client.get("/api/v1/leads", query_string={"cursor": cursor}, headers=auth)

    assert response.status_code == 422
    assert "cursor" in response.json["errors"]


@pytest.mark.parametrize(
    "cursor",
    [cursor_of(["2026-03-02T15:00:00+00:00", 2**70]), cursor_of(["9999-12-31T23:00:00-05:00", 1])],
    ids=["huge-id", "time-beyond-9999-utc"],
)
def test_cursor_out_of_database_range_is_422(client, auth, lead, cursor):
    response = client.get("/api/v1/leads", query_string={"cursor": cursor}, headers=auth)

    assert response.status_code == 422


@pytest.mark.parametrize("limit", ["0", "101", "x", "-1", "2.5", ""])
def test_out_of_range_limit_is_422(client, auth, limit):
    response = client.get("/api/v1/leads", query_string={"limit": limit}, headers=auth)

    assert response.status_code == 422
    assert "limit" in response.json["errors"]


def test_superscript_digit_limit_is_422(client, auth):
    response = client.get("/api/v1/leads", query_string={"limit": "²"}, headers=auth)

    assert response.status_code == 422


def test_limit_bounds_are_accepted(client, clock, auth):
    make_leads(clock, 3, timedelta(minutes=1))

    assert len(client.get("/api/v1/leads?limit=1", headers=auth).json["items"]) == 1
    assert len(client.get("/api/v1/leads?limit=100", headers=auth).json["items"]) == 3


@pytest.fixture
def uptown(clocked_app):
    return make_clinic()


@pytest.fixture
def uptown_auth(uptown):
    return bearer(make_token(make_coordinator("lee@uptown.example", clinic=uptown)))


def test_clinic_bound_coordinator_sees_no_other_clinic_leads(client, uptown_auth, lead):
    response = client.get("/api/v1/leads", headers=uptown_auth)

    assert response.status_code == 200
    assert response.json["items"] == []


def test_clinic_bound_coordinator_sees_own_clinic_leads(client, clock, uptown, uptown_auth, lead):
    own, _ = receive(clock(), clinic=uptown, email="uptown@example.org")

    response = client.get("/api/v1/leads", headers=uptown_auth)

    assert [item["id"] for item in response.json["items"]] == [str(own.public_id)]


def test_clinic_bound_coordinator_gets_404_for_other_clinic_lead(client, uptown_auth, lead):
    response = client.get(lead_url(lead), headers=uptown_auth)

    assert response.status_code == 404
    assert events(lead, "viewed") == []


def test_clinic_bound_coordinator_cannot_change_other_clinic_lead(client, uptown_auth, lead):
    response = client.patch(lead_url(lead), json={"status": "contacted"}, headers=uptown_auth)

    assert response.status_code == 404
    db.session.refresh(lead)
    assert lead.status == LeadStatus.NEW


def test_clinic_bound_coordinator_gets_404_for_other_clinic_consultation(client, auth, uptown_auth, booked):
    response = client.patch(consultation_url(booked), json={"status": "cancelled"}, headers=uptown_auth)

    assert response.status_code == 404
    assert booked.status == ConsultationStatus.SCHEDULED


def test_clinic_bound_coordinator_gets_404_for_other_clinic_messages(client, uptown_auth, lead):
    assert client.get(f"/api/v1/messages?lead={lead.public_id}", headers=uptown_auth).status_code == 404
    assert client.get("/api/v1/messages", headers=uptown_auth).json["items"] == []


# --- GET /api/v1/leads/<id> ------------------------------------------------------------------------


def test_detail_has_events_messages_and_consultations(client, auth, lead):
    response = client.get(lead_url(lead), headers=auth)

    assert response.status_code == 200
    body = response.json
    assert body["id"] == str(lead.public_id)
    assert body["consultations"] == []
    assert {"inquiry_received", "new_lead_alert"} <= {message["kind"] for message in body["messages"]}
    assert body["events"]


def test_detail_lists_the_booked_consultation(client, auth, lead, booked):
    body = client.get(lead_url(lead), headers=auth).json

    assert [item["id"] for item in body["consultations"]] == [str(booked.public_id)]
    assert "consultation_booked" in {event["kind"] for event in body["events"]}


def test_each_detail_read_records_a_viewed_event_by_the_coordinator(client, sam, auth, lead):
    client.get(lead_url(lead), headers=auth)
    client.get(lead_url(lead), headers=auth)

    viewed = events(lead, "viewed")
    assert len(viewed) == 2
    assert all(event.actor_id == sam.id and event.data == {"via": "api"} for event in viewed)


@pytest.mark.parametrize("public_id", [str(uuid.uuid4()), "not-a-uuid", "1"])
def test_unknown_or_malformed_lead_id_is_404(client, auth, public_id):
    response = client.get(f"/api/v1/leads/{public_id}", headers=auth)

    assert response.status_code == 404
    assert response.json["error"]


# --- PATCH /api/v1/leads/<id> ----------------------------------------------------------------------


def test_status_change_is_200_with_the_new_status(client, auth, lead):
    response = client.patch(lead_url(lead), json={"status": "contacted"}, headers=auth)

    assert response.status_code == 200
    assert response.json["status"] == "contacted"
    assert lead.status == LeadStatus.CONTACTED


def test_status_change_records_event_with_actor(client, sam, auth, lead):
    client.patch(lead_url(lead), json={"status": "contacted"}, headers=auth)

    (event,) = events(lead, "status_changed")
    assert event.actor_id == sam.id
    assert (event.data["from_status"], event.data["to_status"]) == ("new", "contacted")


def test_closing_without_reason_is_409_with_message(client, auth, lead):
    response = client.patch(lead_url(lead), json={"status": "closed"}, headers=auth)

    assert response.status_code == 409
    assert "reason" in response.json["error"]
    assert lead.status == LeadStatus.NEW


def test_closing_with_blank_reason_is_409(client, auth, lead):
    response = client.patch(lead_url(lead), json={"status": "closed", "reason": "   "}, headers=auth)

    assert response.status_code == 409


def test_closing_with_reason_is_200_and_keeps_the_reason(client, auth, lead):
    response = client.patch(lead_url(lead), json={"status": "closed", "reason": "Chose another clinic"}, headers=auth)

    assert response.status_code == 200
    assert lead.status == LeadStatus.CLOSED
    assert events(lead, "status_changed")[0].data["reason"] == "Chose another clinic"


def test_forbidden_transition_is_409_and_changes_nothing(client, auth, lead):
    response = client.patch(lead_url(lead), json={"status": "converted"}, headers=auth)

    assert response.status_code == 409
    assert response.json["error"]
    assert lead.status == LeadStatus.NEW
    assert events(lead, "status_changed") == []


def test_consultation_scheduled_cannot_be_set_directly(client, auth, lead):
    response = client.patch(lead_url(lead), json={"status": "consultation_scheduled"}, headers=auth)

    assert response.status_code == 409
    assert "consultation" in response.json["error"]
    assert lead.status == LeadStatus.NEW


@pytest.mark.parametrize("status", ["bogus", 3, None, ["contacted"]])
def test_unknown_status_is_422(client, auth, lead, status):
    response = client.patch(lead_url(lead), json={"status": status}, headers=auth)

    assert response.status_code == 422
    assert "status" in response.json["errors"]


def test_assigning_to_another_coordinator_records_it(client, auth, lead):
    kim = make_coordinator("kim@riverside.example", role=Role.COORDINATOR)

    response = client.patch(lead_url(lead), json={"assignee": "Kim@Riverside.example"}, headers=auth)

    assert response.status_code == 200
    assert response.json["assignee"] == "kim@riverside.example"
    assert lead.assignee_id == kim.id
    (event,) = events(lead, "assigned")
    assert event.data == {"from_assignee": None, "to_assignee": "kim@riverside.example"}


def test_unassigning_with_null_is_200(client, sam, auth, lead):
    client.patch(lead_url(lead), json={"assignee": sam.email}, headers=auth)

    response = client.patch(lead_url(lead), json={"assignee": None}, headers=auth)

    assert response.status_code == 200
    assert lead.assignee is None


@pytest.mark.parametrize("assignee", ["nobody@riverside.example", "not an email", 42])
def test_unknown_assignee_is_422(client, auth, lead, assignee):
    response = client.patch(lead_url(lead), json={"assignee": assignee}, headers=auth)

    assert response.status_code == 422
    assert "assignee" in response.json["errors"]
    assert events(lead, "assigned") == []


def test_assignee_from_another_clinic_is_422(client, auth, lead):
    make_coordinator("lee@uptown.example", clinic=make_clinic())

    response = client.patch(lead_url(lead), json={"assignee": "lee@uptown.example"}, headers=auth)

    assert response.status_code == 422
    assert "assignee" in response.json["errors"]


def test_empty_change_is_422(client, auth, lead):
    response = client.patch(lead_url(lead), json={}, headers=auth)

    assert response.status_code == 422
    assert response.json["errors"]


def test_non_json_body_is_415(client, auth, lead):
    response = client.patch(lead_url(lead), data="status=contacted", content_type="text/plain", headers=auth)

    assert response.status_code == 415
    assert response.json["error"]


@pytest.mark.parametrize("body", ['{"status": ', "[]", '"contacted"'])
def test_malformed_or_non_object_json_is_400(client, auth, lead, body):
    response = client.patch(lead_url(lead), data=body, content_type="application/json", headers=auth)

    assert response.status_code == 400
    assert response.json["error"]


# --- POST /api/v1/leads/<id>/notes -----------------------------------------------------------------


def test_note_is_201_and_on_the_timeline(client, sam, auth, lead):
    response = client.post(lead_url(lead, "/notes"), json={"body": "Called, left voicemail"}, headers=auth)

    assert response.status_code == 201
    assert response.json["kind"] == "note"
    assert response.json["actor"] == sam.email
    (event,) = events(lead, "note")
    assert (event.data["body"], event.actor_id) == ("Called, left voicemail", sam.id)


def test_note_of_5000_characters_is_accepted(client, auth, lead):
    response = client.post(lead_url(lead, "/notes"), json={"body": "n" * 5000}, headers=auth)

    assert response.status_code == 201


@pytest.mark.parametrize("body", ["", "   ", None, 7, ["text"], "n" * 5001, "bad\x00byte"])
def test_invalid_note_is_422(client, auth, lead, body):
    response = client.post(lead_url(lead, "/notes"), json={"body": body}, headers=auth)

    assert response.status_code == 422
    assert "body" in response.json["errors"]
    assert events(lead, "note") == []


def test_note_for_unknown_lead_is_404(client, auth):
    response = client.post(f"/api/v1/leads/{uuid.uuid4()}/notes", json={"body": "Hello"}, headers=auth)

    assert response.status_code == 404


# --- POST /api/v1/leads/<id>/consultations ---------------------------------------------------------


def test_booking_is_201_with_the_consultation(client, auth, lead):
    response = client.post(lead_url(lead, "/consultations"), json={"starts_at": FUTURE}, headers=auth)

    assert response.status_code == 201
    body = response.json
    assert uuid.UUID(body["id"])
    assert (body["status"], body["duration_minutes"], body["starts_at"]) == ("scheduled", 30, FUTURE)
    assert lead.status == LeadStatus.CONSULTATION_SCHEDULED


def test_booking_accepts_a_duration(client, auth, lead):
    payload = {"starts_at": FUTURE, "duration_minutes": 45}

    response = client.post(lead_url(lead, "/consultations"), json=payload, headers=auth)

    assert response.json["duration_minutes"] == 45


def test_naive_start_time_is_read_in_the_clinic_timezone(client, auth, lead):
    lead.clinic.timezone = "America/New_York"
    db.session.commit()

    response = client.post(lead_url(lead, "/consultations"), json={"starts_at": "2030-03-10T10:00"}, headers=auth)

    assert response.status_code == 201
    assert response.json["starts_at"] == "2030-03-10T14:00:00+00:00"
    assert response.json["timezone"] == "America/New_York"


def test_naive_start_time_uses_the_leads_own_clinic(client, clock, auth):
    chicago, _ = receive(clock(), clinic=make_clinic(timezone="America/Chicago"), email="c@example.org")

    response = client.post(lead_url(chicago, "/consultations"), json={"starts_at": "2030-01-10T10:00"}, headers=auth)

    assert response.json["starts_at"] == "2030-01-10T16:00:00+00:00"


@pytest.mark.parametrize("starts_at", ["2026-03-02T14:59:00+00:00", "2026-03-02T15:00:00+00:00", "2020-01-01T09:00"])
def test_start_in_the_past_is_422(client, auth, lead, starts_at):
    response = client.post(lead_url(lead, "/consultations"), json={"starts_at": starts_at}, headers=auth)

    assert response.status_code == 422
    assert "starts_at" in response.json["errors"]
    assert lead.status == LeadStatus.NEW


@pytest.mark.parametrize("starts_at", ["next tuesday", "", None, 1772000000, "2026-13-01T10:00"])
def test_unreadable_start_is_422(client, auth, lead, starts_at):
    response = client.post(lead_url(lead, "/consultations"), json={"starts_at": starts_at}, headers=auth)

    assert response.status_code == 422
    assert "starts_at" in response.json["errors"]


def test_start_beyond_year_9999_in_utc_is_422(client, auth, lead):
    payload = {"starts_at": "9999-12-31T23:00:00-05:00"}

    response = client.post(lead_url(lead, "/consultations"), json=payload, headers=auth)

    assert response.status_code == 422


@pytest.mark.parametrize("duration", [3, 481, "30", 30.5, True])
def test_bad_duration_is_422(client, auth, lead, duration):
    payload = {"starts_at": FUTURE, "duration_minutes": duration}

    response = client.post(lead_url(lead, "/consultations"), json=payload, headers=auth)

    assert response.status_code == 422
    assert "duration_minutes" in response.json["errors"]


def test_booking_twice_is_409(client, auth, lead, booked):
    response = client.post(lead_url(lead, "/consultations"), json={"starts_at": LATER}, headers=auth)

    assert response.status_code == 409
    assert response.json["error"]
    assert db.session.scalar(sa.select(sa.func.count(Consultation.id))) == 1


def test_booking_for_a_closed_lead_is_409(client, auth, lead):
    client.patch(lead_url(lead), json={"status": "closed", "reason": "Moved away"}, headers=auth)

    response = client.post(lead_url(lead, "/consultations"), json={"starts_at": FUTURE}, headers=auth)

    assert response.status_code == 409


def test_booking_schedules_confirmation_and_reminders(client, auth, lead, booked):
    response = client.get(f"/api/v1/messages?lead={lead.public_id}", headers=auth)

    kinds = [item["kind"] for item in response.json["items"]]
    assert kinds.count("consultation_confirmed") == 1
    assert kinds.count("consultation_reminder") == 2


def test_booking_records_event_with_actor(client, sam, lead, booked):
    (event,) = events(lead, "consultation_booked")
    assert event.actor_id == sam.id
    assert event.data["consultation"] == str(booked.public_id)


# --- PATCH /api/v1/consultations/<id> --------------------------------------------------------------


def test_reschedule_is_200_with_new_time(client, auth, booked):
    response = client.patch(consultation_url(booked), json={"starts_at": LATER}, headers=auth)

    assert response.status_code == 200
    assert response.json["starts_at"] == LATER


def test_reschedule_cancels_old_reminders_and_schedules_new_ones(client, auth, lead, booked):
    old_reminders = [message.id for message in messages(lead, "consultation_reminder")]

    client.patch(consultation_url(booked), json={"starts_at": LATER}, headers=auth)

    reminders = {message.id: message.status for message in messages(lead, "consultation_reminder")}
    assert all(reminders[old] == MessageStatus.CANCELLED for old in old_reminders)
    assert [status for mid, status in reminders.items() if mid not in old_reminders] == [MessageStatus.SCHEDULED] * 2


def test_reschedule_to_same_time_is_409(client, auth, booked):
    response = client.patch(consultation_url(booked), json={"starts_at": FUTURE}, headers=auth)

    assert response.status_code == 409


def test_reschedule_into_the_past_is_422(client, auth, booked):
    response = client.patch(consultation_url(booked), json={"starts_at": "2026-03-01T10:00"}, headers=auth)

    assert response.status_code == 422
    assert "starts_at" in response.json["errors"]


def test_cancel_is_200_and_lead_goes_back_to_contacted(client, auth, lead, booked):
    response = client.patch(consultation_url(booked), json={"status": "cancelled"}, headers=auth)

    assert response.status_code == 200
    assert response.json["status"] == "cancelled"
    assert lead.status == LeadStatus.CONTACTED
    assert len(messages(lead, "consultation_cancelled")) == 1


def test_cancel_stops_pending_reminders(client, auth, lead, booked):
    client.patch(consultation_url(booked), json={"status": "cancelled"}, headers=auth)

    assert {message.status for message in messages(lead, "consultation_reminder")} == {MessageStatus.CANCELLED}


def test_cancelled_consultation_cannot_change_again(client, auth, booked):
    client.patch(consultation_url(booked), json={"status": "cancelled"}, headers=auth)

    response = client.patch(consultation_url(booked), json={"starts_at": LATER}, headers=auth)

    assert response.status_code == 409


def test_completing_before_the_start_is_409(client, auth, lead, booked):
    response = client.patch(consultation_url(booked), json={"status": "completed"}, headers=auth)

    assert response.status_code == 409
    assert response.json["error"]
    assert booked.status == ConsultationStatus.SCHEDULED
    assert lead.status == LeadStatus.CONSULTATION_SCHEDULED


@pytest.mark.parametrize("payload", [{"status": "bogus"}, {"status": "scheduled"}, {}, {"status": None}])
def test_unknown_consultation_change_is_422(client, auth, booked, payload):
    response = client.patch(consultation_url(booked), json=payload, headers=auth)

    assert response.status_code == 422
    assert "status" in response.json["errors"]


@pytest.mark.parametrize("public_id", [str(uuid.uuid4()), "nope"])
def test_unknown_consultation_is_404(client, auth, public_id):
    response = client.patch(f"/api/v1/consultations/{public_id}", json={"status": "cancelled"}, headers=auth)

    assert response.status_code == 404
    assert response.json["error"]


def test_no_show_after_the_start_marks_lead_and_invites_again(client, clock, auth, lead, booked):
    clock.advance(days=3, hours=1)

    response = client.patch(consultation_url(booked), json={"status": "no_show"}, headers=auth)

    assert response.status_code == 200
    assert response.json["status"] == "no_show"
    assert lead.status == LeadStatus.NO_SHOW
    assert len(messages(lead, "no_show_followup")) == 1


def test_completed_after_the_start_makes_lead_consulted(client, clock, auth, lead, booked):
    clock.advance(days=3, minutes=30)

    response = client.patch(consultation_url(booked), json={"status": "completed"}, headers=auth)

    assert response.status_code == 200
    assert response.json["status"] == "completed"
    assert lead.status == LeadStatus.CONSULTED


def test_outcome_records_event_with_actor(client, clock, sam, auth, lead, booked):
    clock.advance(days=3, minutes=30)

    client.patch(consultation_url(booked), json={"status": "completed"}, headers=auth)

    (event,) = events(lead, "consultation_outcome")
    assert (event.actor_id, event.data["outcome"]) == (sam.id, "completed")


def test_consulted_lead_can_then_be_converted(client, clock, auth, lead, booked):
    clock.advance(days=3, minutes=30)
    client.patch(consultation_url(booked), json={"status": "completed"}, headers=auth)

    response = client.patch(lead_url(lead), json={"status": "converted"}, headers=auth)

    assert response.status_code == 200
    assert lead.status == LeadStatus.CONVERTED


# --- GET /api/v1/messages --------------------------------------------------------------------------


def test_messages_have_the_contract_fields(client, auth, lead):
    items = client.get("/api/v1/messages", headers=auth).json["items"]

    assert items
    assert {"kind", "status", "send_at", "sent_at", "attempts", "last_error"} <= items[0].keys()


def test_messages_filter_by_lead(client, clock, auth, lead):
    other, _ = receive(clock(), email="other@example.org")

    items = client.get(f"/api/v1/messages?lead={lead.public_id}", headers=auth).json["items"]

    assert items
    assert {item["lead"] for item in items} == {str(lead.public_id)}
    assert len(items) == len(messages(lead))


def test_messages_filter_by_status(client, auth, lead):
    first = messages(lead)[0]
    first.status = MessageStatus.SENT
    db.session.commit()

    items = client.get("/api/v1/messages?status=sent", headers=auth).json["items"]

    assert [item["id"] for item in items] == [str(first.public_id)]


def test_messages_with_unknown_status_is_422(client, auth):
    response = client.get("/api/v1/messages?status=bogus", headers=auth)

    assert response.status_code == 422
    assert "status" in response.json["errors"]


@pytest.mark.parametrize("public_id", [str(uuid.uuid4()), "garbage"])
def test_messages_for_unknown_lead_is_404(client, auth, public_id):
    response = client.get(f"/api/v1/messages?lead={public_id}", headers=auth)

    assert response.status_code == 404


def test_messages_with_bad_limit_is_422(client, auth):
    response = client.get("/api/v1/messages?limit=0", headers=auth)

    assert response.status_code == 422
    assert "limit" in response.json["errors"]


# --- GET /api/v1/openapi.json ----------------------------------------------------------------------

API_OPERATIONS = {
    ("/api/v1/leads", "get"),
    ("/api/v1/leads/{id}", "get"),
    ("/api/v1/leads/{id}", "patch"),
    ("/api/v1/leads/{id}/notes", "post"),
    ("/api/v1/leads/{id}/consultations", "post"),
    ("/api/v1/consultations/{id}", "patch"),
    ("/api/v1/messages", "get"),
    ("/api/v1/inquiries", "post"),
}
HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


@pytest.fixture
def spec(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.json


def operations(document: dict) -> set[tuple[str, str]]:
    return {(path, method) for path, item in document["paths"].items() for method in item if method in HTTP_METHODS}


def test_openapi_is_served_without_auth_as_openapi_3(spec):
    assert spec["openapi"].startswith("3.")
    assert spec["info"]["title"] and spec["info"]["version"]


def test_openapi_describes_every_api_route(spec):
    assert operations(spec) >= API_OPERATIONS


def test_openapi_matches_the_app_routes(clocked_app, spec):
    routed = {
        (re.sub(r"<[^>]+>", "{id}", rule.rule), method.lower())
        for rule in clocked_app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/") and rule.rule != "/api/v1/openapi.json"
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }

    assert routed == operations(spec)


def test_openapi_operations_each_have_responses(spec):
    for path, method in operations(spec):
        responses = spec["paths"][path][method]["responses"]
        assert responses and all(code.isdigit() for code in responses), (path, method)


def test_openapi_references_all_resolve(spec):
    refs = re.findall(r'"\$ref": "#/([^"]+)"', json.dumps(spec))
    assert refs
    for ref in refs:
        node = spec
        for part in ref.split("/"):
            node = node[part]
        assert isinstance(node, dict), ref


def test_openapi_path_parameters_are_declared(spec):
    for path, item in spec["paths"].items():
        declared = {(p["name"], p["in"], p.get("required")) for p in item.get("parameters", [])}
        for name in re.findall(r"{(\w+)}", path):
            assert (name, "path", True) in declared, path


def test_openapi_declares_bearer_security(spec):
    scheme = spec["components"]["securitySchemes"]["bearer"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    assert spec["paths"]["/api/v1/inquiries"]["post"]["security"] == []


def test_openapi_validates_with_openapi_spec_validator(spec):
    openapi_spec_validator.validate(spec)
