"""Finding leads: what a coordinator may see, filters, search, and keyset pagination (newest first)."""

import base64
import binascii
import json
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from leads.models import Coordinator, Lead, LeadStatus, Message


class BadCursor(ValueError):
    """The pagination cursor was not one this app made."""


@dataclass(frozen=True)
class Page:
    items: list[Lead]
    next_cursor: str | None


def visible_to(coordinator: Coordinator) -> sa.Select:
    """Leads the coordinator may see: all of them, or their own clinic's when the account has one."""
    query = sa.select(Lead)
    if coordinator.clinic_id is not None:
        query = query.where(Lead.clinic_id == coordinator.clinic_id)
    return query


def find(session: Session, coordinator: Coordinator, public_id: str) -> Lead | None:
    try:
        key = uuid.UUID(public_id)
    except ValueError:
        return None
    return session.scalar(visible_to(coordinator).where(Lead.public_id == key))


def search(
    session: Session,
    coordinator: Coordinator,
    *,
    status: LeadStatus | None = None,
    text: str = "",
    limit: int = 25,
    cursor: str | None = None,
) -> Page:
    """Return one page of leads, newest first, and the cursor of the next page (None at the end)."""
    query = visible_to(coordinator)
    if status is not None:
        query = query.where(Lead.status == status)
    if text.strip():
        query = query.where(_matches(text.strip()))
    if cursor:
        created_at, lead_id = decode_cursor(cursor)
        after = sa.tuple_(sa.literal(created_at, Lead.created_at.type), sa.literal(lead_id))
        query = query.where(sa.tuple_(Lead.created_at, Lead.id) < after)
    rows = list(session.scalars(query.order_by(Lead.created_at.desc(), Lead.id.desc()).limit(limit + 1)))
    items = rows[:limit]
    next_cursor = encode_cursor(items[-1]) if len(rows) > limit else None
    return Page(items, next_cursor)


def _matches(text: str) -> sa.ColumnElement[bool]:
    pattern = "%" + re.sub(r"([\\%_])", r"\\\1", text.lower()) + "%"
    conditions = [
        sa.func.lower(Lead.first_name).like(pattern, escape="\\"),
        sa.func.lower(Lead.last_name).like(pattern, escape="\\"),
        sa.func.lower(Lead.first_name + " " + Lead.last_name).like(pattern, escape="\\"),
        Lead.email.like(pattern, escape="\\"),
    ]
    digits = re.sub(r"\D", "", text)
    if len(digits) >= 3:
        conditions.append(Lead.phone.contains(digits))
    return sa.or_(*conditions)


def encode_cursor(lead: Lead) -> str:
    raw = json.dumps([lead.created_at.isoformat(), lead.id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        created_at, lead_id = json.loads(raw)
        moment = datetime.fromisoformat(created_at)
        if moment.tzinfo is None:
            raise ValueError
        moment = moment.astimezone(UTC)
        if not isinstance(lead_id, int) or isinstance(lead_id, bool) or not 0 < lead_id < 2**63:
            raise ValueError
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError, OverflowError):
        raise BadCursor("This cursor is not valid; start again without one.") from None
    return moment, lead_id


def messages_visible_to(coordinator: Coordinator) -> sa.Select:
    query = sa.select(Message).join(Lead)
    if coordinator.clinic_id is not None:
        query = query.where(Lead.clinic_id == coordinator.clinic_id)
    return query
