"""leads/inquiry_form.py: the inquiry's rules, shared by the HTML form and the JSON API."""

import pytest
from werkzeug.datastructures import MultiDict

from leads import create_app
from leads.inquiry_form import FIELD_LIMITS, Inquiry, InquiryForm, consent_text
from leads.models import Clinic, Condition, PreferredContact
from tests.factories import form_data

MISSING = object()


@pytest.fixture(scope="module")
def form_app(tmp_path_factory):
    """Validation touches no database, so one app on an unused SQLite file serves every backend."""
    instance = tmp_path_factory.mktemp("form-instance")
    return create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "INSTANCE_PATH": str(instance),
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance / 'unused.sqlite3'}",
            "RATELIMIT_STORAGE_URI": "memory://",
            "DEFAULT_PHONE_REGION": "US",
        }
    )


def validated_form(form_app, **overrides) -> InquiryForm:
    data = form_data(**overrides)
    data = {key: value for key, value in data.items() if value is not MISSING}
    with form_app.test_request_context():
        form = InquiryForm(formdata=MultiDict(data))
        form.validate()
        return form


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        pytest.param({"first_name": MISSING}, "first_name", id="missing-first-name"),
        pytest.param({"first_name": ""}, "first_name", id="empty-first-name"),
        pytest.param({"first_name": "   "}, "first_name", id="whitespace-first-name"),
        pytest.param({"last_name": "\t \t"}, "last_name", id="whitespace-last-name"),
        pytest.param({"first_name": "Dana\r\nBcc: eve@example.org"}, "first_name", id="crlf-first-name"),
        pytest.param({"first_name": "Dana\r"}, "first_name", id="cr-first-name"),
        pytest.param({"last_name": "Whit\nfield"}, "last_name", id="lf-last-name"),
        pytest.param({"heard_about": "Search\r\nengine"}, "heard_about", id="crlf-heard-about"),
        pytest.param({"first_name": "D" * 101}, "first_name", id="long-first-name"),
        pytest.param({"email": MISSING}, "email", id="missing-email"),
        pytest.param({"email": "dana.example.org"}, "email", id="email-without-at"),
        pytest.param({"email": "dana@example"}, "email", id="email-without-domain-dot"),
        pytest.param({"phone": MISSING}, "phone", id="missing-phone"),
        pytest.param({"phone": "12345"}, "phone", id="short-phone"),
        pytest.param({"phone": "call me"}, "phone", id="letters-phone"),
        pytest.param({"preferred_contact": MISSING}, "preferred_contact", id="missing-preferred-contact"),
        pytest.param({"preferred_contact": "fax"}, "preferred_contact", id="unknown-preferred-contact"),
        pytest.param({"condition": ""}, "condition", id="empty-condition"),
        pytest.param({"condition": MISSING}, "condition", id="missing-condition"),
        pytest.param({"condition": "cancer"}, "condition", id="unknown-condition"),
        pytest.param({"consent": MISSING}, "consent", id="missing-consent"),
        pytest.param({"message": "x" * 5001}, "message", id="long-message"),
        pytest.param({"utm_source": "s" * 201}, "utm_source", id="long-utm-source"),
        pytest.param({"utm_medium": "m" * 201}, "utm_medium", id="long-utm-medium"),
        pytest.param({"utm_campaign": "c" * 201}, "utm_campaign", id="long-utm-campaign"),
        pytest.param({"referrer": "r" * 2001}, "referrer", id="long-referrer"),
    ],
)
def test_invalid_input_is_reported_on_its_field_only(form_app, overrides, field):
    form = validated_form(form_app, **overrides)

    errors = form.errors_by_field()

    assert set(errors) == {field}
    assert isinstance(errors[field], str) and errors[field]


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param({"message": "x" * FIELD_LIMITS["message"]}, id="message-at-limit"),
        pytest.param({"utm_campaign": "c" * FIELD_LIMITS["utm_campaign"]}, id="utm-at-limit"),
        pytest.param({"message": MISSING, "heard_about": MISSING}, id="optional-fields-missing"),
        pytest.param({"utm_source": MISSING, "utm_medium": MISSING, "utm_campaign": MISSING}, id="no-utm"),
        pytest.param({"preferred_contact": "text", "condition": "chronic_pain"}, id="other-choices"),
    ],
)
def test_valid_input_has_no_errors(form_app, overrides):
    form = validated_form(form_app, **overrides)

    assert form.errors_by_field() == {}


def test_missing_names_use_the_form_wording(form_app):
    form = validated_form(form_app, first_name="  ", last_name=MISSING)

    assert form.errors_by_field() == {
        "first_name": "Enter your first name.",
        "last_name": "Enter your last name.",
    }


def test_valid_form_normalises_email_to_lower_case(form_app):
    form = validated_form(form_app, email="  Dana.Whitfield@Example.ORG ")

    assert form.email.data == "dana.whitfield@example.org"


def test_valid_form_normalises_phone_to_e164(form_app):
    form = validated_form(form_app, phone="(201) 555-0143")

    assert form.phone.data == "+12015550143"


def test_inquiry_from_form_strips_text_and_converts_choices(form_app):
    form = validated_form(
        form_app,
        first_name="  Dana ",
        last_name=" Whitfield\t",
        message="  Nothing has helped.  ",
        heard_about=" Search engine ",
        preferred_contact="email",
        condition="migraine",
        utm_source=MISSING,
    )
    assert form.errors_by_field() == {}

    inquiry = Inquiry.from_form(form)

    assert inquiry.first_name == "Dana"
    assert inquiry.last_name == "Whitfield"
    assert inquiry.message == "Nothing has helped."
    assert inquiry.heard_about == "Search engine"
    assert inquiry.utm_source == ""
    assert inquiry.email == "dana.whitfield@example.org"
    assert inquiry.phone == "+12015550143"
    assert inquiry.preferred_contact is PreferredContact.EMAIL
    assert inquiry.condition is Condition.MIGRAINE


def test_consent_text_names_the_clinic():
    clinic = Clinic(name="Lakeside Infusion Center", slug="lakeside", timezone="America/Chicago", inbox="x@y.org")

    text = consent_text(clinic)

    assert "Lakeside Infusion Center may contact me" in text
    assert "not for emergencies" in text
