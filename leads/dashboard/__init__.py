"""The coordinators' pages: sign-in, leads, the outbox."""

from leads.dashboard.routes import bp

__all__ = ["bp"]
