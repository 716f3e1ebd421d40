"""The inquiry's fields and their rules, shared by the HTML form and the JSON endpoint."""

from dataclasses import dataclass

from flask import current_app
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, StopValidation, ValidationError

from leads.contact import normalise_email, normalise_phone
from leads.models import Clinic, Condition, PreferredContact
from leads.text import unstorable

CONDITION_LABELS = {
    Condition.MIGRAINE: "Refractory migraine",
    Condition.DEPRESSION: "Treatment-resistant depression",
    Condition.ANXIETY: "Anxiety",
    Condition.PTSD: "PTSD",
    Condition.CHRONIC_PAIN: "Chronic pain",
    Condition.OTHER: "Something else",
}
CONTACT_LABELS = {
    PreferredContact.PHONE: "Phone call",
    PreferredContact.EMAIL: "Email",
    PreferredContact.TEXT: "Text message",
}
HEARD_ABOUT_SUGGESTIONS = [
    "Search engine",
    "My doctor or therapist",
    "Friend or family",
    "Social media",
    "TV or radio",
]

# Upper bounds for every free-text field, so no request stores an unbounded string.
FIELD_LIMITS = {
    "first_name": 100,
    "last_name": 100,
    "email": 254,
    "phone": 40,
    "message": 5000,
    "heard_about": 200,
    "utm_source": 200,
    "utm_medium": 200,
    "utm_campaign": 200,
    "referrer": 2000,
}
TEXT_FIELDS = tuple(FIELD_LIMITS)
CHOICE_FIELDS = ("preferred_contact", "condition")


def consent_text(clinic: Clinic) -> str:
    """Return the consent wording shown beside the checkbox; stored verbatim with each lead."""
    return (
        f"I agree that {clinic.name} may contact me by phone, email or text message about my "
        "inquiry, and I understand that this form is not for emergencies."
    )


def _valid_email(form, field) -> None:
    if field.data:
        try:
            field.data = normalise_email(field.data)
        except ValueError as error:
            raise ValidationError(str(error)) from None


def _valid_phone(form, field) -> None:
    if field.data:
        try:
            field.data = normalise_phone(field.data, current_app.config["DEFAULT_PHONE_REGION"])
        except ValueError as error:
            raise ValidationError(str(error)) from None


def _storable_text(form, field) -> None:
    # NUL and other control characters break PostgreSQL or email; lone surrogates cannot be encoded.
    # Line breaks are the business of _no_line_breaks, on the fields that reach email headers.
    if field.data and unstorable(field.data):
        raise StopValidation("Remove the invisible control characters from this field.")


def _no_line_breaks(form, field) -> None:
    # Names and addresses reach email headers; CR/LF there would let a sender inject headers.
    if field.data and ("\r" in field.data or "\n" in field.data):
        raise ValidationError("Use a single line.")


def _bounded(name: str, *validators):
    return [
        _storable_text,
        *validators,
        Length(max=FIELD_LIMITS[name], message=f"Use at most {FIELD_LIMITS[name]} characters."),
    ]


class InquiryForm(FlaskForm):
    """The "Interested in learning more?" form; also validates the JSON API's body."""

    class Meta:
        # The form is embedded on the clinic's own site, where a session cookie is third-party
        # and would not arrive; the honeypot, fill-time token and rate limit guard it instead.
        csrf = False

    first_name = StringField(
        "First name", _bounded("first_name", DataRequired("Enter your first name."), _no_line_breaks)
    )
    last_name = StringField("Last name", _bounded("last_name", DataRequired("Enter your last name."), _no_line_breaks))
    email = StringField("Email", _bounded("email", DataRequired("Enter your email address."), _valid_email))
    phone = StringField(
        "Phone", _bounded("phone", DataRequired("Enter a phone number we can reach you on."), _valid_phone)
    )
    preferred_contact = SelectField(
        "How should we reach you?",
        choices=[SelectChoice(choice.value, label) for choice, label in CONTACT_LABELS.items()],
        validators=[InputRequired("Choose how we should reach you.")],
    )
    condition = SelectField(
        "What would you like help with?",
        choices=[SelectChoice("", "Choose one…")]
        + [SelectChoice(choice.value, label) for choice, label in CONDITION_LABELS.items()],
        validators=[DataRequired("Choose what you would like help with.")],
    )
    message = TextAreaField("Anything you would like us to know? (optional)", _bounded("message", Optional()))
    heard_about = StringField(
        "How did you hear about us? (optional)", _bounded("heard_about", Optional(), _no_line_breaks)
    )
    consent = BooleanField(validators=[DataRequired("Please tick the box so that we may contact you.")])
    utm_source = HiddenField(validators=_bounded("utm_source", Optional()))
    utm_medium = HiddenField(validators=_bounded("utm_medium", Optional()))
    utm_campaign = HiddenField(validators=_bounded("utm_campaign", Optional()))
    referrer = HiddenField(validators=_bounded("referrer", Optional()))

    def errors_by_field(self) -> dict[str, str]:
        """Return the first message of each invalid field, keyed by the API's field names."""
        return {name: messages[0] for name, messages in self.errors.items() if messages}


@dataclass(frozen=True)
class Inquiry:
    """A validated inquiry, normalised and ready for the domain."""

    first_name: str
    last_name: str
    email: str
    phone: str
    preferred_contact: PreferredContact
    condition: Condition
    message: str
    heard_about: str
    utm_source: str
    utm_medium: str
    utm_campaign: str
    referrer: str

    @classmethod
    def from_form(cls, form: InquiryForm) -> "Inquiry":
        text = {name: (getattr(form, name).data or "").strip() for name in TEXT_FIELDS}
        return cls(
            **text,
            preferred_contact=PreferredContact(form.preferred_contact.data),
            condition=Condition(form.condition.data),
        )
