"""The HTML inquiry form: what it shows, what it records and how it keeps bots out."""

from html.parser import HTMLParser

import pytest
import sqlalchemy as sa

from leads.clinics import ensure_default_clinic
from leads.extensions import db
from leads.inquiry_form import consent_text
from leads.models import Lead, Message, RejectedInquiry
from tests.factories import form_data, inquiry_payload


class FormPage(HTMLParser):
    """Collect the inputs, selects, options, labels, textareas and error paragraphs of a page."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.inputs: list[dict] = []
        self.selects: dict[str, list[str]] = {}
        self.labels: dict[str, str] = {}
        self.textareas: dict[str, str] = {}
        self.errors: dict[str, str] = {}
        self._select: str | None = None
        self._text_target: tuple[dict, str] | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attributes = {name: value or "" for name, value in attrs}
        if tag == "input":
            self.inputs.append(attributes)
        elif tag == "select":
            self._select = attributes.get("name")
            self.selects[self._select] = []
        elif tag == "option" and self._select:
            self.selects[self._select].append(attributes.get("value", ""))
        elif tag == "label" and "for" in attributes:
            self._text_target = (self.labels, attributes["for"])
        elif tag == "textarea":
            self._text_target = (self.textareas, attributes["name"])
        elif tag == "p" and "field-error" in attributes.get("class", ""):
            self._text_target = (self.errors, attributes["id"].removesuffix("-error"))

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag in {"label", "textarea", "p"}:
            self._text_target = None

    def handle_data(self, data):
        if self._text_target:
            target, key = self._text_target
            target[key] = target.get(key, "") + data

    def named(self, name: str) -> list[dict]:
        return [field for field in self.inputs if field.get("name") == name]

    def value(self, name: str) -> str:
        (field,) = self.named(name)
        return field.get("value", "")


def form_token(client, url: str = "/inquire") -> str:
    page = client.get(url)
    assert page.status_code == 200
    return FormPage(page.text).value("form_token")


def count(app, model, *criteria) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*criteria))


def all_leads(app) -> list[Lead]:
    with app.app_context():
        return db.session.scalars(sa.select(Lead)).all()


def rejections(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(sa.select(RejectedInquiry.reason).order_by(RejectedInquiry.id)))


# --- the page ------------------------------------------------------------------------------------


def test_inquiry_page_is_served(client):
    response = client.get("/inquire")

    assert response.status_code == 200
    assert response.mimetype == "text/html"


@pytest.mark.parametrize("name", ["first_name", "last_name", "email", "phone", "heard_about"])
def test_inquiry_page_has_text_input(client, name):
    page = FormPage(client.get("/inquire").text)

    (field,) = page.named(name)
    assert field["id"] == name
    assert page.labels[name].strip()


def test_inquiry_page_offers_every_contact_method_as_radio(client):
    page = FormPage(client.get("/inquire").text)

    radios = page.named("preferred_contact")
    assert {field["type"] for field in radios} == {"radio"}
    assert {field["value"] for field in radios} == {"phone", "email", "text"}


def test_inquiry_page_offers_every_condition_in_select(client):
    page = FormPage(client.get("/inquire").text)

    assert set(page.selects["condition"]) == {
        "",
        "migraine",
        "depression",
        "anxiety",
        "ptsd",
        "chronic_pain",
        "other",
    }


def test_inquiry_page_has_message_textarea(client):
    page = FormPage(client.get("/inquire").text)

    assert page.textareas.get("message", "") == ""
    assert "message" in page.labels


def test_inquiry_page_shows_exact_consent_text_beside_checkbox(app, client):
    page = FormPage(client.get("/inquire").text)

    with app.app_context():
        expected = consent_text(ensure_default_clinic(db.session, app.config))
    (checkbox,) = page.named("consent")
    assert checkbox["type"] == "checkbox"
    assert page.labels["consent"] == expected


def test_inquiry_page_prefills_utm_fields_from_query_string(client):
    page = FormPage(client.get("/inquire?utm_source=fb&utm_campaign=x").text)

    assert page.named("utm_source")[0]["type"] == "hidden"
    assert page.value("utm_source") == "fb"
    assert page.value("utm_campaign") == "x"
    assert page.value("utm_medium") == ""


def test_inquiry_page_has_hidden_form_token(client):
    page = FormPage(client.get("/inquire").text)

    (token,) = page.named("form_token")
    assert token["type"] == "hidden"
    assert token["value"]


def test_inquiry_page_has_empty_honeypot(client):
    page = FormPage(client.get("/inquire").text)

    (honeypot,) = page.named("website")
    assert honeypot["value"] == ""
    assert honeypot["tabindex"] == "-1"


def test_inquiry_page_for_unknown_clinic_is_404(client):
    assert client.get("/inquire?clinic=unknown").status_code == 404


# --- a valid submission --------------------------------------------------------------------------


def test_valid_submission_redirects_to_thanks(client):
    response = client.post("/inquire", data=form_data(form_token=form_token(client)))

    assert response.status_code == 302
    assert response.location.startswith("/thanks")


def test_valid_submission_creates_one_lead_in_e164_with_consent_text(app, client):
    client.post("/inquire", data=form_data(form_token=form_token(client)))

    with app.app_context():
        (lead,) = db.session.scalars(sa.select(Lead)).all()
        assert lead.phone == "+12015550143"
        assert lead.email == "dana.whitfield@example.org"
        assert lead.source == "web"
        assert lead.consent_text == consent_text(lead.clinic)


def test_thanks_page_says_thank_you(client):
    response = client.get("/thanks")

    assert response.status_code == 200
    assert "Thank you" in response.text


# --- an invalid submission -----------------------------------------------------------------------


def test_invalid_submission_is_422(client):
    response = client.post("/inquire", data=form_data(form_token=form_token(client), email="not-an-email"))

    assert response.status_code == 422


def test_invalid_submission_shows_error_next_to_each_bad_field(client):
    data = form_data(form_token=form_token(client), email="not-an-email", last_name="", consent="")
    del data["consent"]

    page = FormPage(client.post("/inquire", data=data).text)

    assert set(page.errors) == {"email", "last_name", "consent"}
    assert page.errors["last_name"] == "Enter your last name."
    assert page.errors["consent"] == "Please tick the box so that we may contact you."


def test_invalid_submission_keeps_typed_values(client):
    data = form_data(form_token=form_token(client), phone="12", first_name="Rosalind", message="Migraines daily.")

    page = FormPage(client.post("/inquire", data=data).text)

    assert page.value("first_name") == "Rosalind"
    assert page.value("phone") == "12"
    assert page.textareas["message"] == "Migraines daily."
    assert [field["value"] for field in page.named("preferred_contact") if "checked" in field] == ["phone"]


def test_invalid_submission_creates_no_lead(app, client):
    client.post("/inquire", data=form_data(form_token=form_token(client), condition="cancer"))

    assert count(app, Lead) == 0


# --- bots ----------------------------------------------------------------------------------------


def test_filled_honeypot_looks_like_success(client):
    response = client.post("/inquire", data=form_data(form_token=form_token(client), website="http://spam.example"))

    assert response.status_code == 302
    assert response.location.startswith("/thanks")


def test_filled_honeypot_creates_no_lead_or_message_and_is_counted(app, client):
    client.post("/inquire", data=form_data(form_token=form_token(client), website="http://spam.example"))

    assert count(app, Lead) == 0
    assert count(app, Message) == 0
    assert rejections(app) == ["honeypot"]


def test_submission_faster_than_min_fill_time_is_refused_with_notice(app, client):
    app.config["MIN_FILL_TIME"] = "5s"

    response = client.post("/inquire", data=form_data(form_token=form_token(client)))

    assert response.status_code == 422
    assert "once more" in response.text
    assert count(app, Lead) == 0
    assert rejections(app) == ["too_fast"]


def test_refused_fast_submission_keeps_typed_values(app, client):
    app.config["MIN_FILL_TIME"] = "5s"

    page = FormPage(client.post("/inquire", data=form_data(form_token=form_token(client))).text)

    assert page.value("first_name") == "Dana"
    assert page.value("form_token")


@pytest.mark.parametrize("token", [None, "", "forged", "MTc3MjQ2MzYwMC4w.invalid-signature"])
def test_missing_or_forged_form_token_is_refused_as_too_fast(app, client, token):
    data = form_data(form_token=token or "")
    if token is None:
        del data["form_token"]

    response = client.post("/inquire", data=data)

    assert response.status_code == 422
    assert count(app, Lead) == 0
    assert rejections(app) == ["too_fast"]


# --- rate limit ----------------------------------------------------------------------------------


@pytest.fixture
def limited_app(make_app):
    """An app (tables emptied by `app`) allowing two inquiries a minute per address."""
    return make_app(INQUIRY_RATE_LIMIT="2 per minute")


def test_third_inquiry_in_a_minute_is_429_and_counted(limited_app):
    client = limited_app.test_client()
    token = form_token(client)

    statuses = [
        client.post("/inquire", data=form_data(form_token=token, email=f"p{n}@example.org")).status_code
        for n in range(3)
    ]

    assert statuses == [302, 302, 429]
    assert count(limited_app, Lead) == 2
    assert rejections(limited_app) == ["rate_limited"]


def test_rate_limit_is_shared_between_form_and_api(limited_app):
    client = limited_app.test_client()
    token = form_token(client)

    first = client.post("/inquire", data=form_data(form_token=token, email="a@example.org"))
    second = client.post("/api/v1/inquiries", json=inquiry_payload(email="b@example.org"))
    third = client.post("/api/v1/inquiries", json=inquiry_payload(email="c@example.org"))
    fourth = client.post("/inquire", data=form_data(form_token=token, email="d@example.org"))

    assert [first.status_code, second.status_code, third.status_code, fourth.status_code] == [302, 201, 429, 429]
    assert third.is_json and "error" in third.json
    assert count(limited_app, Lead) == 2
    assert rejections(limited_app) == ["rate_limited", "rate_limited"]


def test_rate_limit_does_not_count_page_views(limited_app):
    client = limited_app.test_client()
    for _ in range(3):
        client.get("/inquire")

    response = client.post("/inquire", data=form_data(form_token=form_token(client)))

    assert response.status_code == 302


# --- characters no database column takes ---------------------------------------------------------


def test_nul_byte_in_form_field_is_refused_or_removed(app, client):
    response = client.post("/inquire", data=form_data(form_token=form_token(client), first_name="Da\x00na"))

    assert response.status_code in {302, 422}
    assert all("\x00" not in lead.first_name for lead in all_leads(app))


def test_clinic_slug_with_nul_byte_is_404(app, client):
    assert client.get("/inquire?clinic=main%00").status_code == 404
