"""Coordinators sign in, work new leads, open a lead (an audited read), act on it, and watch the outbox.

Views stay thin: read the form, call the domain, commit (or roll back and show the domain's
message), and redirect. Every read of a lead and every change is on the lead's timeline.
"""

import csv
import io
import re
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import (
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy.orm import contains_eager, joinedload

from leads import (
    accounts,
    audit,
    clock,
    consultations,
    erasure,
    lead_queries,
    lifecycle,
    outbox,
    policy,
    reports,
    security,
    suppressions,
)
from leads.clinics import home_timezone
from leads.dashboard import forms
from leads.dashboard.blueprint import bp
from leads.dashboard.forms import LoginForm
from leads.durations import parse_duration
from leads.extensions import db, limiter
from leads.models import Clinic, Coordinator, Lead, LeadEvent, LeadStatus, Message, MessageStatus, Role

PAGE_SIZE = 50
FUNNEL_DAYS = 30
ACCESS_LOG_SIZE = 100
FILTER_LABELS = {
    "status": "Status",
    "condition": "Condition",
    "created_from": "Created from",
    "created_to": "Created to",
    "sort": "Sort",
}
EVENT_LABELS = {
    "inquiry_received": "Inquiry received",
    "status_changed": "Status changed",
    "note": "Note",
    "call_logged": "Call logged",
    "assigned": "Assigned",
    "consultation_booked": "Consultation booked",
    "consultation_rescheduled": "Consultation rescheduled",
    "consultation_cancelled": "Consultation cancelled",
    "consultation_confirmed": "Consultation confirmed by the prospect",
    "reschedule_requested": "The prospect asked for another time",
    "consultation_outcome": "Consultation outcome recorded",
    "unsubscribed": "Unsubscribed from marketing email",
    "email_retried": "Email sent again",
    "email_cancelled": "Email cancelled",
    "erased": "Personal data erased",
    "viewed": "Viewed",
}
# Data of events that hold a moment (ISO 8601), shown in the clinic's timezone.
EVENT_TIMES = ("starts_at", "from_starts_at", "to_starts_at")
CONSULTATION_OUTCOMES = {"completed": consultations.complete, "no_show": consultations.mark_no_show}
OUTBOX_VIEWS = {
    # view: (statuses, soonest first?) — the others are newest first.
    "scheduled": ((MessageStatus.SCHEDULED, MessageStatus.QUEUED, MessageStatus.SENDING), True),
    "failed": ((MessageStatus.FAILED,), False),
    "recent": ((MessageStatus.SENT, MessageStatus.SKIPPED, MessageStatus.CANCELLED), False),
}
CSV_COLUMNS = (
    "id",
    "created_at",
    "status",
    "clinic",
    "first_name",
    "last_name",
    "email",
    "phone",
    "preferred_contact",
    "condition",
    "source",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "assignee",
)
# A spreadsheet runs a cell that starts with one of these as a formula.
FORMULA_START = tuple("=+-@\t\r")
E164 = re.compile(r"\+\d{1,15}")


# --- signing in ------------------------------------------------------------------------------


def _failed_sign_in(response) -> bool:
    return response.status_code != 302


def _submitted_account() -> str:
    return "login-account:" + (request.form.get("email") or "").strip().lower()[:254]


@bp.route("/login", methods=["GET", "POST"])
# Failed sign-ins only, per account (against guessing one password) and per address (against spraying).
@limiter.limit(
    lambda: current_app.config["LOGIN_RATE_LIMIT"],
    key_func=_submitted_account,
    methods=["POST"],
    deduct_when=_failed_sign_in,
)
@limiter.limit(lambda: current_app.config["LOGIN_ADDRESS_RATE_LIMIT"], methods=["POST"], deduct_when=_failed_sign_in)
def login():
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.overview"))
    form = LoginForm()
    if form.validate_on_submit():
        coordinator = accounts.authenticate(db.session, form.email.data, form.password.data, clock.now())
        if coordinator is not None:
            db.session.commit()
            login_user(coordinator)
            security.start_session(clock.now())
            return redirect(_safe_next(request.args.get("next")))
        flash("That email and password do not match an active account.", "error")
    return render_template("dashboard/login.html", form=form)


def _safe_next(target: str | None) -> str:
    # Only plain paths on this site: an open redirect would hand a signed-in coordinator to a
    # phisher, and browsers read "/\\host" or "/<tab>/host" as another host.
    if target and target.isprintable() and " " not in target and "\\" not in target:
        parts = urlsplit(target)
        if target.startswith("/") and not target.startswith("//") and not parts.scheme and not parts.netloc:
            return target
    return url_for("dashboard.overview")


@bp.post("/logout")
@login_required
def logout():
    logout_user()
    return redirect(url_for("dashboard.login"))


# --- shared helpers --------------------------------------------------------------------------


def _me() -> Coordinator:
    """The signed-in coordinator itself (not the proxy), to store as an event's actor."""
    return current_user._get_current_object()


def _is_admin() -> bool:
    return current_user.role == Role.ADMIN


def _start_of_day(day: date, zone: str) -> datetime:
    return datetime.combine(day, time(), tzinfo=ZoneInfo(zone)).astimezone(UTC)


def _flash_errors(form) -> None:
    for item in form:
        for error in item.errors:
            label = "This form" if item.type in ("HiddenField", "CSRFTokenField") else item.label.text
            flash(f"{label}: {error}", "error")


def _refused(error: Exception) -> None:
    db.session.rollback()
    flash(str(error), "error")


def _visible_clinics() -> list[Clinic]:
    if current_user.clinic_id is not None:
        return [current_user.clinic]
    return list(db.session.scalars(sa.select(Clinic).order_by(Clinic.name)))


def _coordinators_who_see(clinic_id: int | None) -> sa.Select:
    """Active coordinators who may see that clinic's leads (every clinic's when `clinic_id` is None)."""
    query = sa.select(Coordinator).where(Coordinator.active.is_(True)).order_by(Coordinator.email)
    if clinic_id is not None:
        query = query.where(sa.or_(Coordinator.clinic_id.is_(None), Coordinator.clinic_id == clinic_id))
    return query


# --- the overview ----------------------------------------------------------------------------


@bp.get("/dashboard")
@login_required
def overview():
    now, zone = clock.now(), home_timezone(current_user)
    today = now.astimezone(ZoneInfo(zone)).date()
    first, last, start, end = _funnel_period(today, zone)
    target = parse_duration(current_app.config["RESPONSE_TARGET"])
    days = [("Today", today), ("Tomorrow", today + timedelta(days=1))]
    return render_template(
        "dashboard/overview.html",
        now=now,
        target=target,
        waiting=reports.waiting_leads(db.session, current_user, now, target),
        days=[(label, day, reports.consultations_on(db.session, current_user, day, zone)) for label, day in days],
        needing_outcome=reports.needing_outcome(db.session, current_user, now),
        failed=reports.failed_messages(db.session, current_user),
        funnel=reports.funnel(db.session, current_user, start, end),
        period=(first, last),
    )


def _funnel_period(today: date, zone: str) -> tuple[date, date, datetime, datetime]:
    """The funnel's days from `from` and `to` (inclusive), else the last 30 days, with their UTC bounds."""
    default_first = today - timedelta(days=FUNNEL_DAYS - 1)
    raw_first, raw_last = request.args.get("from") or "", request.args.get("to") or ""
    try:
        first = date.fromisoformat(raw_first) if raw_first else default_first
        last = date.fromisoformat(raw_last) if raw_last else today
        if first > last:
            flash("The period must start on or before its last day; showing the last 30 days.", "error")
        else:
            return first, last, _start_of_day(first, zone), _start_of_day(last + timedelta(days=1), zone)
    except (ValueError, OverflowError):
        flash("Give the period's dates like 2026-03-31; showing the last 30 days.", "error")
    return default_first, today, _start_of_day(default_first, zone), _start_of_day(today + timedelta(days=1), zone)


# --- the leads -------------------------------------------------------------------------------


@bp.get("/leads")
@login_required
def lead_list():
    filters, _ = _filters_from_request()
    zone = home_timezone(current_user)
    clinics = _visible_clinics()
    # Every account, loaded once: each lead's assignee then comes from the session, not a query per row.
    everyone = db.session.scalars(sa.select(Coordinator).order_by(Coordinator.email)).all()
    cursor = request.args.get("cursor") or None
    try:
        page = lead_queries.search(db.session, current_user, filters, zone=zone, limit=PAGE_SIZE, cursor=cursor)
    except lead_queries.BadCursor as error:
        flash(str(error), "error")
        cursor = None
        page = lead_queries.search(db.session, current_user, filters, zone=zone, limit=PAGE_SIZE)
    mine = current_user.clinic_id
    assignees = [c for c in everyone if c.active and (mine is None or c.clinic_id in (None, mine))]
    return render_template(
        "dashboard/leads.html",
        page=page,
        filters=filters,
        args=filters.as_args(),
        paged=cursor is not None,
        clinics=clinics,
        assignees=assignees,
        statuses=list(LeadStatus),
        is_admin=_is_admin(),
    )


def _filters_from_request() -> tuple[lead_queries.LeadFilter, bool]:
    """The filters of the query string, without the bad ones (flashed); True when there were bad ones."""
    filters, errors = lead_queries.LeadFilter.from_args(request.args)
    for name, message in errors.items():
        flash(f"{FILTER_LABELS.get(name, name)}: {message} That filter was left out.", "error")
    return filters, bool(errors)


@bp.get("/leads/export.csv")
@login_required
def lead_export():
    if not _is_admin():
        abort(403)
    filters, had_errors = _filters_from_request()
    if had_errors:
        # Never export more than was asked for: show the list and let the admin fix the filter.
        return redirect(url_for("dashboard.lead_list", **filters.as_args()))
    now, zone = clock.now(), home_timezone(current_user)
    count = db.session.scalar(
        sa.select(sa.func.count()).select_from(lead_queries.filtered(current_user, filters, zone).subquery())
    )
    # On the record before the first row leaves, so an interrupted download is audited too.
    audit.record(db.session, _me(), "leads_exported", now, filters=filters.as_args(), count=count)
    db.session.commit()
    rows = _csv_lines(lead_queries.each_match(db.session, current_user, filters, zone=zone))
    filename = f"leads-{now.astimezone(ZoneInfo(zone)):%Y%m%d}.csv"
    return Response(
        stream_with_context(rows),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )


def _csv_lines(leads: Iterable[Lead]) -> Iterator[str]:
    # Clinics and accounts are few: one query each, rather than one per row.
    clinics = {clinic.id: clinic for clinic in db.session.scalars(sa.select(Clinic))}
    emails = {row.id: row.email for row in db.session.execute(sa.select(Coordinator.id, Coordinator.email))}
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    yield _drained(buffer)
    for lead in leads:
        writer.writerow(_csv_cell(value) for value in _csv_row(lead, clinics[lead.clinic_id], emails))
        yield _drained(buffer)


def _drained(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


def _csv_row(lead: Lead, clinic: Clinic, emails: dict[int, str]) -> tuple[str, ...]:
    return (
        str(lead.public_id),
        lead.created_at.astimezone(ZoneInfo(clinic.timezone)).isoformat(timespec="seconds"),
        lead.status.value,
        clinic.slug,
        lead.first_name,
        lead.last_name,
        lead.email,
        lead.phone,
        lead.preferred_contact.value,
        lead.condition.value,
        lead.source,
        lead.utm_source,
        lead.utm_medium,
        lead.utm_campaign,
        emails.get(lead.assignee_id, "") if lead.assignee_id else "",
    )


def _csv_cell(value: str) -> str:
    """Defuse what a prospect typed that a spreadsheet would run as a formula."""
    if value.startswith(FORMULA_START) and not E164.fullmatch(value):
        return "'" + value
    return value


# --- one lead --------------------------------------------------------------------------------


def _lead_or_404(public_id: str) -> Lead:
    lead = lead_queries.find(db.session, current_user, public_id)
    if lead is None:
        abort(404)
    return lead


@dataclass
class TimelineEntry:
    at: datetime
    event: LeadEvent | None = None
    message: Message | None = None
    times: dict[str, datetime] = field(default_factory=dict)


@bp.get("/leads/<public_id>")
@login_required
def lead_detail(public_id: str):
    lead = _lead_or_404(public_id)
    # Reading a prospect's health information is itself on the record.
    lifecycle.record_event(db.session, lead, "viewed", clock.now(), actor=_me())
    db.session.commit()
    now = clock.now()
    events = db.session.scalars(
        sa.select(LeadEvent)
        .where(LeadEvent.lead_id == lead.id, LeadEvent.kind != "viewed")
        .options(joinedload(LeadEvent.actor))
        .order_by(LeadEvent.id.desc())
    ).all()
    messages = db.session.scalars(
        sa.select(Message).where(Message.lead_id == lead.id).order_by(Message.id.desc())
    ).all()
    views = sa.select(LeadEvent).where(LeadEvent.lead_id == lead.id, LeadEvent.kind == "viewed")
    access_log = db.session.scalars(
        views.options(joinedload(LeadEvent.actor)).order_by(LeadEvent.id.desc()).limit(ACCESS_LOG_SIZE)
    ).all()
    access_total = db.session.scalar(sa.select(sa.func.count()).select_from(views.subquery()))
    active = consultations.active_consultation(db.session, lead)
    assignable = db.session.scalars(_coordinators_who_see(lead.clinic_id)).all()
    zone = lead.clinic.timezone
    return render_template(
        "dashboard/lead.html",
        lead=lead,
        zone=zone,
        now=now,
        timeline=_timeline(events, messages),
        access_log=access_log,
        access_total=access_total,
        event_labels=EVENT_LABELS,
        active=active,
        started=active is not None and active.starts_at <= now,
        targets=lifecycle.manual_targets(lead),
        assignable=assignable,
        suppressed=suppressions.is_suppressed(db.session, lead.email),
        is_admin=_is_admin(),
        local_now=now.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%dT%H:%M"),
        default_duration=policy.current().default_duration_minutes,
        call_outcomes=lifecycle.CALL_OUTCOMES,
        unassigned=forms.UNASSIGNED,
        erase_word=forms.ERASE_WORD,
    )


def _timeline(events: Iterable[LeadEvent], messages: Iterable[Message]) -> list[TimelineEntry]:
    """Events and emails, newest first (an email by when it was or will be sent)."""
    entries = [TimelineEntry(event.created_at, event=event, times=_event_times(event)) for event in events]
    entries += [TimelineEntry(message.sent_at or message.send_at, message=message) for message in messages]
    return sorted(entries, key=lambda entry: entry.at, reverse=True)


def _event_times(event: LeadEvent) -> dict[str, datetime]:
    times = {}
    for name in EVENT_TIMES:
        try:
            times[name] = datetime.fromisoformat((event.data or {})[name])
        except (KeyError, TypeError, ValueError):
            continue
    return times


def _back_to(public_id: str, anchor: str = "actions"):
    return redirect(url_for("dashboard.lead_detail", public_id=public_id, _anchor=anchor))


def _lead_to_change(public_id: str) -> Lead | None:
    """The lead an action changes, or None (with the reason flashed) when it may no longer change."""
    lead = _lead_or_404(public_id)
    if lead.erased_at is not None:
        flash("This lead was erased; nothing more can be added to it.", "error")
        return None
    return lead


def _valid(form) -> bool:
    if form.validate_on_submit():
        return True
    _flash_errors(form)
    return False


@bp.post("/leads/<public_id>/status")
@login_required
def change_status(public_id: str):
    lead = _lead_to_change(public_id)
    form = forms.StatusForm()
    if lead is None or not _valid(form):
        return _back_to(public_id)
    to = LeadStatus(form.status.data)
    try:
        lifecycle.change_status(
            db.session, lead, to, clock.now(), policy.current(), actor=_me(), reason=form.reason.data or ""
        )
    except lifecycle.TransitionError as error:
        _refused(error)
    else:
        db.session.commit()
        flash(f"The lead is now {forms.words(to.value).lower()}.", "success")
    return _back_to(public_id)


@bp.post("/leads/<public_id>/assign")
@login_required
def assign(public_id: str):
    lead = _lead_to_change(public_id)
    if lead is None:
        return _back_to(public_id)
    candidates = db.session.scalars(_coordinators_who_see(lead.clinic_id)).all()
    form = forms.AssignForm(candidates)
    if not _valid(form):
        return _back_to(public_id)
    chosen = next((c for c in candidates if str(c.public_id) == form.assignee.data), None)
    if chosen == lead.assignee:
        flash("The lead was already assigned that way.", "info")
        return _back_to(public_id)
    lifecycle.assign(db.session, lead, chosen, clock.now(), actor=_me())
    db.session.commit()
    flash(f"Assigned to {chosen.email}." if chosen else "The lead is unassigned.", "success")
    return _back_to(public_id)


@bp.post("/leads/<public_id>/notes")
@login_required
def add_note(public_id: str):
    lead = _lead_to_change(public_id)
    form = forms.NoteForm()
    if lead is None or not _valid(form):
        return _back_to(public_id)
    lifecycle.record_event(db.session, lead, "note", clock.now(), actor=_me(), body=form.body.data)
    db.session.commit()
    flash("Note added.", "success")
    return _back_to(public_id, "timeline")


@bp.post("/leads/<public_id>/calls")
@login_required
def log_call(public_id: str):
    lead = _lead_to_change(public_id)
    form = forms.CallForm()
    if lead is None or not _valid(form):
        return _back_to(public_id)
    try:
        lifecycle.log_call(
            db.session, lead, form.outcome.data, clock.now(), policy.current(), actor=_me(), note=form.note.data or ""
        )
    except lifecycle.TransitionError as error:
        _refused(error)
    else:
        db.session.commit()
        flash("Call logged.", "success")
    return _back_to(public_id)


def _clinic_time(local: datetime, lead: Lead) -> datetime | None:
    """A wall-clock time typed for the lead's clinic, in UTC; None (flashed) when out of range."""
    try:
        return local.replace(tzinfo=ZoneInfo(lead.clinic.timezone)).astimezone(UTC)
    except OverflowError:
        flash("Give a date and time in a year we can reach.", "error")
        return None


@bp.post("/leads/<public_id>/consultation")
@login_required
def book_consultation(public_id: str):
    lead = _lead_to_change(public_id)
    form = forms.BookForm()
    if lead is None or not _valid(form):
        return _back_to(public_id)
    starts_at = _clinic_time(form.starts_at.data, lead)
    if starts_at is None:
        return _back_to(public_id)
    try:
        consultations.book(
            db.session,
            lead,
            starts_at,
            clock.now(),
            policy.current(),
            actor=_me(),
            duration_minutes=form.duration_minutes.data,
        )
    except (consultations.ConsultationError, lifecycle.TransitionError) as error:
        _refused(error)
    else:
        db.session.commit()
        flash("Consultation booked; the confirmation is on its way.", "success")
    return _back_to(public_id)


def _consultation_in(form, lead: Lead):
    """The lead's active consultation, if it is still the one the coordinator saw."""
    active = consultations.active_consultation(db.session, lead)
    if active is None or str(active.public_id) != form.consultation.data:
        flash("The consultation has changed since the page was shown; check it and try again.", "error")
        return None
    return active


@bp.post("/leads/<public_id>/consultation/reschedule")
@login_required
def reschedule_consultation(public_id: str):
    lead = _lead_to_change(public_id)
    form = forms.RescheduleForm()
    if lead is None or not _valid(form):
        return _back_to(public_id)
    active = _consultation_in(form, lead)
    starts_at = _clinic_time(form.starts_at.data, lead) if active is not None else None
    if starts_at is None:
        return _back_to(public_id)
    try:
        consultations.reschedule(db.session, active, starts_at, clock.now(), policy.current(), actor=_me())
    except (consultations.ConsultationError, lifecycle.TransitionError) as error:
        _refused(error)
    else:
        db.session.commit()
        flash("Consultation moved; the prospect gets the new time.", "success")
    return _back_to(public_id)


@bp.post("/leads/<public_id>/consultation/cancel")
@login_required
def cancel_consultation(public_id: str):
    lead = _lead_to_change(public_id)
    form = forms.CancelConsultationForm()
    if lead is None or not _valid(form):
        return _back_to(public_id)
    active = _consultation_in(form, lead)
    if active is None:
        return _back_to(public_id)
    try:
        consultations.cancel(
            db.session, active, clock.now(), policy.current(), actor=_me(), reason=form.reason.data or ""
        )
    except (consultations.ConsultationError, lifecycle.TransitionError) as error:
        _refused(error)
    else:
        db.session.commit()
        flash("Consultation cancelled; the prospect is told.", "success")
    return _back_to(public_id)


@bp.post("/leads/<public_id>/consultation/outcome")
@login_required
def record_outcome(public_id: str):
    lead = _lead_to_change(public_id)
    form = forms.OutcomeForm()
    if lead is None or not _valid(form):
        return _back_to(public_id)
    active = _consultation_in(form, lead)
    if active is None:
        return _back_to(public_id)
    try:
        CONSULTATION_OUTCOMES[form.outcome.data](db.session, active, clock.now(), policy.current(), actor=_me())
    except (consultations.ConsultationError, lifecycle.TransitionError) as error:
        _refused(error)
    else:
        db.session.commit()
        flash("Outcome recorded.", "success")
    return _back_to(public_id)


@bp.post("/leads/<public_id>/unsubscribe")
@login_required
def unsubscribe(public_id: str):
    lead = _lead_to_change(public_id)
    form = forms.ConfirmForm()
    if lead is None or not _valid(form):
        return _back_to(public_id)
    now = clock.now()
    if not suppressions.unsubscribe(db.session, lead.email, now, actor=_me()):
        flash("This address had already unsubscribed.", "info")
        return _back_to(public_id)
    db.session.commit()
    flash("Unsubscribed: no more follow-ups or other marketing email to this address.", "success")
    return _back_to(public_id)


@bp.post("/leads/<public_id>/erase")
@login_required
def erase(public_id: str):
    if not _is_admin():
        abort(403)
    lead = _lead_to_change(public_id)
    form = forms.EraseForm()
    if lead is None or not _valid(form):
        return _back_to(public_id, "erase")
    erasure.erase(db.session, lead, clock.now(), actor=_me(), reason=form.reason.data)
    db.session.commit()
    flash("The lead's personal data is erased; the timeline keeps what happened when.", "success")
    return _back_to(public_id, "main")


# --- the outbox ------------------------------------------------------------------------------


@bp.get("/outbox")
@login_required
def outbox_page():
    view = request.args.get("view") or "recent"
    if view not in OUTBOX_VIEWS:
        view = "recent"
    statuses, soonest_first = OUTBOX_VIEWS[view]
    query = (
        lead_queries.messages_visible_to(current_user)
        .where(Message.status.in_(statuses))
        .options(contains_eager(Message.lead).joinedload(Lead.clinic))
    )
    mark = _message_mark(request.args.get("after"))
    if soonest_first:
        if mark is not None:
            query = query.where(
                sa.or_(Message.send_at > mark.send_at, sa.and_(Message.send_at == mark.send_at, Message.id > mark.id))
            )
        query = query.order_by(Message.send_at, Message.id)
    else:
        if mark is not None:
            query = query.where(Message.id < mark.id)
        query = query.order_by(Message.id.desc())
    rows = db.session.scalars(query.limit(PAGE_SIZE + 1)).all()
    messages = rows[:PAGE_SIZE]
    return render_template(
        "dashboard/outbox.html",
        view=view,
        views=list(OUTBOX_VIEWS),
        messages=messages,
        next_after=messages[-1].public_id if len(rows) > PAGE_SIZE else None,
        paged=mark is not None,
    )


@dataclass(frozen=True)
class _Mark:
    id: int
    send_at: datetime


def _message_mark(after: str | None) -> _Mark | None:
    """Where the previous page ended: the position of the message whose public id is `after`."""
    try:
        key = uuid.UUID(after or "")
    except ValueError:
        return None
    row = db.session.execute(sa.select(Message.id, Message.send_at).where(Message.public_id == key)).first()
    return _Mark(row.id, row.send_at) if row else None


def _message_or_404(message_id: str) -> Message:
    try:
        key = uuid.UUID(message_id)
    except ValueError:
        abort(404)
    message = db.session.scalar(lead_queries.messages_visible_to(current_user).where(Message.public_id == key))
    if message is None:
        abort(404)
    return message


def _after_message_action(form, view: str):
    return redirect(_safe_next(form.next.data) if form.next.data else url_for("dashboard.outbox_page", view=view))


@bp.post("/outbox/<message_id>/retry")
@login_required
def retry_message(message_id: str):
    message = _message_or_404(message_id)
    form = forms.MessageActionForm()
    if not _valid(form):
        return _after_message_action(form, "failed")
    now = clock.now()
    if message.lead.erased_at is not None:
        flash("This email's lead was erased; it cannot be sent again.", "error")
    elif outbox.retry_failed(db.session, message, now):
        _record_message_event(message, "email_retried", now)
        db.session.commit()
        flash("The email will be sent again in a moment.", "success")
    else:
        flash("This email has not failed; there is nothing to retry.", "info")
    return _after_message_action(form, "failed")


@bp.post("/outbox/<message_id>/cancel")
@login_required
def cancel_message(message_id: str):
    message = _message_or_404(message_id)
    form = forms.MessageActionForm()
    if not _valid(form):
        return _after_message_action(form, "scheduled")
    now = clock.now()
    if outbox.cancel_one(message):
        _record_message_event(message, "email_cancelled", now)
        db.session.commit()
        flash("The email is cancelled.", "success")
    else:
        flash("Too late to cancel: this email is being sent or is done.", "info")
    return _after_message_action(form, "scheduled")


def _record_message_event(message: Message, kind: str, now: datetime) -> None:
    lifecycle.record_event(
        db.session, message.lead, kind, now, actor=_me(), message=str(message.public_id), email=message.kind
    )
