"""/metrics: Prometheus figures read from the database, so every process agrees."""

from datetime import timedelta

from prometheus_client.parser import text_string_to_metric_families

from leads import intake
from leads.extensions import db
from leads.models import Message, MessageStatus
from tests.factories import default_clinic, receive


def samples(client, headers=None) -> dict[tuple[str, tuple], float]:
    response = client.get("/metrics", headers=headers or {})
    assert response.status_code == 200
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.get_data(as_text=True))
        for sample in family.samples
    }


def test_metrics_count_inquiries_rejections_messages_and_waiting_leads(clocked_app, clock):
    client = clocked_app.test_client()
    receive(clock())
    receive(clock(), email="second@example.org")
    intake.record_rejection(db.session, default_clinic(), channel="web", reason="honeypot", now=clock())
    sent = db.session.query(Message).filter_by(kind="inquiry_received").first()
    sent.status, sent.sent_at = MessageStatus.SENT, clock() + timedelta(seconds=3)
    db.session.commit()
    clock.advance(minutes=10)

    figures = samples(client)

    assert figures[("leads_inquiries_received_total", ())] == 2
    assert figures[("leads_inquiries_rejected_total", (("reason", "honeypot"),))] == 1
    assert figures[("leads_messages", (("kind", "new_lead_alert"), ("status", "scheduled")))] == 2
    assert figures[("leads_outbox_due_unsent", ())] == 3
    assert figures[("leads_send_latency_seconds", (("quantile", "0.5"),))] == 3
    assert figures[("leads_oldest_uncontacted_lead_age_seconds", ())] == 600


def test_metrics_can_require_a_token(make_app):
    guarded = make_app(METRICS_TOKEN="scrape-secret").test_client()

    assert guarded.get("/metrics").status_code == 401
    assert samples(guarded, {"Authorization": "Bearer scrape-secret"})
