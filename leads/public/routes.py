"""The inquiry form, embeddable on the clinic's site and working without JavaScript."""

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for

from leads import spam, submissions
from leads.clinics import clinic_for_slug
from leads.extensions import csrf, db
from leads.inquiry_form import InquiryForm, consent_text

bp = Blueprint("public", __name__)

TRACKING_FIELDS = ("utm_source", "utm_medium", "utm_campaign")


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
