"""What the dashboard's views share: who is signed in, safe redirects, form errors, and the lead-action skeleton."""

from collections.abc import Callable
from datetime import UTC, date, datetime, time
from functools import wraps
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import abort, current_app, flash, redirect, url_for
from flask_login import current_user
from flask_wtf import FlaskForm

from leads import consultations, lead_queries, lifecycle
from leads.extensions import db
from leads.models import Coordinator, Lead, Role

PAGE_SIZE = 50
# The domain's refusals of a lead action: rolled back, and their message shown to the coordinator.
REFUSALS = (lifecycle.TransitionError, consultations.ConsultationError)


def me() -> Coordinator:
    """The signed-in coordinator itself (not the proxy), to store as an event's actor."""
    return current_user._get_current_object()


def is_admin() -> bool:
    return current_user.role == Role.ADMIN


def admin_required(view):
    """Let signed-in admins through; anyone else signed in gets 403."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            return current_app.login_manager.unauthorized()
        if not is_admin():
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def start_of_day(day: date, zone: str) -> datetime:
    return datetime.combine(day, time(), tzinfo=ZoneInfo(zone)).astimezone(UTC)


def safe_next(target: str | None) -> str:
    # Only plain paths on this site: an open redirect would hand a signed-in coordinator to a
    # phisher, and browsers read "/\\host" or "/<tab>/host" as another host.
    if target and target.isprintable() and " " not in target and "\\" not in target:
        parts = urlsplit(target)
        if target.startswith("/") and not target.startswith("//") and not parts.scheme and not parts.netloc:
            return target
    return url_for("dashboard.overview")


def valid(form: FlaskForm) -> bool:
    """Whether the submitted form validates; when not, each error is flashed."""
    if form.validate_on_submit():
        return True
    for item in form:
        for error in item.errors:
            label = "This form" if item.type in ("HiddenField", "CSRFTokenField") else item.label.text
            flash(f"{label}: {error}", "error")
    return False


# --- one lead --------------------------------------------------------------------------------


def lead_or_404(public_id: str) -> Lead:
    lead = lead_queries.find(db.session, current_user, public_id)
    if lead is None:
        abort(404)
    return lead


def lead_to_change(public_id: str) -> Lead | None:
    """The lead an action changes, or None (with the reason flashed) when it may no longer change."""
    lead = lead_or_404(public_id)
    if lead.erased_at is not None:
        flash("This lead was erased; nothing more can be added to it.", "error")
        return None
    return lead


def coordinators_who_see(clinic_id: int | None) -> sa.Select:
    """Active coordinators who may see that clinic's leads (every clinic's when `clinic_id` is None)."""
    query = sa.select(Coordinator).where(Coordinator.active.is_(True)).order_by(Coordinator.email)
    if clinic_id is not None:
        query = query.where(sa.or_(Coordinator.clinic_id.is_(None), Coordinator.clinic_id == clinic_id))
    return query


def back_to(public_id: str, anchor: str = "actions"):
    return redirect(url_for("dashboard.lead_detail", public_id=public_id, _anchor=anchor))


def lead_action(
    form: type[FlaskForm] | Callable[[Lead], FlaskForm], *, anchor: str = "actions", done_anchor: str | None = None
):
    """Make `change(lead, form)` the view of an action on a lead, taking the lead's `public_id`.

    `form` is the form class, or a function of the lead that builds the form. The view finds the
    lead (404, or refused when erased), validates the form, and calls `change`, which reads the
    form, calls the domain and returns the success message. The view then commits and flashes it;
    on the domain's refusal (`REFUSALS`) it rolls back and flashes the refusal instead. `change`
    returns None when it decided to change nothing (having flashed why). Every outcome redirects
    back to the lead's page at `anchor`, a success at `done_anchor` when given.
    """

    def decorate(change: Callable[[Lead, FlaskForm], str | None]):
        @wraps(change)
        def view(public_id: str):
            lead = lead_to_change(public_id)
            if lead is None:
                return back_to(public_id, anchor)
            submitted = form() if isinstance(form, type) else form(lead)
            if not valid(submitted):
                return back_to(public_id, anchor)
            try:
                done = change(lead, submitted)
            except REFUSALS as error:
                db.session.rollback()
                flash(str(error), "error")
                return back_to(public_id, anchor)
            if done is None:
                return back_to(public_id, anchor)
            db.session.commit()
            flash(done, "success")
            return back_to(public_id, done_anchor or anchor)

        return view

    return decorate
