"""Forms of the coordinators' pages (Flask-WTF, CSRF on every one)."""

from flask_wtf import FlaskForm
from wtforms import (
    DateTimeLocalField,
    EmailField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
    ValidationError,
)
from wtforms.validators import AnyOf, DataRequired, InputRequired, Length, Optional

from leads.lifecycle import CALL_OUTCOMES
from leads.models import LeadStatus
from leads.text import unstorable

MAX_REASON = 500
MAX_NOTE = 5000
UNASSIGNED = "none"
ERASE_WORD = "ERASE"
DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]


def words(value: str) -> str:
    """`no_answer` → `No answer`."""
    return value.replace("_", " ").capitalize()


def storable(_form, field) -> None:
    if field.data and unstorable(field.data):
        raise ValidationError("Remove the control characters.")


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired("Enter your email."), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired("Enter your password."), Length(max=1000)])


class StatusForm(FlaskForm):
    # Every status is a valid choice here: which ones the lead may take is the lifecycle's call,
    # and its refusal is what the coordinator sees.
    status = SelectField(
        "New status", choices=[SelectChoice(status.value, words(status.value)) for status in LeadStatus]
    )
    reason = StringField("Reason", validators=[Optional(), Length(max=MAX_REASON), storable])


class AssignForm(FlaskForm):
    assignee = SelectField("Assignee", validators=[InputRequired("Choose a coordinator.")])

    def __init__(self, coordinators, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.coordinators = coordinators
        self.assignee.choices = [SelectChoice(UNASSIGNED, "Unassigned")] + [
            SelectChoice(str(coordinator.public_id), coordinator.email) for coordinator in coordinators
        ]

    def chosen(self):
        """The coordinator chosen, or None for "Unassigned"."""
        return next((c for c in self.coordinators if str(c.public_id) == self.assignee.data), None)


class NoteForm(FlaskForm):
    body = TextAreaField("Note", validators=[DataRequired("Write the note."), Length(max=MAX_NOTE), storable])


class CallForm(FlaskForm):
    outcome = SelectField("Outcome", choices=[SelectChoice(outcome, words(outcome)) for outcome in CALL_OUTCOMES])
    note = TextAreaField("Note", validators=[Optional(), Length(max=MAX_NOTE), storable])


class BookForm(FlaskForm):
    starts_at = DateTimeLocalField(
        "Date and time", format=DATETIME_FORMATS, validators=[InputRequired("Give the date and time.")]
    )
    duration_minutes = IntegerField("Minutes", validators=[InputRequired("Give the duration in minutes.")])


class ConsultationForm(FlaskForm):
    """Acts on the lead's active consultation; `consultation` names the one the page showed."""

    consultation = HiddenField(validators=[DataRequired()])


class RescheduleForm(ConsultationForm):
    starts_at = DateTimeLocalField(
        "New date and time", format=DATETIME_FORMATS, validators=[InputRequired("Give the new date and time.")]
    )


class CancelConsultationForm(ConsultationForm):
    reason = StringField("Reason", validators=[Optional(), Length(max=MAX_REASON), storable])


class OutcomeForm(ConsultationForm):
    outcome = SelectField(
        "Outcome", choices=[SelectChoice("completed", "It took place"), SelectChoice("no_show", "No-show")]
    )


class ConfirmForm(FlaskForm):
    """A button that needs nothing but the CSRF token."""


class MessageActionForm(FlaskForm):
    next = HiddenField()


class EraseForm(FlaskForm):
    confirm = StringField(
        f"Type {ERASE_WORD} to confirm",
        validators=[InputRequired(f"Type {ERASE_WORD} to confirm."), AnyOf([ERASE_WORD], f"Type {ERASE_WORD}.")],
    )
    reason = StringField(
        "Reason", validators=[DataRequired("Give the reason, e.g. the request."), Length(max=MAX_REASON), storable]
    )
