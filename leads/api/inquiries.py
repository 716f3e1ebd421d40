"""The public inquiry endpoint: it takes what the form takes and answers 201 or 422."""

from flask import current_app
from werkzeug.datastructures import MultiDict

from leads import spam, submissions
from leads.api.blueprint import bp
from leads.api.common import json_object
from leads.clinics import clinic_for_slug
from leads.extensions import db
from leads.inquiry_form import CHOICE_FIELDS, TEXT_FIELDS, InquiryForm


def _type_errors(payload: dict) -> dict[str, str]:
    errors = {}
    for name in (*TEXT_FIELDS, *CHOICE_FIELDS, "clinic"):
        if payload.get(name) is not None and not isinstance(payload[name], str):
            errors[name] = "Must be a string."
    if payload.get("consent") is not True:
        errors["consent"] = "Must be true: the prospect agreed to be contacted."
    return errors


def _as_formdata(payload: dict) -> MultiDict:
    # Wrong types are reported by _type_errors; the form sees only strings.
    fields = {name: _string_or_empty(payload.get(name)) for name in (*TEXT_FIELDS, *CHOICE_FIELDS)}
    return MultiDict({**fields, "consent": "y"})


def _string_or_empty(value) -> str:
    return value if isinstance(value, str) else ""


@bp.post("/inquiries")
@spam.inquiry_rate_limit
def create_inquiry():
    payload = json_object()
    errors = _type_errors(payload)
    clinic = None
    if "clinic" not in errors:
        clinic = clinic_for_slug(db.session, payload.get("clinic"), current_app.config)
        if clinic is None:
            errors["clinic"] = "There is no clinic with this slug."
    form = InquiryForm(formdata=_as_formdata(payload))
    form.validate()
    errors = {**form.errors_by_field(), **errors}
    if errors:
        return {"errors": errors}, 422
    lead = submissions.accept(form, clinic, channel="api")
    return {"id": str(lead.public_id)}, 201
