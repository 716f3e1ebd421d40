"""Render a message of the outbox from templates/email and send it over SMTP with Flask-Mail."""

import contextlib
import smtplib
from email.utils import parseaddr

from flask import current_app, render_template, url_for
from flask_mail import Message as MailMessage

from leads import clock, intake, invitations, links, message_kinds, policy
from leads.contact import display_phone
from leads.extensions import mail
from leads.models import Message

REPEAT_ALERT_SUBJECT = "Returning inquiry from {first_name}"
ICS_KINDS = {"consultation_confirmed": False, "consultation_cancelled": True}  # kind: is it a cancellation


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
    """Render the outbox row into an email with a text part and an HTML part (and an .ics when due)."""
    lead, clinic, consultation = message.lead, message.lead.clinic, message.consultation
    kind = message_kinds.kind_of(message.kind)
    template = message_kinds.template_name(message.kind)
    context = {
        "message": message,
        "lead": lead,
        "clinic": clinic,
        "clinic_phone": display_phone(clinic.phone),
        "lead_url": external_url("dashboard.lead_detail", public_id=lead.public_id),
        "is_repeat": _is_repeat_inquiry(message),
        "consultation": consultation,
        "when": clock.local_time(consultation.starts_at, consultation.timezone) if consultation else "",
        "self_service_url": _self_service_url(message, kind),
        "unsubscribe_url": external_url("public.unsubscribe", token=links.unsubscribe_token(lead.email))
        if kind.marketing
        else None,
        "inquire_url": external_url("public.inquire", clinic=clinic.slug),
        # followup_4 and later reuse the last template, which says "last" only when it is.
        "is_last_followup": message_kinds.followup_number(message.kind) >= len(policy.current().followup_schedule),
    }
    subject_format = REPEAT_ALERT_SUBJECT if context["is_repeat"] and message.kind == "new_lead_alert" else kind.subject
    headers = {"X-Leads-Kind": message.kind}
    if kind.marketing:
        # RFC 8058: mail providers offer a one-click unsubscribe that POSTs to this address.
        headers["List-Unsubscribe"] = f"<{context['unsubscribe_url']}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    email = MailMessage(
        subject=subject_format.format(first_name=lead.first_name, clinic=clinic.name, when=context["when"]),
        recipients=[message.recipient],
        body=render_template(f"email/{template}.txt", **context),
        html=render_template(f"email/{template}.html", **context),
        reply_to=None if kind.to_staff else (clinic.reply_to or clinic.inbox),
        extra_headers=headers,
    )
    email.msgId = message_id(message)
    if message.kind in ICS_KINDS:
        cancelled = ICS_KINDS[message.kind]
        email.attach(
            "consultation.ics",
            f"text/calendar; method={'CANCEL' if cancelled else 'REQUEST'}; charset=UTF-8",
            invitations.consultation_ics(
                consultation, sender=current_app.config["MAIL_DEFAULT_SENDER"], now=clock.now(), cancelled=cancelled
            ),
        )
    return email


def _self_service_url(message: Message, kind: message_kinds.Kind) -> str | None:
    if message.consultation is None or kind.to_staff:
        return None
    return external_url("public.consultation", token=links.consultation_token(message.consultation))


def send(message: Message) -> None:
    """Send one outbox row; raise TransientSendError or PermanentSendError when it does not go."""
    email = build(message)
    connection = mail.connect()
    try:
        connection.host = _reused_smtp()
        connection.send(email)
    except smtplib.SMTPRecipientsRefused as error:
        code, reply = next(iter(error.recipients.values()))
        _raise_for_code(code, reply)
    except smtplib.SMTPResponseException as error:
        _drop_smtp()
        _raise_for_code(error.smtp_code, error.smtp_error)
    except (smtplib.SMTPException, OSError) as error:
        _drop_smtp()
        raise TransientSendError(f"{type(error).__name__}: {error}") from error


# One SMTP connection per process and server, kept between sends: connecting, EHLO, STARTTLS
# and login cost more than a message. Celery's prefork children each open their own after the fork.
_smtp: dict[tuple, smtplib.SMTP] = {}


def _server_key() -> tuple:
    config = current_app.config
    return (config["MAIL_SERVER"], config["MAIL_PORT"], config["MAIL_USE_SSL"], config["MAIL_USERNAME"])


def _reused_smtp() -> smtplib.SMTP:
    host = _smtp.get(_server_key())
    if host is not None:
        try:
            # A server may close an idle connection; NOOP finds out before a message is at stake.
            if host.noop()[0] == 250:
                return host
        except (smtplib.SMTPException, OSError):
            pass
        _drop_smtp()
    host = _smtp[_server_key()] = open_smtp()
    return host


def _drop_smtp() -> None:
    _quit(_smtp.pop(_server_key(), None))


def close_connections() -> None:
    """Close every kept SMTP connection (at worker shutdown, and between tests)."""
    while _smtp:
        _quit(_smtp.popitem()[1])


def _quit(host: smtplib.SMTP | None) -> None:
    if host is not None:
        # After a failure the connection's state is unknown; a failing QUIT changes nothing.
        with contextlib.suppress(smtplib.SMTPException, OSError):
            host.quit()
        host.close()


def open_smtp() -> smtplib.SMTP:
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
