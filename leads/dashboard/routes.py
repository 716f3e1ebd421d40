"""Coordinators sign in and out, and see the overview: who waits, today's consultations, the funnel."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from leads import accounts, clock, reports, security
from leads.clinics import home_timezone
from leads.dashboard.blueprint import bp
from leads.dashboard.forms import LoginForm
from leads.dashboard.helpers import safe_next, start_of_day
from leads.durations import parse_duration
from leads.extensions import db, limiter

FUNNEL_DAYS = 30


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
            return redirect(safe_next(request.args.get("next")))
        flash("That email and password do not match an active account.", "error")
    return render_template("dashboard/login.html", form=form)


@bp.post("/logout")
@login_required
def logout():
    logout_user()
    return redirect(url_for("dashboard.login"))


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
            return first, last, start_of_day(first, zone), start_of_day(last + timedelta(days=1), zone)
    except (ValueError, OverflowError):
        flash("Give the period's dates like 2026-03-31; showing the last 30 days.", "error")
    return default_first, today, start_of_day(default_first, zone), start_of_day(today + timedelta(days=1), zone)
