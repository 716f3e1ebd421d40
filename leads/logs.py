"""Structured logs: one JSON line per request and per task, with a request id and the lead's public
id, and never a name, email, phone or message (only ids and outcomes are logged)."""

import json
import logging
import time
import uuid
from datetime import UTC, datetime

from celery.signals import task_postrun, task_prerun
from flask import Flask, g, request

request_log = logging.getLogger("leads.request")
task_log = logging.getLogger("leads.task")
_task_started: dict[str, float] = {}


class JsonFormatter(logging.Formatter):
    """Render a record as one JSON object; extra fields passed with `extra={"fields": {...}}`."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            **getattr(record, "fields", {}),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure(level: str, fmt: str) -> None:
    """Send every log record to stderr, as JSON lines or as plain text."""
    handler = logging.StreamHandler()
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


def init_app(app: Flask) -> None:
    app.before_request(_start_request)
    app.after_request(_log_request)


def _start_request() -> None:
    incoming = request.headers.get("X-Request-ID", "")
    # A proxy's id is kept so one request can be followed across hops; anything odd is replaced.
    g.request_id = incoming if 8 <= len(incoming) <= 64 and incoming.replace("-", "").isalnum() else uuid.uuid4().hex
    g.request_started = time.perf_counter()


def _log_request(response):
    if "request_id" not in g:
        return response
    response.headers["X-Request-ID"] = g.request_id
    fields = {
        "request_id": g.request_id,
        "method": request.method,
        "endpoint": request.endpoint,
        "status": response.status_code,
        "duration_ms": round((time.perf_counter() - g.request_started) * 1000, 1),
    }
    lead = (request.view_args or {}).get("public_id") or g.get("lead_public_id")
    if lead:
        fields["lead"] = str(lead)
    request_log.info("request", extra={"fields": fields})
    return response


@task_prerun.connect
def _task_starts(task_id=None, task=None, args=None, **_):
    _task_started[task_id] = time.perf_counter()


@task_postrun.connect
def _task_ends(task_id=None, task=None, args=None, retval=None, state=None, **_):
    started = _task_started.pop(task_id, None)
    fields = {"task": task.name if task else None, "task_id": task_id, "state": state, "result": retval}
    if args:
        fields["args"] = list(args)  # ids only: tasks take ids, never objects
    if started is not None:
        fields["duration_ms"] = round((time.perf_counter() - started) * 1000, 1)
    task_log.info("task", extra={"fields": fields})
