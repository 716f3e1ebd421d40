"""Coordinators sign in, see new leads first, open a lead (an audited read) and watch the outbox."""

import uuid
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from leads import accounts, clock, lifecycle, security
from leads.dashboard.blueprint import bp
from leads.dashboard.forms import LoginForm
from leads.extensions import db, limiter
from leads.models import Lead, LeadStatus, Message

PAGE_SIZE = 50


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


@bp.get("/dashboard")
@login_required
def overview():
    waiting = db.session.scalars(
        sa.select(Lead).where(Lead.status == LeadStatus.NEW).order_by(Lead.created_at).limit(PAGE_SIZE)
    ).all()
    return render_template("dashboard/overview.html", waiting=waiting, now=clock.now())


@bp.get("/leads")
@login_required
def lead_list():
    status = request.args.get("status") or None
    query = sa.select(Lead).order_by(Lead.created_at.desc(), Lead.id.desc()).limit(PAGE_SIZE)
    if status in LeadStatus._value2member_map_:
        query = query.where(Lead.status == LeadStatus(status))
    leads = db.session.scalars(query).all()
    return render_template("dashboard/leads.html", leads=leads, status=status, statuses=list(LeadStatus))


def _lead_or_404(public_id: str) -> Lead:
    try:
        key = uuid.UUID(public_id)
    except ValueError:
        abort(404)
    lead = db.session.scalar(sa.select(Lead).where(Lead.public_id == key))
    if lead is None:
        abort(404)
    return lead


@bp.get("/leads/<public_id>")
@login_required
def lead_detail(public_id: str):
    lead = _lead_or_404(public_id)
    # Reading a prospect's health information is itself on the record.
    lifecycle.record_event(db.session, lead, "viewed", clock.now(), actor=current_user)
    db.session.commit()
    messages = db.session.scalars(sa.select(Message).where(Message.lead_id == lead.id).order_by(Message.id)).all()
    return render_template("dashboard/lead.html", lead=lead, messages=messages)


@bp.get("/outbox")
@login_required
def outbox_page():
    messages = db.session.scalars(sa.select(Message).order_by(Message.id.desc()).limit(PAGE_SIZE)).all()
    return render_template("dashboard/outbox.html", messages=messages)
