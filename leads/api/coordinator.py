"""The coordinator API: leads, notes, status changes, consultations and messages, by bearer token.

Every read of a lead and every change is a timeline event with the coordinator as actor.
"""

import uuid
from contextlib import contextmanager
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import request

from leads import accounts, clock, consultations, lead_queries, lifecycle, policy
from leads.api import serializers
from leads.api.auth import current_coordinator, token_required
from leads.api.blueprint import bp
from leads.api.common import fail, field_errors, json_object
from leads.clinics import home_timezone
from leads.extensions import db
from leads.models import Consultation, Coordinator, Lead, LeadStatus, Message, MessageStatus
from leads.text import unstorable

MAX_PAGE = 100
MAX_NOTE = 5000
CONSULTATION_OUTCOMES = {
    "cancelled": consultations.cancel,
    "completed": consultations.complete,
    "no_show": consultations.mark_no_show,
}


@contextmanager
def refusals_answered():
    """Turn the domain's refusals into answers: a bad value is 422, a forbidden change 409."""
    try:
        yield
    except consultations.InvalidConsultation as error:
        db.session.rollback()
        field_errors({error.field: str(error)})
    except (consultations.ConsultationError, lifecycle.TransitionError) as error:
        db.session.rollback()
        fail(409, str(error))


def _lead_or_404(public_id: str) -> Lead:
    lead = lead_queries.find(db.session, current_coordinator(), public_id)
    if lead is None:
        fail(404, "There is no lead with this id.")
    return lead


def _consultation_or_404(public_id: str) -> Consultation:
    try:
        key = uuid.UUID(public_id)
    except ValueError:
        fail(404, "There is no consultation with this id.")
    found = db.session.scalar(sa.select(Consultation).where(Consultation.public_id == key))
    if found is None or lead_queries.find(db.session, current_coordinator(), str(found.lead.public_id)) is None:
        fail(404, "There is no consultation with this id.")
    return found


def _limit() -> int:
    raw = request.args.get("limit", "25")
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= MAX_PAGE:
        field_errors({"limit": f"Must be a whole number from 1 to {MAX_PAGE}."})
    return int(raw)


def _status_filter(enum_class, name: str = "status"):
    raw = request.args.get(name)
    if not raw:
        return None
    try:
        return enum_class(raw)
    except ValueError:
        field_errors({name: f"Must be one of: {', '.join(member.value for member in enum_class)}."})


def _start_time(value, lead: Lead) -> datetime:
    """Read ISO-8601; a time without an offset is on the clinic's wall clock."""
    if not isinstance(value, str):
        field_errors({"starts_at": "Must be an ISO-8601 date and time, such as 2026-03-10T10:00."})
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        field_errors({"starts_at": "Must be an ISO-8601 date and time, such as 2026-03-10T10:00."})
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(lead.clinic.timezone))
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        field_errors({"starts_at": "Must be a date and time before the year 9999."})


