"""The prospect's pages: the inquiry form (embeddable, no JavaScript needed), unsubscribe, and
consultation self-service from the links in emails."""

from flask import Blueprint, abort, current_app, make_response, redirect, render_template, request, url_for

from leads import clock, consultations, links, policy, spam, submissions, suppressions
from leads.clinics import clinic_for_slug
from leads.durations import parse_duration
from leads.extensions import csrf, db
from leads.inquiry_form import InquiryForm, consent_text
from leads.text import unstorable

bp = Blueprint("public", __name__)

TRACKING_FIELDS = ("utm_source", "utm_medium", "utm_campaign")
SELF_SERVICE_STEPS = ("cancel", "reschedule")


def _clinic_or_404():
    clinic = clinic_for_slug(db.session, request.args.get("clinic"), current_app.config)
    if clinic is None:
        abort(404)
    return clinic


def _render_form(form: InquiryForm, clinic, *, notice: str = "", status: int = 200):
    page = render_template(
        "public/inquire.html",
        form=form,
        clinic=clinic,
        consent_text=consent_text(clinic),
        fill_token=spam.fill_token(),
        honeypot_field=spam.HONEYPOT_FIELD,
        fill_token_field=spam.FILL_TOKEN_FIELD,
        notice=notice,
    )
    return page, status


@bp.get("/")
def index():
    return redirect(url_for("public.inquire"))


@bp.get("/inquire")
def inquire():
    clinic = _clinic_or_404()
    form = InquiryForm(formdata=None)
    for name in TRACKING_FIELDS:
        getattr(form, name).data = request.args.get(name, "")[:200]
    form.referrer.data = (request.args.get("ref") or request.referrer or "")[:2000]
    return _render_form(form, clinic)


@bp.post("/inquire")
@csrf.exempt  # see InquiryForm.Meta: the form lives on the clinic's site, without our session
@spam.inquiry_rate_limit
def submit_inquiry():
    clinic = _clinic_or_404()
    if spam.honeypot_filled(request.form):
        submissions.reject(clinic, channel="web", reason="honeypot")
        # A bot sees the same page as a person, so it learns nothing to adapt to.
        return redirect(url_for("public.thanks", clinic=clinic.slug))
    form = InquiryForm()
    if spam.filled_too_fast(request.form.get(spam.FILL_TOKEN_FIELD)):
        submissions.reject(clinic, channel="web", reason="too_fast")
        # A person whose browser filled the form in a blink only has to press the button again.
        notice = "Please check your details and press “Send” once more."
        return _render_form(form, clinic, notice=notice, status=422)
    if not form.validate():
        return _render_form(form, clinic, status=422)
    submissions.accept(form, clinic, channel="web")
    return redirect(url_for("public.thanks", clinic=clinic.slug))


@bp.get("/thanks")
def thanks():
    return render_template("public/thanks.html", clinic=_clinic_or_404())


@bp.get("/unsubscribe/<token>")
def unsubscribe(token: str):
    # A GET never unsubscribes: mail scanners follow links. The page's button POSTs.
    if links.email_for_unsubscribe_token(token) is None:
        abort(404)
    return render_template("public/unsubscribe.html", token=token, done=False)


@bp.post("/unsubscribe/<token>")
@csrf.exempt  # RFC 8058 one-click: the mail provider POSTs with no session and no form token
def unsubscribe_now(token: str):
    email = links.email_for_unsubscribe_token(token)
    if email is None:
        abort(404)
    suppressions.unsubscribe(db.session, email, clock.now())
    db.session.commit()
    return render_template("public/unsubscribe.html", token=token, done=True)


def _consultation_or_gone(token: str):
    consultation = links.consultation_for_token(
        db.session, token, clock.now(), parse_duration(current_app.config["SELF_SERVICE_GRACE"])
    )
    if consultation is None:
        abort(make_response(render_template("public/consultation_link_expired.html"), 410))
    return consultation


def _render_consultation(consultation, token: str, *, notice: str = "", step: str = "", status: int = 200):
    page = render_template(
        "public/consultation.html",
        consultation=consultation,
        clinic=consultation.lead.clinic,
        when=clock.local_time(consultation.starts_at, consultation.timezone),
        token=token,
        notice=notice,
        step=step,
    )
    return page, status


@bp.get("/c/<token>")
def consultation(token: str):
    found = _consultation_or_gone(token)
    step = request.args.get("step", "")
    return _render_consultation(found, token, step=step if step in SELF_SERVICE_STEPS else "")


@bp.post("/c/<token>")
@csrf.exempt  # the signed, versioned token in the address is the proof; there is no session
def consultation_action(token: str):
    found = _consultation_or_gone(token)
    action, now = request.form.get("action", ""), clock.now()
    try:
        notice = _self_service(found, action, now)
    except consultations.ConsultationError:
        db.session.rollback()
        notice = "This consultation can no longer be changed online. Please call us."
        return _render_consultation(found, token, notice=notice, step="done", status=409)
    db.session.commit()
    return _render_consultation(found, token, notice=notice, step="done")


def _self_service(found, action: str, now) -> str:
    if action == "confirm":
        consultations.confirm_by_prospect(db.session, found, now)
        return "Thank you, your consultation is confirmed. We look forward to seeing you."
    if action == "cancel":
        consultations.cancel(db.session, found, now, policy.current(), actor=None, by="prospect")
        return "Your consultation is cancelled. We have emailed you a confirmation."
    if action == "reschedule":
        note = request.form.get("note", "")[:1000]
        consultations.request_reschedule(db.session, found, now, "" if unstorable(note) else note)
        return "Thank you. A coordinator will contact you to find a new time."
    abort(400)
