"""Error responses: JSON with a plain message under /api, a page everywhere else; never a bare 500."""

import logging

from flask import Flask, render_template, request
from werkzeug.exceptions import HTTPException, InternalServerError

from leads.extensions import db

log = logging.getLogger(__name__)

MESSAGES = {
    400: "The request could not be understood.",
    401: "Sign in, or send a valid API token.",
    403: "You do not have access to this.",
    404: "There is nothing here.",
    405: "This address does not accept that method.",
    413: "The request body is too large.",
    415: "Send the body as JSON (Content-Type: application/json).",
    429: "Too many requests from this address. Please wait a while and try again.",
    500: "Something went wrong on our side. Please try again shortly, or call the clinic.",
}


def init_app(app: Flask) -> None:
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(Exception, handle_unexpected_error)


def wants_json() -> bool:
    return request.path.startswith("/api/")


def handle_http_error(error: HTTPException):
    code = error.code or 500
    message = MESSAGES.get(code, error.description)
    if wants_json():
        return {"error": message}, code
    return render_template("error.html", code=code, message=message), code


def handle_unexpected_error(error: Exception):
    log.exception("unhandled error on %s %s", request.method, request.path)
    db.session.rollback()
    return handle_http_error(InternalServerError())
