"""What every API endpoint shares: reading a JSON object body and answering errors as JSON."""

from typing import NoReturn

from flask import jsonify, make_response, request
from werkzeug.exceptions import abort


def fail(status: int, message: str | None = None, **body) -> NoReturn:
    """Stop the request with a JSON error body."""
    if message is not None:
        body["error"] = message
    abort(make_response(jsonify(body), status))


def json_object() -> dict:
    """Return the request's JSON object body, or answer 415/400 with a clear message."""
    if not request.is_json:
        fail(415, "Send the body as JSON (Content-Type: application/json).")
    payload = request.get_json(silent=True)
    if payload is None:
        fail(400, "The body is not valid JSON.")
    if not isinstance(payload, dict):
        fail(400, "The body must be a JSON object.")
    return payload


def field_errors(errors: dict[str, str]) -> NoReturn:
    fail(422, errors=errors)
