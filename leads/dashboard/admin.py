"""Admin pages: coordinator accounts (create, deactivate, role, password) and the global audit trail."""

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, contains_eager, joinedload
from wtforms import SelectChoice

from leads import accounts, audit, clock, lead_queries
from leads.clinics import home_timezone
from leads.dashboard.admin_forms import ALL_CLINICS, ActionForm, CreateCoordinatorForm, PasswordResetForm, RoleForm
from leads.dashboard.blueprint import bp
from leads.dashboard.helpers import admin_required, start_of_day
from leads.extensions import db
from leads.models import AuditEntry, Clinic, Coordinator, Lead, LeadEvent, Role

# --- accounts ------------------------------------------------------------------------------------


@bp.get("/admin/coordinators")
@login_required
@admin_required
def admin_coordinators():
    return _accounts_page(CreateCoordinatorForm(formdata=None))


@bp.post("/admin/coordinators")
@login_required
@admin_required
def create_coordinator():
    form = CreateCoordinatorForm()
    form.clinic.choices = _clinic_choices()
    if form.validate_on_submit():
        clinic = _clinic(form.clinic.data)
        try:
            account = accounts.create_coordinator(
                db.session, email=form.email.data, password=form.password.data, role=Role(form.role.data), clinic=clinic
            )
        except accounts.AccountError as error:
            # The form has checked the address already; what is left is the password policy.
            form.password.errors.append(str(error))
        else:
            audit.record(
                db.session,
                current_user,
                "coordinator_created",
                clock.now(),
                target=account.email,
                role=account.role.value,
                clinic=clinic.slug if clinic else None,
            )
            try:
                db.session.commit()
            except IntegrityError:  # the same address created a moment ago by another admin
                db.session.rollback()
                form.email.errors.append("There is already an account for this address.")
            else:
                flash(f"Created the {account.role.value} account {account.email}.", "success")
                return redirect(url_for("dashboard.admin_coordinators"))
    return _accounts_page(form)


def _accounts_page(form: CreateCoordinatorForm):
    form.clinic.choices = _clinic_choices()
    coordinators = db.session.scalars(
        sa.select(Coordinator).options(joinedload(Coordinator.clinic)).order_by(Coordinator.email)
    ).all()
    return render_template(
        "dashboard/admin_coordinators.html",
        coordinators=coordinators,
        form=form,
        min_password_length=accounts.MIN_PASSWORD_LENGTH,
        zone=home_timezone(current_user),
    )


def _clinic_choices() -> list[SelectChoice]:
    clinics = db.session.scalars(sa.select(Clinic).order_by(Clinic.name, Clinic.slug)).all()
    return [SelectChoice(ALL_CLINICS, "All clinics"), *(SelectChoice(clinic.slug, clinic.name) for clinic in clinics)]


def _clinic(slug: str) -> Clinic | None:
    if slug == ALL_CLINICS:
        return None
    return db.session.scalar(sa.select(Clinic).where(Clinic.slug == slug))


@bp.get("/admin/coordinators/<public_id>")
@login_required
@admin_required
def admin_coordinator(public_id: str):
    return _account_page(_account_or_404(public_id))


def _account_page(account: Coordinator, password_form: PasswordResetForm | None = None):
    return render_template(
        "dashboard/admin_coordinator.html",
        account=account,
        is_self=account.id == current_user.id,
        role_form=RoleForm(formdata=None, role=account.role.value),
        password_form=password_form or PasswordResetForm(formdata=None),
        tokens=accounts.tokens_of(db.session, account),
        min_password_length=accounts.MIN_PASSWORD_LENGTH,
        zone=home_timezone(current_user),
    )


def _account_or_404(public_id: str) -> Coordinator:
    account = db.session.scalar(sa.select(Coordinator).where(Coordinator.public_id == _uuid_or_404(public_id)))
    if account is None:
        abort(404)
    return account


