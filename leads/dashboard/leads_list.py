"""The leads list: filters, keyset pages, and (for admins) the audited CSV export of what the filters match."""

import csv
import io
import re
from collections.abc import Iterable, Iterator
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import Response, flash, redirect, render_template, request, stream_with_context, url_for
from flask_login import current_user, login_required

from leads import audit, clock, lead_queries
from leads.clinics import home_timezone
from leads.dashboard.blueprint import bp
from leads.dashboard.helpers import PAGE_SIZE, admin_required, is_admin, me
from leads.extensions import db
from leads.models import Clinic, Coordinator, Lead, LeadStatus

FILTER_LABELS = {
    "status": "Status",
    "condition": "Condition",
    "created_from": "Created from",
    "created_to": "Created to",
    "sort": "Sort",
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
        is_admin=is_admin(),
    )


def _visible_clinics() -> list[Clinic]:
    if current_user.clinic_id is not None:
        return [current_user.clinic]
    return list(db.session.scalars(sa.select(Clinic).order_by(Clinic.name)))


def _filters_from_request() -> tuple[lead_queries.LeadFilter, bool]:
    """The filters of the query string, without the bad ones (flashed); True when there were bad ones."""
    filters, errors = lead_queries.LeadFilter.from_args(request.args)
    for name, message in errors.items():
        flash(f"{FILTER_LABELS.get(name, name)}: {message} That filter was left out.", "error")
    return filters, bool(errors)


# --- the CSV export --------------------------------------------------------------------------


@bp.get("/leads/export.csv")
@login_required
@admin_required
def lead_export():
    filters, had_errors = _filters_from_request()
    if had_errors:
        # Never export more than was asked for: show the list and let the admin fix the filter.
        return redirect(url_for("dashboard.lead_list", **filters.as_args()))
    now, zone = clock.now(), home_timezone(current_user)
    count = db.session.scalar(
        sa.select(sa.func.count()).select_from(lead_queries.filtered(current_user, filters, zone).subquery())
    )
    # On the record before the first row leaves, so an interrupted download is audited too.
    audit.record(db.session, me(), "leads_exported", now, filters=filters.as_args(), count=count)
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
