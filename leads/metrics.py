"""Prometheus metrics at /metrics, read from the database at scrape time.

The database is the one place every web and worker process writes to, so these figures agree
whatever the number of processes or restarts (in-process counters would not). Each query runs
on an index, or on a bounded window, so a scrape stays cheap at a million rows.
"""

import hmac
from datetime import UTC, timedelta

import sqlalchemy as sa
from flask import Blueprint, Response, abort, current_app, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from leads import clock, outbox
from leads.extensions import db
from leads.models import Lead, LeadEvent, LeadStatus, Message, MessageStatus, RejectedInquiry, SweepHeartbeat

bp = Blueprint("metrics", __name__)
LATENCY_WINDOW = timedelta(hours=1)
LATENCY_SAMPLE = 10_000
QUANTILES = (0.5, 0.95, 0.99)


class DatabaseCollector:
    def collect(self):
        now = clock.now()
        session = db.session

        inquiries = CounterMetricFamily("leads_inquiries_received", "Inquiries received (new and repeat).")
        inquiries.add_metric([], session.scalar(sa.select(sa.func.count()).where(LeadEvent.kind == "inquiry_received")))
        yield inquiries

        rejected = CounterMetricFamily(
            "leads_inquiries_rejected", "Submissions refused as bots or floods.", labels=["reason"]
        )
        for reason, count in session.execute(
            sa.select(RejectedInquiry.reason, sa.func.count()).group_by(RejectedInquiry.reason)
        ):
            rejected.add_metric([reason], count)
        yield rejected

        messages = GaugeMetricFamily("leads_messages", "Outbox messages by kind and status.", labels=["kind", "status"])
        for kind, status, count in session.execute(
            sa.select(Message.kind, Message.status, sa.func.count()).group_by(Message.kind, Message.status)
        ):
            messages.add_metric([kind, status.value], count)
        yield messages

        due = GaugeMetricFamily("leads_outbox_due_unsent", "Messages due now that have not been sent yet.")
        due.add_metric(
            [],
            session.scalar(
                sa.select(sa.func.count()).where(Message.status.in_(outbox.PENDING), Message.send_at <= now)
            ),
        )
        yield due

        latency = GaugeMetricFamily(
            "leads_send_latency_seconds",
            "Seconds from a message's due time to its sending, over the last hour.",
            labels=["quantile"],
        )
        delays = sorted(
            (sent_at - send_at).total_seconds()
            for send_at, sent_at in session.execute(
                sa.select(Message.send_at, Message.sent_at)
                .where(Message.status == MessageStatus.SENT, Message.send_at >= now - LATENCY_WINDOW)
                .order_by(Message.send_at.desc())
                .limit(LATENCY_SAMPLE)
            )
        )
        for quantile in QUANTILES:
            if delays:
                latency.add_metric([str(quantile)], delays[min(len(delays) - 1, int(quantile * len(delays)))])
        yield latency

        oldest = GaugeMetricFamily(
            "leads_oldest_uncontacted_lead_age_seconds", "Age of the oldest new lead nobody contacted."
        )
        first = session.scalar(sa.select(sa.func.min(Lead.created_at)).where(Lead.status == LeadStatus.NEW))
        oldest.add_metric([], (now - _aware(first)).total_seconds() if first else 0)
        yield oldest

        sweep = GaugeMetricFamily("leads_last_sweep_age_seconds", "Seconds since beat's last outbox sweep.")
        heartbeat = session.get(SweepHeartbeat, 1)
        if heartbeat is not None:
            sweep.add_metric([], (now - heartbeat.swept_at).total_seconds())
        yield sweep


def _aware(moment):
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


@bp.get("/metrics")
def metrics():
    token = current_app.config["METRICS_TOKEN"]
    if token and not hmac.compare_digest(request.headers.get("Authorization", ""), f"Bearer {token}"):
        abort(401)
    registry = CollectorRegistry()
    registry.register(DatabaseCollector())
    return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)