def _uuid_or_404(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        abort(404)


def _back_to(account: Coordinator):
    return redirect(url_for("dashboard.admin_coordinator", public_id=account.public_id))


@bp.post("/admin/coordinators/<public_id>/deactivate")
@login_required
@admin_required
def deactivate_coordinator(public_id: str):
    return _set_active(_account_or_404(public_id), False)


@bp.post("/admin/coordinators/<public_id>/reactivate")
@login_required
@admin_required
def reactivate_coordinator(public_id: str):
    return _set_active(_account_or_404(public_id), True)


def _set_active(account: Coordinator, active: bool):
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        changed = accounts.set_active(db.session, account, active, clock.now(), actor=current_user)
    except accounts.AccountError as error:
        flash(str(error), "error")
        return _back_to(account)
    if not changed:
        flash(f"{account.email} is already {'active' if active else 'deactivated'}.", "info")
    else:
        db.session.commit()
        if active:
            flash(f"Reactivated {account.email}: they can sign in and use their API tokens again.", "success")
        else:
            flash(f"Deactivated {account.email}: signed out on their next request, API tokens refused.", "success")
    return _back_to(account)


@bp.post("/admin/coordinators/<public_id>/role")
@login_required
@admin_required
def change_role(public_id: str):
    account = _account_or_404(public_id)
    form = RoleForm()
    if not form.validate_on_submit():
        flash("Choose a role.", "error")
        return _back_to(account)
    role = Role(form.role.data)
    try:
        changed = accounts.change_role(db.session, account, role, clock.now(), actor=current_user)
    except accounts.AccountError as error:
        flash(str(error), "error")
        return _back_to(account)
    if not changed:
        flash(f"{account.email} is already {'an admin' if role == Role.ADMIN else 'a coordinator'}.", "info")
    else:
        db.session.commit()
        flash(f"{account.email} is now {'an admin' if role == Role.ADMIN else 'a coordinator'}.", "success")
    return _back_to(account)


@bp.post("/admin/coordinators/<public_id>/password")
@login_required
@admin_required
def reset_password(public_id: str):
    account = _account_or_404(public_id)
    form = PasswordResetForm()
    if form.validate_on_submit():
        try:
            accounts.reset_password(db.session, account, form.password.data, clock.now(), actor=current_user)
        except accounts.AccountError as error:
            form.password.errors.append(str(error))
        else:
            db.session.commit()
            flash(f"Set a new password for {account.email}. Give it to them in person or by phone.", "success")
            return _back_to(account)
    return _account_page(account, password_form=form)


# --- the audit trail -----------------------------------------------------------------------------

PAGE_SIZE = 100
# Among rows of the same instant the page shows lead events before account entries (newest first).
SOURCES = ("audit", "event")
# What a coordinator did to a lead, as the row reads: "ada@… viewed Dana".
EVENT_WORDS = {
    "viewed": "viewed",
    "note": "added a note to",
    "status_changed": "changed the status of",
    "call_logged": "logged a call with",
    "assigned": "assigned",
    "consultation_booked": "booked a consultation for",
    "consultation_rescheduled": "rescheduled the consultation of",
    "consultation_cancelled": "cancelled the consultation of",
    "consultation_outcome": "recorded the consultation outcome of",
    "erased": "erased",
    "email_retried": "retried an email to",
    "email_cancelled": "cancelled an email to",
}
AUDIT_WORDS = {
    "coordinator_created": "created the account",
    "coordinator_deactivated": "deactivated",
    "coordinator_reactivated": "reactivated",
    "role_changed": "changed the role of",
    "password_reset": "reset the password of",
    "api_token_created": "created the API token",
    "api_token_revoked": "revoked the API token",
    "leads_exported": "exported leads",
}
# Days further out would overflow on the way to UTC; nothing was recorded then anyway.
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(9000, 12, 31)
ACTION_PATTERN = re.compile(r"[a-z][a-z0-9_]{0,39}")
SOURCE_MARK = re.compile(r"(audit|event)-([0-9]{1,18})")


@dataclass(frozen=True)
class AuditFilter:
    coordinator: Coordinator | None = None
    lead: Lead | None = None
    action: str | None = None
    day_from: date | None = None
    day_to: date | None = None

    def as_args(self) -> dict[str, str]:
        """The query string that gives these filters back (for the next page's link)."""
        args = {
            "coordinator": self.coordinator.email if self.coordinator else "",
            "lead": str(self.lead.public_id) if self.lead else "",
            "action": self.action or "",
            "from": self.day_from.isoformat() if self.day_from else "",
            "to": self.day_to.isoformat() if self.day_to else "",
        }
        return {name: value for name, value in args.items() if value}

    @property
    def sources(self) -> tuple[str, ...]:
        """The tables that can hold a matching row: account entries concern no lead."""
        if self.lead is not None or self.action in EVENT_WORDS:
            return ("event",)
        if self.action in AUDIT_WORDS:
            return ("audit",)
        return SOURCES


@dataclass(frozen=True)
class Cursor:
    """The last row shown: the next page starts below it in (time, source, id) order."""

    at: datetime
    source: str | None = None
    id: int = 0


@dataclass(frozen=True)
class AuditRow:
    source: str
    id: int
    at: datetime
    actor: Coordinator | None
    action: str
    words: str
    lead: Lead | None = None
    target: str = ""
    detail: str = ""
    via: str = ""

    @property
    def order(self) -> tuple[datetime, int, int]:
        return (self.at, SOURCES.index(self.source), self.id)


def read_filters(session: Session, viewer: Coordinator, args: Mapping[str, str]) -> tuple[AuditFilter, list[str]]:
    """Read the audit filters of a query string; a bad value is left out and explained."""
    problems: list[str] = []
    values: dict = {}
    email = (args.get("coordinator") or "").strip()
    if email:
        values["coordinator"] = accounts.find_coordinator(session, email[:254])
        if values["coordinator"] is None:
            problems.append(f"There is no account “{email[:80]}”; showing every coordinator.")
    public_id = (args.get("lead") or "").strip()
    if public_id:
        values["lead"] = lead_queries.find(session, viewer, public_id[:64])
        if values["lead"] is None:
            problems.append(f"There is no lead with the id “{public_id[:64]}”; showing every lead.")
    action = (args.get("action") or "").strip()
    if action:
        if ACTION_PATTERN.fullmatch(action):
            values["action"] = action
        else:
            problems.append("That is not an action name; showing every action.")
    for name, key in (("from", "day_from"), ("to", "day_to")):
        raw = (args.get(name) or "").strip()
        if raw:
            try:
                day = date.fromisoformat(raw)
            except ValueError:
                day = None
            if day is None or not FIRST_DAY <= day <= LAST_DAY:
                problems.append(f"“{raw[:40]}” is not a date like 2026-03-31; the “{name}” date is ignored.")
            else:
                values[key] = day
    if values.get("day_from") and values.get("day_to") and values["day_from"] > values["day_to"]:
        problems.append("The “from” date is after the “to” date; both are ignored.")
        del values["day_from"], values["day_to"]
    return AuditFilter(**{key: value for key, value in values.items() if value is not None}), problems


def read_cursor(args: Mapping[str, str], zone: str) -> tuple[Cursor | None, list[str]]:
    """Read `before` (an ISO time) and `last` (the row it belongs to) of an "Older entries" link."""
    raw = (args.get("before") or "").strip()
    if not raw:
        return None, []
    try:
        moment = datetime.fromisoformat(raw)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=ZoneInfo(zone))
        moment = moment.astimezone(UTC)
    except (ValueError, OverflowError):
        return None, ["That page marker is not a time; showing the newest entries."]
    mark = SOURCE_MARK.fullmatch(args.get("last") or "")
    if mark is None:
        return Cursor(moment), []
    return Cursor(moment, mark.group(1), int(mark.group(2))), []


