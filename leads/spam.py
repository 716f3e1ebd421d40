"""Keep bots out of the intake: a honeypot, a minimum fill time and a per-address rate limit."""

from flask import current_app, request
from itsdangerous import BadSignature, URLSafeSerializer

from leads import clock, submissions
from leads.durations import parse_seconds
from leads.extensions import limiter

HONEYPOT_FIELD = "website"
FILL_TOKEN_FIELD = "form_token"


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="inquiry-form-opened")


def fill_token() -> str:
    """Return a signed record of when the form was shown."""
    return _serializer().dumps(clock.now().timestamp())


def filled_too_fast(token: str | None) -> bool:
    """True when the form came back sooner than a person could fill it, or with a forged token."""
    try:
        opened_at = float(_serializer().loads(token or ""))
    except (BadSignature, TypeError, ValueError):
        return True
    return clock.now().timestamp() - opened_at < parse_seconds(current_app.config["MIN_FILL_TIME"])


def honeypot_filled(form) -> bool:
    return bool(form.get(HONEYPOT_FIELD, "").strip())


def _count_flood(_limit) -> None:
    submissions.reject(None, channel="api" if request.path.startswith("/api/") else "web", reason="rate_limited")


def _inquiry_limit() -> str:
    return current_app.config["INQUIRY_RATE_LIMIT"]


# One budget per client address across the form and the API, so one cannot be used to dodge the other.
inquiry_rate_limit = limiter.shared_limit(_inquiry_limit, scope="inquiries", methods=["POST"], on_breach=_count_flood)
