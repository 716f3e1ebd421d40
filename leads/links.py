"""Signed tokens in the links that emails carry: unsubscribe and consultation self-service."""

import uuid
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy.orm import Session

from leads.models import Consultation


def _serializer(purpose: str) -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=f"leads-{purpose}")


def unsubscribe_token(email: str) -> str:
    """Return the token of an address's unsubscribe link; it never expires (RFC 8058 links must keep working)."""
    return _serializer("unsubscribe").dumps(email)


def email_for_unsubscribe_token(token: str) -> str | None:
    try:
        email = _serializer("unsubscribe").loads(token)
    except BadSignature:
        return None
    return email if isinstance(email, str) else None


def consultation_token(consultation: Consultation) -> str:
    """Return the token of a consultation's self-service link, bound to its current version."""
    return _serializer("consultation").dumps([str(consultation.public_id), consultation.token_version])


def consultation_for_token(session: Session, token: str, now: datetime, grace: timedelta) -> Consultation | None:
    """Return the consultation a link is for, or None once it changed, expired or was forged."""
    try:
        public_id, version = _serializer("consultation").loads(token)
        key = uuid.UUID(public_id)
    except (BadSignature, TypeError, ValueError):
        return None
    consultation = session.scalar(sa.select(Consultation).where(Consultation.public_id == key))
    if consultation is None or consultation.token_version != version or now > consultation.starts_at + grace:
        return None
    return consultation
