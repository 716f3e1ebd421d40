"""The coordinators' pages: sign-in, overview, leads, the outbox, their account, and admin."""

from leads.dashboard import routes  # noqa: F401  (attaches its routes)
from leads.dashboard.blueprint import bp

__all__ = ["bp"]
