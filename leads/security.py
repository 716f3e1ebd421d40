"""Response headers that keep health information in its page, and coordinator session limits."""

from datetime import datetime

from flask import Flask, current_app, flash, redirect, request, session, url_for
from flask_login import current_user, logout_user

from leads import clock
from leads.durations import parse_duration

# Pages the clinic's own site may show in an iframe: the inquiry form and what follows it.
FRAMEABLE_ENDPOINTS = frozenset({"public.inquire", "public.submit_inquiry", "public.thanks"})
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; base-uri 'none'; object-src 'none'; frame-ancestors {ancestors}"
)


def init_app(app: Flask) -> None:
    app.after_request(set_security_headers)
    app.before_request(end_stale_sessions)


def set_security_headers(response):
    if request.endpoint in FRAMEABLE_ENDPOINTS:
        ancestors = " ".join(["'self'", *current_app.config["FORM_FRAME_ANCESTORS"].split()])
    else:
        ancestors = "'none'"
        response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY.format(ancestors=ancestors))
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if current_user.is_authenticated:
        # Pages with a prospect's details must not linger in shared or back-button caches.
        response.headers["Cache-Control"] = "no-store"
    return response


def start_session(now: datetime) -> None:
    """Call right after sign-in: the session's clocks start now."""
    session.permanent = True
    session["signed_in_at"] = session["seen_at"] = now.timestamp()


def end_stale_sessions():
    """Sign out a coordinator idle too long or signed in too long; every request counts as activity."""
    if not current_user.is_authenticated or "signed_in_at" not in session:
        return None
    now = clock.now().timestamp()
    idle = parse_duration(current_app.config["SESSION_IDLE_TIMEOUT"]).total_seconds()
    lifetime = parse_duration(current_app.config["SESSION_LIFETIME"]).total_seconds()
    if now - session["seen_at"] > idle or now - session["signed_in_at"] > lifetime:
        logout_user()
        session.clear()
        if request.blueprint == "dashboard":
            flash("You were signed out after a while without activity. Please sign in again.", "info")
            return redirect(url_for("dashboard.login", next=request.full_path if request.method == "GET" else None))
        return None
    session["seen_at"] = now
    return None
