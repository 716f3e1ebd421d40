"""Clinics (locations): the default one made from the CLINIC_* settings, and lookup by slug."""

import re
from collections.abc import Mapping

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from leads.models import Clinic

SLUG_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")


def ensure_default_clinic(session: Session, settings: Mapping) -> Clinic:
    """Return the default clinic, creating it from the settings on first use."""
    clinic = _by_slug(session, settings["CLINIC_SLUG"])
    if clinic is not None:
        return clinic
    clinic = Clinic(
        slug=settings["CLINIC_SLUG"],
        name=settings["CLINIC_NAME"],
        timezone=settings["CLINIC_TIMEZONE"],
        inbox=settings["CLINIC_INBOX"],
        phone=settings["CLINIC_PHONE"],
        address=settings["CLINIC_ADDRESS"],
        business_hours=settings["BUSINESS_HOURS"],
    )
    # Two first requests at once may both create it; the loser uses the winner's row.
    try:
        with session.begin_nested():
            session.add(clinic)
    except IntegrityError:
        return _by_slug(session, settings["CLINIC_SLUG"])
    return clinic


def clinic_for_slug(session: Session, slug: str | None, settings: Mapping) -> Clinic | None:
    """Return the clinic a request names, the default one when it names none, or None if unknown."""
    if not slug or slug == settings["CLINIC_SLUG"]:
        return ensure_default_clinic(session, settings)
    if not SLUG_PATTERN.fullmatch(slug):
        return None
    return _by_slug(session, slug)


def _by_slug(session: Session, slug: str) -> Clinic | None:
    return session.scalar(sa.select(Clinic).where(Clinic.slug == slug))


def home_timezone(coordinator) -> str:
    """The timezone a coordinator's dates mean: their clinic's, else the default clinic's."""
    return coordinator.clinic.timezone if coordinator.clinic else current_app.config["CLINIC_TIMEZONE"]