def _text(payload: dict, name: str, *, required: bool = False, limit: int = 1000) -> str:
    value = payload.get(name, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        field_errors({name: "Must be a string."})
    if required and not value.strip():
        field_errors({name: "Must not be empty."})
    if len(value) > limit:
        field_errors({name: f"Must be at most {limit} characters."})
    if unstorable(value):
        field_errors({name: "Remove the control characters."})
    return value


def _lead_response(lead: Lead, status: int = 200):
    messages = db.session.scalars(sa.select(Message).where(Message.lead_id == lead.id).order_by(Message.id)).all()
    booked = db.session.scalars(
        sa.select(Consultation).where(Consultation.lead_id == lead.id).order_by(Consultation.id)
    ).all()
    return serializers.lead_detail(lead, messages, booked), status


@bp.get("/leads")
@token_required
def list_leads():
    limit = _limit()
    filters, errors = lead_queries.LeadFilter.from_args(request.args)
    if errors:
        field_errors(errors)
    try:
        page = lead_queries.search(
            db.session,
            current_coordinator(),
            filters,
            zone=home_timezone(current_coordinator()),
            limit=limit,
            cursor=request.args.get("cursor") or None,
        )
    except lead_queries.BadCursor as error:
        field_errors({"cursor": str(error)})
    db.session.commit()  # the token's last use
    return {"items": [serializers.lead_summary(lead) for lead in page.items], "next_cursor": page.next_cursor}


@bp.get("/leads/<public_id>")
@token_required
def get_lead(public_id: str):
    lead = _lead_or_404(public_id)
    lifecycle.record_event(db.session, lead, "viewed", clock.now(), actor=current_coordinator(), via="api")
    db.session.commit()
    return _lead_response(lead)


@bp.patch("/leads/<public_id>")
@token_required
def update_lead(public_id: str):
    lead = _lead_or_404(public_id)
    payload = json_object()
    if not {"status", "assignee"} & payload.keys():
        field_errors({"status": "Send a status (with a reason when closing) or an assignee."})
    now, actor = clock.now(), current_coordinator()
    target = None
    if "status" in payload:
        try:
            target = LeadStatus(payload["status"])
        except (ValueError, TypeError):
            field_errors({"status": f"Must be one of: {', '.join(status.value for status in LeadStatus)}."})
    reason = _text(payload, "reason")
    if "assignee" in payload:
        _assign(lead, payload["assignee"], now, actor)
    if target is not None:
        with refusals_answered():
            lifecycle.change_status(db.session, lead, target, now, policy.current(), actor=actor, reason=reason)
    db.session.commit()
    return _lead_response(lead)


def _assign(lead: Lead, value, now: datetime, actor: Coordinator) -> None:
    assignee = None
    if value is not None:
        if not isinstance(value, str):
            field_errors({"assignee": "Must be a coordinator's email or null."})
        assignee = accounts.find_coordinator(db.session, value)
        if assignee is None:
            field_errors({"assignee": "There is no coordinator with this email."})
    try:
        lifecycle.assign(db.session, lead, assignee, now, actor=actor)
    except lifecycle.TransitionError as error:
        field_errors({"assignee": str(error)})


@bp.post("/leads/<public_id>/notes")
@token_required
def add_note(public_id: str):
    lead = _lead_or_404(public_id)
    body = _text(json_object(), "body", required=True, limit=MAX_NOTE)
    event = lifecycle.record_event(db.session, lead, "note", clock.now(), actor=current_coordinator(), body=body)
    db.session.commit()
    return serializers.event(event), 201


@bp.post("/leads/<public_id>/consultations")
@token_required
def book_consultation(public_id: str):
    lead = _lead_or_404(public_id)
    payload = json_object()
    starts_at = _start_time(payload.get("starts_at"), lead)
    duration = payload.get("duration_minutes")
    if duration is not None and (not isinstance(duration, int) or isinstance(duration, bool)):
        field_errors({"duration_minutes": "Must be a whole number of minutes."})
    with refusals_answered():
        booked = consultations.book(
            db.session,
            lead,
            starts_at,
            clock.now(),
            policy.current(),
            actor=current_coordinator(),
            duration_minutes=duration,
        )
    db.session.commit()
    return serializers.consultation(booked), 201


@bp.patch("/consultations/<public_id>")
@token_required
def update_consultation(public_id: str):
    consultation = _consultation_or_404(public_id)
    payload = json_object()
    now, actor, rules = clock.now(), current_coordinator(), policy.current()
    with refusals_answered():
        if "starts_at" in payload:
            consultations.reschedule(
                db.session, consultation, _start_time(payload["starts_at"], consultation.lead), now, rules, actor=actor
            )
        elif payload.get("status") in CONSULTATION_OUTCOMES:
            CONSULTATION_OUTCOMES[payload["status"]](db.session, consultation, now, rules, actor=actor)
        else:
            field_errors({"status": f"Send starts_at to reschedule, or a status: {', '.join(CONSULTATION_OUTCOMES)}."})
    db.session.commit()
    return serializers.consultation(consultation)


@bp.get("/messages")
@token_required
def list_messages():
    query = lead_queries.messages_visible_to(current_coordinator())
    if request.args.get("lead"):
        lead = _lead_or_404(request.args["lead"])
        query = query.where(Message.lead_id == lead.id)
    status = _status_filter(MessageStatus)
    if status is not None:
        query = query.where(Message.status == status)
    messages = db.session.scalars(query.order_by(Message.id.desc()).limit(_limit())).all()
    db.session.commit()
    return {"items": [serializers.message(item) for item in messages]}
