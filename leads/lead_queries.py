"""Finding leads: what a coordinator may see, filters from a query string, search, and keyset
pagination. The dashboard's leads page, its CSV export and the API's list all use this one module."""

import base64
import binascii
import json
import re
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from leads.models import Clinic, Condition, Coordinator, Lead, LeadStatus, Message

SORTS = ("newest", "oldest")
UNASSIGNED = "none"


class BadCursor(ValueError):
    """The pagination cursor was not one this app made."""


@dataclass(frozen=True)
class LeadFilter:
    status: LeadStatus | None = None
    clinic: str | None = None
    condition: Condition | None = None
    source: str | None = None
    assignee: str | None = None  # an email, or UNASSIGNED
    created_from: date | None = None
    created_to: date | None = None
    text: str = ""
    sort: str = "newest"

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> tuple["LeadFilter", dict[str, str]]:
        """Read the filters of a query string; return them with per-field errors for bad values."""
        errors: dict[str, str] = {}
        values: dict = {}
        for name, enum_class in (("status", LeadStatus), ("condition", Condition)):
            raw = args.get(name) or ""
            if raw:
                try:
                    values[name] = enum_class(raw)
                except ValueError:
                    errors[name] = f"Must be one of: {', '.join(member.value for member in enum_class)}."
        for name in ("clinic", "source", "assignee"):
            raw = (args.get(name) or "").strip()[:254]
            if raw:
                values[name] = raw.lower() if name == "assignee" else raw
        for name in ("created_from", "created_to"):
            raw = args.get(name) or ""
            if raw:
                try:
                    values[name] = date.fromisoformat(raw)
                except ValueError:
                    errors[name] = "Must be a date like 2026-03-31."
        sort = args.get("sort") or "newest"
        if sort not in SORTS:
            errors["sort"] = f"Must be one of: {', '.join(SORTS)}."
        values["sort"] = sort if sort in SORTS else "newest"
        values["text"] = (args.get("q") or "").strip()[:200]
        return cls(**values), errors

    def as_args(self) -> dict[str, str]:
        """The query string that gives these filters back (for links and bookmarks)."""
        args = {
            "status": self.status.value if self.status else "",
            "clinic": self.clinic or "",
            "condition": self.condition.value if self.condition else "",
            "source": self.source or "",
            "assignee": self.assignee or "",
            "created_from": self.created_from.isoformat() if self.created_from else "",
            "created_to": self.created_to.isoformat() if self.created_to else "",
            "q": self.text,
            "sort": "" if self.sort == "newest" else self.sort,
        }
        return {name: value for name, value in args.items() if value}


@dataclass(frozen=True)
class Page:
    items: list[Lead]
    next_cursor: str | None
    filters: LeadFilter = field(default_factory=LeadFilter)


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


def filtered(coordinator: Coordinator, filters: LeadFilter, zone: str) -> sa.Select:
    """The coordinator's leads that match the filters; dates are days in the clinic's timezone `zone`."""
    query = visible_to(coordinator)
    if filters.status is not None:
        query = query.where(Lead.status == filters.status)
    if filters.condition is not None:
        query = query.where(Lead.condition == filters.condition)
    if filters.clinic:
        query = query.where(
            Lead.clinic_id == sa.select(Clinic.id).where(Clinic.slug == filters.clinic).scalar_subquery()
        )
    if filters.source:
        query = query.where(sa.or_(Lead.utm_source == filters.source, Lead.source == filters.source))
    if filters.assignee == UNASSIGNED:
        query = query.where(Lead.assignee_id.is_(None))
    elif filters.assignee:
        query = query.where(
            Lead.assignee_id == sa.select(Coordinator.id).where(Coordinator.email == filters.assignee).scalar_subquery()
        )
    if filters.created_from:
        query = query.where(Lead.created_at >= _start_of_day(filters.created_from, zone))
    if filters.created_to:
        query = query.where(Lead.created_at < _start_of_day(filters.created_to + timedelta(days=1), zone))
    if filters.text:
        query = query.where(_matches(filters.text))
    return query


def search(
    session: Session,
    coordinator: Coordinator,
    filters: LeadFilter,
    *,
    zone: str,
    limit: int = 25,
    cursor: str | None = None,
) -> Page:
    """Return one page of matching leads and the cursor of the next page (None at the end)."""
    query = filtered(coordinator, filters, zone)
    descending = filters.sort == "newest"
    if cursor:
        created_at, lead_id = decode_cursor(cursor)
        key = sa.tuple_(Lead.created_at, Lead.id)
        mark = sa.tuple_(sa.literal(created_at, Lead.created_at.type), sa.literal(lead_id))
        query = query.where(key < mark if descending else key > mark)
    order = (Lead.created_at.desc(), Lead.id.desc()) if descending else (Lead.created_at, Lead.id)
    rows = list(session.scalars(query.order_by(*order).limit(limit + 1)))
    items = rows[:limit]
    return Page(items, encode_cursor(items[-1]) if len(rows) > limit else None, filters)


def each_match(session: Session, coordinator: Coordinator, filters: LeadFilter, *, zone: str) -> Iterator[Lead]:
    """Every matching lead, fetched a page at a time (for exports of any size)."""
    cursor = None
    while True:
        page = search(session, coordinator, filters, zone=zone, limit=500, cursor=cursor)
        yield from page.items
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


def _start_of_day(day: date, zone: str) -> datetime:
    return datetime.combine(day, time(), tzinfo=ZoneInfo(zone)).astimezone(UTC)


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
