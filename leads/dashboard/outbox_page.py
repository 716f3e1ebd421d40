"""The outbox: scheduled, failed and recent emails of the leads a coordinator sees; retry or cancel one."""

import uuid
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy.orm import contains_eager

from leads import clock, lead_queries, lifecycle, outbox
from leads.dashboard import forms
from leads.dashboard.blueprint import bp
from leads.dashboard.helpers import PAGE_SIZE, me, safe_next, valid
from leads.extensions import db
from leads.models import Lead, Message, MessageStatus

OUTBOX_VIEWS = {
    # view: (statuses, soonest first?) — the others are newest first.
    "scheduled": ((MessageStatus.SCHEDULED, MessageStatus.QUEUED, MessageStatus.SENDING), True),
    "failed": ((MessageStatus.FAILED,), False),
    "recent": ((MessageStatus.SENT, MessageStatus.SKIPPED, MessageStatus.CANCELLED), False),
}


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
    return redirect(safe_next(form.next.data) if form.next.data else url_for("dashboard.outbox_page", view=view))


@bp.post("/outbox/<message_id>/retry")
@login_required
def retry_message(message_id: str):
    message = _message_or_404(message_id)
    form = forms.MessageActionForm()
    if not valid(form):
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
    if not valid(form):
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
        db.session, message.lead, kind, now, actor=me(), message=str(message.public_id), email=message.kind
    )
