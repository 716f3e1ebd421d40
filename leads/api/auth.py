"""Bearer-token authentication for the coordinator API."""

from functools import wraps

from flask import g, request

from leads import accounts, clock
from leads.api.common import fail
from leads.extensions import db
from leads.models import Coordinator


def token_required(view):
    """Let the request through only with a valid token of an active coordinator, kept in `g.coordinator`."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        coordinator = None
        if scheme.lower() == "bearer" and token.strip():
            coordinator = accounts.coordinator_for_token(db.session, token.strip(), clock.now())
        if coordinator is None:
            fail(401, "Send a valid API token: Authorization: Bearer <token>.")
        g.coordinator = coordinator
        return view(*args, **kwargs)

    return wrapped


def current_coordinator() -> Coordinator:
    return g.coordinator
