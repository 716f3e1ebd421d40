"""The audit trail beyond a lead's own timeline: exports, accounts, tokens."""

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from leads.models import AuditEntry, Coordinator


def record(session: Session, actor: Coordinator | None, action: str, now: datetime, **data: Any) -> AuditEntry:
    """Append an entry; `actor` None means the command line or the system."""
    entry = AuditEntry(actor=actor, action=action, data=data, created_at=now)
    session.add(entry)
    return entry