def audit_feed(
    session: Session, viewer: Coordinator, filters: AuditFilter, cursor: Cursor | None, zone: str
) -> tuple[list[AuditRow], Cursor | None]:
    """One page of lead events done by coordinators and account entries, newest first, and the next cursor."""
    rows: list[AuditRow] = []
    # The top PAGE_SIZE of the merge are among the top PAGE_SIZE of each source; one more tells if there is more.
    if "event" in filters.sources:
        rows += [_event_row(event) for event in _events(session, viewer, filters, cursor, zone, PAGE_SIZE + 1)]
    if "audit" in filters.sources:
        rows += [_entry_row(entry) for entry in _entries(session, filters, cursor, zone, PAGE_SIZE + 1)]
    rows.sort(key=lambda row: row.order, reverse=True)
    page = rows[:PAGE_SIZE]
    if len(rows) <= PAGE_SIZE:
        return page, None
    return page, Cursor(page[-1].at, page[-1].source, page[-1].id)


def _events(
    session: Session, viewer: Coordinator, filters: AuditFilter, cursor: Cursor | None, zone: str, limit: int
) -> list[LeadEvent]:
    query = (
        sa.select(LeadEvent)
        .join(LeadEvent.lead)
        .options(contains_eager(LeadEvent.lead), joinedload(LeadEvent.actor))
        .where(LeadEvent.actor_id.is_not(None))
    )
    if viewer.clinic_id is not None:  # as lead_queries.visible_to: a clinic's account sees its clinic's leads
        query = query.where(Lead.clinic_id == viewer.clinic_id)
    if filters.coordinator is not None:
        query = query.where(LeadEvent.actor_id == filters.coordinator.id)
    if filters.lead is not None:
        query = query.where(LeadEvent.lead_id == filters.lead.id)
    if filters.action:
        query = query.where(LeadEvent.kind == filters.action)
    query = query.where(*_within(LeadEvent.created_at, filters, zone), *_below(LeadEvent, "event", cursor))
    return list(session.scalars(query.order_by(LeadEvent.created_at.desc(), LeadEvent.id.desc()).limit(limit)))


