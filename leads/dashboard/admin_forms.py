"""Forms of the account and admin pages (Flask-WTF, CSRF on every one)."""

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length, ValidationError

from leads import accounts
from leads.contact import normalise_email
from leads.extensions import db
from leads.models import Role

ROLE_CHOICES = [SelectChoice(Role.COORDINATOR.value, "Coordinator"), SelectChoice(Role.ADMIN.value, "Admin")]
ALL_CLINICS = ""


class ActionForm(FlaskForm):
    """A button that changes something: its CSRF token is its only field."""


class TokenForm(FlaskForm):
    name = StringField(
        "Token name", validators=[DataRequired("Name the token after what will use it."), Length(max=100)]
    )


class CreateCoordinatorForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired("Enter the person's email."), Length(max=254)])
    role = SelectField("Role", choices=ROLE_CHOICES, default=Role.COORDINATOR.value)
    clinic = SelectField("Clinic", default=ALL_CLINICS)
    # The password policy itself (length, common passwords) is accounts.check_password's.
    password = PasswordField(
        "Initial password", validators=[DataRequired("Enter an initial password."), Length(max=1000)]
    )

    def validate_email(self, field) -> None:
        try:
            address = normalise_email(field.data)
        except ValueError as error:
            raise ValidationError(str(error)) from None
        if accounts.find_coordinator(db.session, address) is not None:
            raise ValidationError(f"There is already an account for {address}.")


class RoleForm(FlaskForm):
    role = SelectField("Role", choices=ROLE_CHOICES)


class PasswordResetForm(FlaskForm):
    password = PasswordField("New password", validators=[DataRequired("Enter a new password."), Length(max=1000)])
