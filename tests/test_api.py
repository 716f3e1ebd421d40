"""POST /api/v1/inquiries: the public JSON endpoint, its validation and its robustness."""

import json
import uuid

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leads.extensions import db
from leads.models import Lead
from tests.factories import inquiry_payload

URL = "/api/v1/inquiries"
FIELDS = [
    "first_name",
    "last_name",
    "email",
    "phone",
    "preferred_contact",
    "condition",
    "message",
    "heard_about",
    "consent",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "referrer",
    "clinic",
]
EXPECTED_STATUSES = {201, 400, 413, 415, 422}


def leads(app) -> list[Lead]:
    with app.app_context():
        return db.session.scalars(sa.select(Lead)).all()


# --- a valid inquiry -----------------------------------------------------------------------------


def test_valid_inquiry_is_201_with_public_uuid(client):
    response = client.post(URL, json=inquiry_payload())

    assert response.status_code == 201
    assert uuid.UUID(response.json["id"])


def test_valid_inquiry_stores_lead_with_normalised_contact(app, client):
    response = client.post(URL, json=inquiry_payload())

    (lead,) = leads(app)
    assert str(lead.public_id) == response.json["id"]
    assert lead.email == "dana.whitfield@example.org"
    assert lead.phone == "+12015550143"
    assert lead.source == "api"
    assert (lead.utm_source, lead.utm_medium, lead.utm_campaign) == ("google", "cpc", "spring")


def test_response_never_reveals_lead_status(client):
    response = client.post(URL, json=inquiry_payload())

    assert "status" not in response.json
    assert "new" not in response.json.values()


def test_repeat_inquiry_from_same_email_returns_same_id_without_second_lead(app, client):
    first = client.post(URL, json=inquiry_payload())
    second = client.post(URL, json=inquiry_payload(email="DANA.WHITFIELD@example.org", message="Any news?"))

    assert second.status_code == 201
    assert second.json["id"] == first.json["id"]
    assert len(leads(app)) == 1


# --- per-field validation ------------------------------------------------------------------------


def _without(name: str) -> dict:
    payload = inquiry_payload()
    del payload[name]
    return payload


@pytest.mark.parametrize(
    ("payload", "field", "message"),
    [
        (_without("first_name"), "first_name", "Enter your first name."),
        (inquiry_payload(first_name=""), "first_name", "Enter your first name."),
        (inquiry_payload(email="dana@"), "email", None),
        (inquiry_payload(phone="555"), "phone", None),
        (inquiry_payload(condition="cancer"), "condition", None),
        (inquiry_payload(preferred_contact="fax"), "preferred_contact", None),
        (inquiry_payload(consent=False), "consent", None),
        (_without("consent"), "consent", None),
        (inquiry_payload(consent="true"), "consent", None),
        (inquiry_payload(first_name=42), "first_name", "Must be a string."),
        (inquiry_payload(first_name=["Dana"]), "first_name", "Must be a string."),
        (inquiry_payload(clinic="nowhere"), "clinic", "There is no clinic with this slug."),
        (inquiry_payload(last_name="Whit\r\nBcc: x@example.org"), "last_name", "Use a single line."),
        (inquiry_payload(message="x" * 5001), "message", "Use at most 5000 characters."),
    ],
    ids=[
        "missing-first-name",
        "empty-first-name",
        "bad-email",
        "bad-phone",
        "unknown-condition",
        "fax",
        "consent-false",
        "consent-missing",
        "consent-string",
        "first-name-number",
        "first-name-list",
        "unknown-clinic",
        "header-injection",
        "message-too-long",
    ],
)
def test_invalid_field_is_422_naming_only_that_field(app, client, payload, field, message):
    response = client.post(URL, json=payload)

    assert response.status_code == 422
    assert list(response.json["errors"]) == [field]
    if message:
        assert response.json["errors"][field] == message
    assert leads(app) == []


# --- malformed requests --------------------------------------------------------------------------


def test_malformed_json_is_400(client):
    response = client.post(URL, data=b'{"first_name": "Dana",', content_type="application/json")

    assert response.status_code == 400
    assert response.json["error"]


def test_json_array_body_is_400(client):
    response = client.post(URL, json=[inquiry_payload()])

    assert response.status_code == 400
    assert response.json["error"]


def test_plain_text_content_type_is_415_json(client):
    response = client.post(URL, data=json.dumps(inquiry_payload()), content_type="text/plain")

    assert response.status_code == 415
    assert response.json["error"]


def test_body_over_max_content_length_is_413_json(app, client):
    response = client.post(URL, json=inquiry_payload(message="x" * 100_000))

    assert response.status_code == 413
    assert response.json["error"]
    assert leads(app) == []


# --- characters no database column takes ------------------------------------------------------


def _refused_or_cleaned(app, response, field: str) -> None:
    """A field with characters a database cannot store is refused (422) or stored without them."""
    assert response.status_code in {201, 422}, response.text
    if response.status_code == 422:
        assert field in response.json["errors"]
    else:
        (lead,) = leads(app)
        assert "\x00" not in getattr(lead, field)
        getattr(lead, field).encode()


@pytest.mark.parametrize("field", ["first_name", "message", "utm_source"])
def test_nul_byte_in_text_field_is_refused_or_removed(app, client, field):
    response = client.post(URL, json=inquiry_payload(**{field: "Da\x00na"}))

    _refused_or_cleaned(app, response, field)


@pytest.mark.parametrize("field", ["first_name", "utm_source"])
def test_lone_surrogate_in_text_field_is_refused_or_removed(app, client, field):
    body = json.dumps(inquiry_payload(**{field: "Da\ud800na"}))

    response = client.post(URL, data=body, content_type="application/json")

    _refused_or_cleaned(app, response, field)


def test_clinic_slug_with_nul_byte_is_unknown_clinic(app, client):
    response = client.post(URL, json=inquiry_payload(clinic="main\x00"))

    assert response.status_code == 422
    assert list(response.json["errors"]) == ["clinic"]


# --- no input makes it fail --------------------------------------------------------------------

text = st.text()
json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | text
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5),
    max_leaves=20,
)
# Objects with the real field names, some with the valid values of a real inquiry left in place.
json_objects = st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=10), json_values, max_size=16)
near_valid = st.builds(
    lambda overrides: inquiry_payload(**overrides),
    st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=3),
)


def _assert_handled(response) -> None:
    assert response.status_code in EXPECTED_STATUSES, response.text
    assert response.is_json
    assert isinstance(response.json, dict)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=json_values | json_objects | near_valid)
def test_any_json_value_is_answered_without_server_error(client, body):
    _assert_handled(client.post(URL, json=body))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.binary(max_size=300), content_type=st.sampled_from(["application/json", "text/plain", ""]))
def test_any_raw_body_is_answered_without_server_error(client, body, content_type):
    _assert_handled(client.post(URL, data=body, content_type=content_type or None))