def _entries(session: Session, filters: AuditFilter, cursor: Cursor | None, zone: str, limit: int) -> list[AuditEntry]:
    query = sa.select(AuditEntry).options(joinedload(AuditEntry.actor))
    if filters.coordinator is not None:
        query = query.where(AuditEntry.actor_id == filters.coordinator.id)
    if filters.action:
        query = query.where(AuditEntry.action == filters.action)
    query = query.where(*_within(AuditEntry.created_at, filters, zone), *_below(AuditEntry, "audit", cursor))
    return list(session.scalars(query.order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc()).limit(limit)))


def _within(column, filters: AuditFilter, zone: str) -> list:
    """The date range, whole days in the viewer's timezone."""
    conditions = []
    if filters.day_from:
        conditions.append(column >= start_of_day(filters.day_from, zone))
    if filters.day_to:
        conditions.append(column < start_of_day(filters.day_to + timedelta(days=1), zone))
    return conditions


def _below(model, source: str, cursor: Cursor | None) -> list:
    """Rows after the cursor in the merged newest-first (time, source, id) order."""
    if cursor is None:
        return []
    if cursor.source is None:
        return [model.created_at < cursor.at]
    rank, cursor_rank = SOURCES.index(source), SOURCES.index(cursor.source)
    if rank < cursor_rank:
        return [model.created_at <= cursor.at]
    if rank > cursor_rank:
        return [model.created_at < cursor.at]
    return [sa.or_(model.created_at < cursor.at, sa.and_(model.created_at == cursor.at, model.id < cursor.id))]


def _event_row(event: LeadEvent) -> AuditRow:
    data = event.data or {}
    # Never a note's body or a reason here: they may carry health information.
    if event.kind == "status_changed":
        detail = f"{_words(data.get('from_status'))} → {_words(data.get('to_status'))}"
    elif event.kind == "assigned":
        detail = f"to {data['to_assignee']}" if data.get("to_assignee") else "to nobody"
    elif event.kind in ("call_logged", "consultation_outcome"):
        detail = _words(data.get("outcome"))
    elif event.kind in ("email_retried", "email_cancelled"):
        detail = _words(data.get("email"))
    else:
        detail = ""
    return AuditRow(
        source="event",
        id=event.id,
        at=event.created_at,
        actor=event.actor,
        action=event.kind,
        words=EVENT_WORDS.get(event.kind, _words(event.kind)),
        lead=event.lead,
        detail=detail,
        via=str(data.get("via") or ""),
    )


def _entry_row(entry: AuditEntry) -> AuditRow:
    data = entry.data or {}
    if entry.action.startswith("api_token_"):
        target = f"“{data['token_name']}”" if data.get("token_name") else "(unnamed)"
    else:
        target = str(data.get("target") or "")
    if entry.action == "role_changed":
        detail = f"{_words(data.get('from_role'))} → {_words(data.get('to_role'))}"
    elif entry.action == "coordinator_created":
        detail = _words(data.get("role"))
    elif entry.action == "leads_exported":
        filters = ", ".join(f"{name} {value}" for name, value in (data.get("filters") or {}).items())
        detail = f"{data.get('count', '?')} leads" + (f" ({filters})" if filters else "")
    else:
        detail = ""
    return AuditRow(
        source="audit",
        id=entry.id,
        at=entry.created_at,
        actor=entry.actor,
        action=entry.action,
        words=AUDIT_WORDS.get(entry.action, _words(entry.action)),
        target=target,
        detail=detail,
        via=str(data.get("via") or ""),
    )


def _words(value) -> str:
    return str(value or "?").replace("_", " ")


@bp.get("/admin/audit")
@login_required
@admin_required
def admin_audit():
    zone = home_timezone(current_user)
    filters, problems = read_filters(db.session, current_user, request.args)
    cursor, cursor_problems = read_cursor(request.args, zone)
    for problem in problems + cursor_problems:
        flash(problem, "warning")
    rows, next_cursor = audit_feed(db.session, current_user, filters, cursor, zone)
    older = None
    if next_cursor is not None:
        older = url_for(
            "dashboard.admin_audit",
            **filters.as_args(),
            before=next_cursor.at.isoformat(),
            last=f"{next_cursor.source}-{next_cursor.id}",
        )
    return render_template(
        "dashboard/admin_audit.html",
        rows=rows,
        filters=filters,
        older=older,
        paged=cursor is not None,
        emails=db.session.scalars(sa.select(Coordinator.email).order_by(Coordinator.email)).all(),
        event_words=EVENT_WORDS,
        audit_words=AUDIT_WORDS,
        zone=zone,
    )
