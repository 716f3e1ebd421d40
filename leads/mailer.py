"""Render a message of the outbox from templates/email and send it over SMTP with Flask-Mail."""

import contextlib
import smtplib
from email.utils import parseaddr

from flask import current_app, render_template, url_for
from flask_mail import Message as MailMessage

from leads import intake
from leads.contact import display_phone
from leads.extensions import mail
from leads.models import Message

# Subjects carry the clinic's name and never the condition or the prospect's words.
SUBJECTS = {
    "inquiry_received": "We received your message, {first_name} | {clinic}",
    "new_lead_alert": "New inquiry from {first_name}",
}
REPEAT_ALERT_SUBJECT = "Returning inquiry from {first_name}"


class TransientSendError(Exception):
    """The SMTP server or the network failed in a way that may pass; try again later."""


class PermanentSendError(Exception):
    """The SMTP server refused the message for good (5xx); retrying will not help."""


def external_url(endpoint: str, **values) -> str:
    """Return an absolute link under PUBLIC_BASE_URL, also from a worker with no request."""
    with current_app.test_request_context("/", base_url=current_app.config["PUBLIC_BASE_URL"]):
        return url_for(endpoint, _external=True, **values)


def message_id(message: Message) -> str:
    """Return the RFC 5322 Message-ID of an outbox row; the same on every attempt."""
    domain = parseaddr(current_app.config["MAIL_DEFAULT_SENDER"])[1].rpartition("@")[2] or "leads.local"
    return f"<{message.public_id}@{domain}>"


def build(message: Message) -> MailMessage:
    """Render the outbox row into an email with a text part and an HTML part."""
    lead, clinic = message.lead, message.lead.clinic
    context = {
        "message": message,
        "lead": lead,
        "clinic": clinic,
        "clinic_phone": display_phone(clinic.phone) if clinic.phone.startswith("+") else clinic.phone,
        "lead_url": external_url("dashboard.lead_detail", public_id=lead.public_id),
        "is_repeat": _is_repeat_inquiry(message),
    }
    subject_format = (
        REPEAT_ALERT_SUBJECT if context["is_repeat"] and message.kind == "new_lead_alert" else SUBJECTS[message.kind]
    )
    email = MailMessage(
        subject=subject_format.format(first_name=lead.first_name, clinic=clinic.name),
        recipients=[message.recipient],
        body=render_template(f"email/{message.kind}.txt", **context),
        html=render_template(f"email/{message.kind}.html", **context),
        reply_to=(clinic.reply_to or clinic.inbox) if message.recipient != clinic.inbox else None,
        extra_headers={"X-Leads-Kind": message.kind},
    )
    email.msgId = message_id(message)
    return email


def send(message: Message) -> None:
    """Send one outbox row; raise TransientSendError or PermanentSendError when it does not go."""
    email = build(message)
    connection = mail.connect()
    try:
        connection.host = _open_smtp()
        connection.send(email)
    except smtplib.SMTPRecipientsRefused as error:
        code, reply = next(iter(error.recipients.values()))
        _raise_for_code(code, reply)
    except smtplib.SMTPResponseException as error:
        _raise_for_code(error.smtp_code, error.smtp_error)
    except (smtplib.SMTPException, OSError) as error:
        raise TransientSendError(f"{type(error).__name__}: {error}") from error
    finally:
        # Once the server has taken the message, a failing QUIT must not make it look unsent.
        if connection.host is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                connection.host.quit()


def _open_smtp() -> smtplib.SMTP:
    # Flask-Mail's own opener sets no timeout, and a hung server would hold the row past its lease.
    config = current_app.config
    smtp_class = smtplib.SMTP_SSL if config["MAIL_USE_SSL"] else smtplib.SMTP
    host = smtp_class(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=config["MAIL_TIMEOUT"])
    if config["MAIL_USE_TLS"]:
        host.starttls()
    if config["MAIL_USERNAME"] and config["MAIL_PASSWORD"]:
        host.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
    return host


def _raise_for_code(code: int, reply: bytes | str) -> None:
    text = reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)
    if 500 <= code < 600:
        raise PermanentSendError(f"{code} {text}")
    raise TransientSendError(f"{code} {text}")


def _is_repeat_inquiry(message: Message) -> bool:
    inquiry = intake.inquiry_event_of(message)
    return bool(inquiry and inquiry.data.get("repeat"))
