"""The coordinators' pages: sign-in, overview, leads, the outbox, their account, and admin."""

from leads.dashboard import (  # noqa: F401  (each attaches its routes)
    account,
    admin,
    lead_actions,
    lead_page,
    leads_list,
    outbox_page,
    routes,
)
from leads.dashboard.blueprint import bp

__all__ = ["bp"]
