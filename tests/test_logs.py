"""Structured logs: a JSON line per request with its id and the lead's public id, and no personal data."""

import json
import logging

import sqlalchemy as sa

from leads import logs
from leads.extensions import db
from leads.models import Lead
from tests.factories import inquiry_payload

PERSONAL = ("Dana", "Whitfield", "dana.whitfield@example.org", "2015550143", "psychiatrist", "depression")


def json_lines(caplog) -> list[dict]:
    formatter = logs.JsonFormatter()
    return [json.loads(formatter.format(record)) for record in caplog.records]


def test_a_request_is_one_json_line_with_its_id_and_the_lead(app, client, caplog):
    caplog.set_level(logging.INFO)

    response = client.post("/api/v1/inquiries", json=inquiry_payload(), headers={"X-Request-ID": "abc123def456"})

    with app.app_context():
        lead = db.session.scalar(sa.select(Lead))
    [line] = [entry for entry in json_lines(caplog) if entry["logger"] == "leads.request"]
    assert line["request_id"] == "abc123def456" == response.headers["X-Request-ID"]
    assert (line["endpoint"], line["status"], line["lead"]) == ("api.create_inquiry", 201, str(lead.public_id))
    assert line["duration_ms"] >= 0


def test_no_log_line_carries_personal_data(app, client, caplog):
    caplog.set_level(logging.DEBUG)

    client.post("/api/v1/inquiries", json=inquiry_payload())
    client.post("/api/v1/inquiries", json=inquiry_payload(email="not an address"))

    text = "\n".join(json.dumps(entry) for entry in json_lines(caplog))
    assert "leads.request" in text
    for secret in PERSONAL:
        assert secret not in text


def test_an_odd_request_id_is_replaced(client, caplog):
    caplog.set_level(logging.INFO)

    response = client.get("/healthz", headers={"X-Request-ID": "<script>"})

    assert response.headers["X-Request-ID"] != "<script>"
    assert len(response.headers["X-Request-ID"]) == 32


def test_a_task_is_one_json_line_with_ids_only(caplog):
    caplog.set_level(logging.INFO)

    class Task:
        name = "leads.send_message"

    logs._task_starts(task_id="t-1", task=Task())
    logs._task_ends(task_id="t-1", task=Task(), args=(42,), retval="sent", state="SUCCESS")

    [line] = [entry for entry in json_lines(caplog) if entry["logger"] == "leads.task"]
    assert (line["task"], line["args"], line["result"], line["state"]) == (
        "leads.send_message",
        [42],
        "sent",
        "SUCCESS",
    )
