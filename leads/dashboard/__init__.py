"""The coordinators' pages: sign-in, overview, leads, the outbox, their account, and admin."""

from leads.dashboard import account, admin, routes  # noqa: F401  (attach their routes)
from leads.dashboard.blueprint import bp

__all__ = ["bp"]
