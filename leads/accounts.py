"""Coordinator accounts: argon2 password hashes, sessions (Flask-Login) and hashed API tokens."""

import hashlib
import secrets
import uuid
from datetime import datetime

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import Flask
from sqlalchemy.orm import Session

from leads.contact import normalise_email
from leads.extensions import db, login_manager
from leads.models import ApiToken, Clinic, Coordinator, Role

MIN_PASSWORD_LENGTH = 12
_hasher = PasswordHasher()


class AccountError(Exception):
    """The account cannot be created or changed as asked."""


def init_app(app: Flask) -> None:
    login_manager.login_view = "dashboard.login"
    login_manager.login_message = "Please sign in to see this page."
    login_manager.session_protection = "strong"


@login_manager.user_loader
def load_coordinator(public_id: str) -> Coordinator | None:
    try:
        key = uuid.UUID(public_id)
    except ValueError:
        return None
    # Flask-Login refuses an inactive account, so a deactivation takes effect on the next request.
    return db.session.scalar(sa.select(Coordinator).where(Coordinator.public_id == key))


def create_coordinator(
    session: Session, *, email: str, password: str, role: Role = Role.COORDINATOR, clinic: Clinic | None = None
) -> Coordinator:
    try:
        address = normalise_email(email)
    except ValueError as error:
        raise AccountError(str(error)) from None
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"Use a password of at least {MIN_PASSWORD_LENGTH} characters.")
    if session.scalar(sa.select(Coordinator.id).where(Coordinator.email == address)) is not None:
        raise AccountError(f"There is already an account for {address}.")
    coordinator = Coordinator(email=address, password_hash=_hasher.hash(password), role=role, clinic=clinic)
    session.add(coordinator)
    return coordinator


def authenticate(session: Session, email: str, password: str, now: datetime) -> Coordinator | None:
    """Return the active coordinator whose password this is, or None."""
    try:
        address = normalise_email(email)
    except ValueError:
        return None
    coordinator = session.scalar(sa.select(Coordinator).where(Coordinator.email == address))
    if coordinator is None:
        # Spend the same time as a real check so response times do not reveal which accounts exist.
        _hasher.hash(password)
        return None
    try:
        _hasher.verify(coordinator.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    if not coordinator.active:
        return None
    if _hasher.check_needs_rehash(coordinator.password_hash):
        coordinator.password_hash = _hasher.hash(password)
    coordinator.last_login_at = now
    return coordinator


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_api_token(session: Session, coordinator: Coordinator, name: str = "") -> str:
    """Return a new bearer token for the coordinator; only its hash is stored."""
    token = "lds_" + secrets.token_urlsafe(32)
    session.add(ApiToken(coordinator=coordinator, token_hash=_token_digest(token), name=name))
    return token


def coordinator_for_token(session: Session, token: str, now: datetime) -> Coordinator | None:
    """Return the active coordinator a bearer token belongs to, or None."""
    api_token = session.scalar(
        sa.select(ApiToken).where(ApiToken.token_hash == _token_digest(token), ApiToken.revoked_at.is_(None))
    )
    if api_token is None or not api_token.coordinator.active:
        return None
    api_token.last_used_at = now
    return api_token.coordinator
