"""Liveness and readiness probes for the process manager and load balancer."""

from flask import Blueprint

from leads import doctor

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    return {"status": "ok"}


@bp.get("/readyz")
def readyz():
    # The same checks as `flask doctor`, minus SMTP and beat: serving requests needs neither.
    findings = [doctor.database(), doctor.broker()]
    ready = all(finding.ok for finding in findings)
    checks = {"broker" if f.name == "redis" else f.name: "ok" if f.ok else "down" for f in findings}
    return {"status": "ready" if ready else "not ready", "checks": checks}, 200 if ready else 503
