"""What a coordinator does to a lead from its page: status, assignee, notes, calls, consultations, opt-out, erasure.

Each view reads its form and calls the domain; `lead_action` finds the lead, validates, commits
or rolls back and shows the domain's refusal, and redirects back to the lead.
"""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import flash
from flask_login import login_required

from leads import clock, consultations, erasure, lifecycle, policy, suppressions
from leads.dashboard import forms
from leads.dashboard.blueprint import bp
from leads.dashboard.helpers import admin_required, coordinators_who_see, lead_action, me
from leads.extensions import db
from leads.models import Consultation, Lead, LeadStatus

CONSULTATION_OUTCOMES = {"completed": consultations.complete, "no_show": consultations.mark_no_show}


@bp.post("/leads/<public_id>/status")
@login_required
@lead_action(forms.StatusForm)
def change_status(lead: Lead, form: forms.StatusForm) -> str:
    to = LeadStatus(form.status.data)
    lifecycle.change_status(
        db.session, lead, to, clock.now(), policy.current(), actor=me(), reason=form.reason.data or ""
    )
    return f"The lead is now {forms.words(to.value).lower()}."


def _assign_form(lead: Lead) -> forms.AssignForm:
    return forms.AssignForm(db.session.scalars(coordinators_who_see(lead.clinic_id)).all())


@bp.post("/leads/<public_id>/assign")
@login_required
@lead_action(_assign_form)
def assign(lead: Lead, form: forms.AssignForm) -> str | None:
    chosen = form.chosen()
    if chosen == lead.assignee:
        flash("The lead was already assigned that way.", "info")
        return None
    lifecycle.assign(db.session, lead, chosen, clock.now(), actor=me())
    return f"Assigned to {chosen.email}." if chosen else "The lead is unassigned."


@bp.post("/leads/<public_id>/notes")
@login_required
@lead_action(forms.NoteForm, done_anchor="timeline")
def add_note(lead: Lead, form: forms.NoteForm) -> str:
    lifecycle.record_event(db.session, lead, "note", clock.now(), actor=me(), body=form.body.data)
    return "Note added."


@bp.post("/leads/<public_id>/calls")
@login_required
@lead_action(forms.CallForm)
def log_call(lead: Lead, form: forms.CallForm) -> str:
    lifecycle.log_call(
        db.session, lead, form.outcome.data, clock.now(), policy.current(), actor=me(), note=form.note.data or ""
    )
    return "Call logged."


@bp.post("/leads/<public_id>/consultation")
@login_required
@lead_action(forms.BookForm)
def book_consultation(lead: Lead, form: forms.BookForm) -> str | None:
    starts_at = _clinic_time(form.starts_at.data, lead)
    if starts_at is None:
        return None
    consultations.book(
        db.session,
        lead,
        starts_at,
        clock.now(),
        policy.current(),
        actor=me(),
        duration_minutes=form.duration_minutes.data,
    )
    return "Consultation booked; the confirmation is on its way."


@bp.post("/leads/<public_id>/consultation/reschedule")
@login_required
@lead_action(forms.RescheduleForm)
def reschedule_consultation(lead: Lead, form: forms.RescheduleForm) -> str | None:
    active = _consultation_in(form, lead)
    starts_at = _clinic_time(form.starts_at.data, lead) if active is not None else None
    if starts_at is None:
        return None
    consultations.reschedule(db.session, active, starts_at, clock.now(), policy.current(), actor=me())
    return "Consultation moved; the prospect gets the new time."


@bp.post("/leads/<public_id>/consultation/cancel")
@login_required
@lead_action(forms.CancelConsultationForm)
def cancel_consultation(lead: Lead, form: forms.CancelConsultationForm) -> str | None:
    active = _consultation_in(form, lead)
    if active is None:
        return None
    consultations.cancel(db.session, active, clock.now(), policy.current(), actor=me(), reason=form.reason.data or "")
    return "Consultation cancelled; the prospect is told."


@bp.post("/leads/<public_id>/consultation/outcome")
@login_required
@lead_action(forms.OutcomeForm)
def record_outcome(lead: Lead, form: forms.OutcomeForm) -> str | None:
    active = _consultation_in(form, lead)
    if active is None:
        return None
    CONSULTATION_OUTCOMES[form.outcome.data](db.session, active, clock.now(), policy.current(), actor=me())
    return "Outcome recorded."


@bp.post("/leads/<public_id>/unsubscribe")
@login_required
@lead_action(forms.ConfirmForm)
def unsubscribe(lead: Lead, form: forms.ConfirmForm) -> str | None:
    if not suppressions.unsubscribe(db.session, lead.email, clock.now(), actor=me()):
        flash("This address had already unsubscribed.", "info")
        return None
    return "Unsubscribed: no more follow-ups or other marketing email to this address."


@bp.post("/leads/<public_id>/erase")
@login_required
@admin_required
@lead_action(forms.EraseForm, anchor="erase", done_anchor="main")
def erase(lead: Lead, form: forms.EraseForm) -> str:
    erasure.erase(db.session, lead, clock.now(), actor=me(), reason=form.reason.data)
    return "The lead's personal data is erased; the timeline keeps what happened when."


def _clinic_time(local: datetime, lead: Lead) -> datetime | None:
    """A wall-clock time typed for the lead's clinic, in UTC; None (flashed) when out of range."""
    try:
        return local.replace(tzinfo=ZoneInfo(lead.clinic.timezone)).astimezone(UTC)
    except OverflowError:
        flash("Give a date and time in a year we can reach.", "error")
        return None


def _consultation_in(form: forms.ConsultationForm, lead: Lead) -> Consultation | None:
    """The lead's active consultation, if it is still the one the coordinator saw."""
    active = consultations.active_consultation(db.session, lead)
    if active is None or str(active.public_id) != form.consultation.data:
        flash("The consultation has changed since the page was shown; check it and try again.", "error")
        return None
    return active
