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
from zxcvbn.frequency_lists import FREQUENCY_LISTS

from leads import audit
from leads.contact import normalise_email
from leads.extensions import db, login_manager
from leads.models import ApiToken, Clinic, Coordinator, Role

MIN_PASSWORD_LENGTH = 12
_hasher = PasswordHasher()
# zxcvbn ships the 30,000 most common passwords of real breaches.
COMMON_PASSWORDS = frozenset(FREQUENCY_LISTS["passwords"])


class AccountError(Exception):
    """The account cannot be created or changed as asked."""


def init_app(app: Flask) -> None:
    login_manager.login_view = "dashboard.login"
    login_manager.login_message = "Please sign in to see this page."
    login_manager.session_protection = "strong"


@login_manager.user_loader
def load_coordinator(session_id: str) -> Coordinator | None:
    public_id, _, version = session_id.partition(":")
    try:
        key = uuid.UUID(public_id)
    except ValueError:
        return None
    coordinator = db.session.scalar(sa.select(Coordinator).where(Coordinator.public_id == key))
    # A session from before a password reset or a deactivation is over; an inactive account
    # is refused by Flask-Login on its next request.
    if coordinator is None or version != str(coordinator.session_version):
        return None
    return coordinator


def create_coordinator(
    session: Session, *, email: str, password: str, role: Role = Role.COORDINATOR, clinic: Clinic | None = None
) -> Coordinator:
    try:
        address = normalise_email(email)
    except ValueError as error:
        raise AccountError(str(error)) from None
    check_password(password, address)
    if session.scalar(sa.select(Coordinator.id).where(Coordinator.email == address)) is not None:
        raise AccountError(f"There is already an account for {address}.")
    coordinator = Coordinator(email=address, password_hash=_hasher.hash(password), role=role, clinic=clinic)
    session.add(coordinator)
    return coordinator


def check_password(password: str, email: str) -> None:
    """Raise AccountError when the password is too short, common, or made of the account's name."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"Use a password of at least {MIN_PASSWORD_LENGTH} characters.")
    folded = password.lower()
    if folded in COMMON_PASSWORDS or folded.rstrip("0123456789!.") in COMMON_PASSWORDS:
        raise AccountError("This password is among the most common ones; choose another.")
    mailbox = email.partition("@")[0].lower()
    if len(mailbox) >= 4 and mailbox in folded:
        raise AccountError("Do not build the password from your email address.")


def set_password(coordinator: Coordinator, password: str) -> None:
    """Set a new password; every session signed in with the old one ends."""
    check_password(password, coordinator.email)
    coordinator.password_hash = _hasher.hash(password)
    coordinator.session_version += 1


def reset_password(
    session: Session, coordinator: Coordinator, password: str, now: datetime, *, actor: Coordinator | None, **how
) -> None:
    """An admin (or the command line, `actor` None) sets someone's password; audited."""
    set_password(coordinator, password)
    audit.record(session, actor, "password_reset", now, target=coordinator.email, **how)


def set_active(
    session: Session, coordinator: Coordinator, active: bool, now: datetime, *, actor: Coordinator | None, **how
) -> bool:
    """Deactivate (signed out at once, API tokens refused) or reactivate (no old session comes back).

    False when the account already was so. An admin cannot deactivate themselves, so a clinic is
    never left without one by accident.
    """
    if actor is not None and actor.id == coordinator.id and not active:
        raise AccountError("You cannot deactivate your own account; another admin can.")
    if coordinator.active == active:
        return False
    if not active:
        coordinator.session_version += 1
    coordinator.active = active
    action = "coordinator_reactivated" if active else "coordinator_deactivated"
    audit.record(session, actor, action, now, target=coordinator.email, **how)
    return True


def change_role(session: Session, coordinator: Coordinator, role: Role, now: datetime, *, actor: Coordinator) -> bool:
    """Give the account another role; False when it already has it. Admins cannot demote themselves."""
    if actor.id == coordinator.id and role != Role.ADMIN:
        raise AccountError("You cannot give up your own admin role; another admin can change it.")
    if coordinator.role == role:
        return False
    previous, coordinator.role = coordinator.role, role
    audit.record(
        session, actor, "role_changed", now, target=coordinator.email, from_role=previous.value, to_role=role.value
    )
    return True


def find_coordinator(session: Session, email: str) -> Coordinator | None:
    try:
        address = normalise_email(email)
    except ValueError:
        return None
    return session.scalar(sa.select(Coordinator).where(Coordinator.email == address))


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
    session.add(ApiToken(coordinator=coordinator, token_hash=_token_digest(token), name=name[:100]))
    return token


def tokens_of(session: Session, coordinator: Coordinator) -> list[ApiToken]:
    return list(
        session.scalars(
            sa.select(ApiToken).where(ApiToken.coordinator_id == coordinator.id).order_by(ApiToken.id.desc())
        )
    )


def revoke_api_token(session: Session, coordinator: Coordinator, token_id: int, now: datetime) -> bool:
    """Revoke one of the coordinator's own tokens; False if there is no such live token."""
    token = session.get(ApiToken, token_id)
    if token is None or token.coordinator_id != coordinator.id or token.revoked_at is not None:
        return False
    token.revoked_at = now
    return True


def coordinator_for_token(session: Session, token: str, now: datetime) -> Coordinator | None:
    """Return the active coordinator a bearer token belongs to, or None."""
    api_token = session.scalar(
        sa.select(ApiToken).where(ApiToken.token_hash == _token_digest(token), ApiToken.revoked_at.is_(None))
    )
    if api_token is None or not api_token.coordinator.active:
        return None
    api_token.last_used_at = now
    return api_token.coordinator
