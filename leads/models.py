"""The data model: SQLAlchemy 2.0 typed models of the design."""

import enum
import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from leads.clock import system_now
from leads.extensions import db


class UTCDateTime(sa.TypeDecorator):
    """Store UTC, hand back timezone-aware UTC, on every backend (SQLite keeps no zone)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; attach a timezone first")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


intpk = Annotated[int, mapped_column(primary_key=True)]
timestamp = Annotated[datetime, mapped_column(UTCDateTime, default=system_now)]
public_uuid = Annotated[uuid.UUID, mapped_column(sa.Uuid, unique=True, default=uuid.uuid4)]


def _enum_column(enum_class: type[enum.Enum]) -> sa.Enum:
    # Stored as plain strings with a CHECK, so adding a value is a small migration on both backends.
    return sa.Enum(
        enum_class,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda members: [member.value for member in members],
        name=enum_class.__name__.lower(),
    )


class LeadStatus(StrEnum):
    NEW = "new"
    CONTACTED = "contacted"
    CONSULTATION_SCHEDULED = "consultation_scheduled"
    NO_SHOW = "no_show"
    CONSULTED = "consulted"
    CONVERTED = "converted"
    UNRESPONSIVE = "unresponsive"
    CLOSED = "closed"


class PreferredContact(StrEnum):
    PHONE = "phone"
    EMAIL = "email"
    TEXT = "text"


class Condition(StrEnum):
    MIGRAINE = "migraine"
    DEPRESSION = "depression"
    ANXIETY = "anxiety"
    PTSD = "ptsd"
    CHRONIC_PAIN = "chronic_pain"
    OTHER = "other"


class MessageStatus(StrEnum):
    SCHEDULED = "scheduled"
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"
    SKIPPED = "skipped"


class ConsultationStatus(StrEnum):
    SCHEDULED = "scheduled"
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"
    COMPLETED = "completed"
    NO_SHOW = "no_show"


class SuppressionReason(StrEnum):
    UNSUBSCRIBED = "unsubscribed"  # stops marketing only
    BOUNCED = "bounced"  # the address is dead: stops everything


class Role(StrEnum):
    ADMIN = "admin"
    COORDINATOR = "coordinator"


class Clinic(db.Model):
    id: Mapped[intpk]
    slug: Mapped[str] = mapped_column(sa.String(64), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    timezone: Mapped[str] = mapped_column(sa.String(64))
    inbox: Mapped[str] = mapped_column(sa.String(254))
    reply_to: Mapped[str | None] = mapped_column(sa.String(254))
    phone: Mapped[str] = mapped_column(sa.String(40), default="")
    address: Mapped[str] = mapped_column(sa.String(300), default="")
    business_hours: Mapped[str] = mapped_column(sa.String(200), default="")
    created_at: Mapped[timestamp]


class Coordinator(UserMixin, db.Model):
    id: Mapped[intpk]
    public_id: Mapped[public_uuid]
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(sa.String(200))
    role: Mapped[Role] = mapped_column(_enum_column(Role), default=Role.COORDINATOR)
    active: Mapped[bool] = mapped_column(default=True)
    clinic_id: Mapped[int | None] = mapped_column(sa.ForeignKey("clinic.id"))
    created_at: Mapped[timestamp]
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Raised on a password reset or deactivation: every session signed in before it ends.
    session_version: Mapped[int] = mapped_column(default=1, server_default="1")

    clinic: Mapped[Clinic | None] = relationship()

    def get_id(self) -> str:
        return f"{self.public_id}:{self.session_version}"

    @property
    def is_active(self) -> bool:
        return self.active


class ApiToken(db.Model):
    id: Mapped[intpk]
    coordinator_id: Mapped[int] = mapped_column(sa.ForeignKey("coordinator.id"))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    name: Mapped[str] = mapped_column(sa.String(100), default="")
    created_at: Mapped[timestamp]
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    coordinator: Mapped[Coordinator] = relationship()


class Lead(db.Model):
    __table_args__ = (
        sa.Index("ix_lead_clinic_email", "clinic_id", "email"),
        sa.Index("ix_lead_status_created", "status", "created_at"),
        # Keyset pagination walks (created_at, id); the clinic variant serves clinic-bound accounts.
        sa.Index("ix_lead_created_id", "created_at", "id"),
        sa.Index("ix_lead_clinic_created_id", "clinic_id", "created_at", "id"),
        sa.Index("ix_lead_email", "email"),
        sa.Index("ix_lead_phone", "phone"),
    )

    id: Mapped[intpk]
    public_id: Mapped[public_uuid]
    clinic_id: Mapped[int] = mapped_column(sa.ForeignKey("clinic.id"))
    first_name: Mapped[str] = mapped_column(sa.String(100))
    last_name: Mapped[str] = mapped_column(sa.String(100))
    email: Mapped[str] = mapped_column(sa.String(254))
    phone: Mapped[str] = mapped_column(sa.String(20))
    preferred_contact: Mapped[PreferredContact] = mapped_column(_enum_column(PreferredContact))
    condition: Mapped[Condition] = mapped_column(_enum_column(Condition))
    message: Mapped[str] = mapped_column(sa.Text, default="")
    heard_about: Mapped[str] = mapped_column(sa.String(200), default="")
    source: Mapped[str] = mapped_column(sa.String(20))
    utm_source: Mapped[str] = mapped_column(sa.String(200), default="")
    utm_medium: Mapped[str] = mapped_column(sa.String(200), default="")
    utm_campaign: Mapped[str] = mapped_column(sa.String(200), default="")
    referrer: Mapped[str] = mapped_column(sa.String(2000), default="")
    consent_text: Mapped[str] = mapped_column(sa.Text)
    consent_at: Mapped[datetime] = mapped_column(UTCDateTime)
    consent_ip: Mapped[str] = mapped_column(sa.String(45), default="")
    status: Mapped[LeadStatus] = mapped_column(_enum_column(LeadStatus), default=LeadStatus.NEW)
    assignee_id: Mapped[int | None] = mapped_column(sa.ForeignKey("coordinator.id"))
    created_at: Mapped[timestamp]
    updated_at: Mapped[timestamp] = mapped_column(onupdate=system_now)
    last_inquiry_at: Mapped[timestamp]
    last_contacted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set when the person asked to be forgotten: their data is gone, the tombstone stays.
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    clinic: Mapped[Clinic] = relationship()
    assignee: Mapped[Coordinator | None] = relationship()
    events: Mapped[list["LeadEvent"]] = relationship(
        back_populates="lead", order_by="LeadEvent.id", cascade="all, delete-orphan"
    )

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


class LeadEvent(db.Model):
    """Append-only: the lead's timeline and its audit trail."""

    __table_args__ = (
        sa.Index("ix_lead_event_lead_id", "lead_id", "id"),
        # Metrics count events by kind, and the audit page walks them newest first.
        sa.Index("ix_lead_event_kind_created", "kind", "created_at"),
        sa.Index("ix_lead_event_created_id", "created_at", "id"),
    )

    id: Mapped[intpk]
    lead_id: Mapped[int] = mapped_column(sa.ForeignKey("lead.id"))
    kind: Mapped[str] = mapped_column(sa.String(40))
    # None means the system or the prospect did it; `data["by"]` says which.
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("coordinator.id"))
    data: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    created_at: Mapped[timestamp]

    lead: Mapped[Lead] = relationship(back_populates="events")
    actor: Mapped[Coordinator | None] = relationship()


class Consultation(db.Model):
    id: Mapped[intpk]
    public_id: Mapped[public_uuid]
    lead_id: Mapped[int] = mapped_column(sa.ForeignKey("lead.id"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    timezone: Mapped[str] = mapped_column(sa.String(64))
    duration_minutes: Mapped[int] = mapped_column(default=30)
    status: Mapped[ConsultationStatus] = mapped_column(
        _enum_column(ConsultationStatus), default=ConsultationStatus.SCHEDULED
    )
    token_version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[timestamp]
    updated_at: Mapped[timestamp] = mapped_column(onupdate=system_now)

    lead: Mapped[Lead] = relationship()


class Message(db.Model):
    """The outbox: one row per email that will be, is being, or was sent."""

    __table_args__ = (sa.Index("ix_message_status_send_at", "status", "send_at"),)

    id: Mapped[intpk]
    public_id: Mapped[public_uuid]
    kind: Mapped[str] = mapped_column(sa.String(40))
    lead_id: Mapped[int] = mapped_column(sa.ForeignKey("lead.id"), index=True)
    consultation_id: Mapped[int | None] = mapped_column(sa.ForeignKey("consultation.id"))
    recipient: Mapped[str] = mapped_column(sa.String(254))
    send_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[MessageStatus] = mapped_column(_enum_column(MessageStatus), default=MessageStatus.SCHEDULED)
    attempts: Mapped[int] = mapped_column(default=0)
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(sa.String(1000))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    dedupe_key: Mapped[str] = mapped_column(sa.String(200), unique=True)
    created_at: Mapped[timestamp]
    updated_at: Mapped[timestamp] = mapped_column(onupdate=system_now)

    lead: Mapped[Lead] = relationship()
    consultation: Mapped[Consultation | None] = relationship()


class Suppression(db.Model):
    id: Mapped[intpk]
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    reason: Mapped[str] = mapped_column(sa.String(40))
    created_at: Mapped[timestamp]


class RejectedInquiry(db.Model):
    """A submission refused as a bot or over the rate limit; counted, never a lead."""

    id: Mapped[intpk]
    clinic_id: Mapped[int | None] = mapped_column(sa.ForeignKey("clinic.id"))
    channel: Mapped[str] = mapped_column(sa.String(20))
    reason: Mapped[str] = mapped_column(sa.String(40))
    created_at: Mapped[timestamp]

    clinic: Mapped[Clinic | None] = relationship()


class AuditEntry(db.Model):
    """Who did what outside any one lead's timeline: exports, account and token changes."""

    __table_args__ = (sa.Index("ix_audit_entry_created", "created_at", "id"),)

    id: Mapped[intpk]
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("coordinator.id"))
    action: Mapped[str] = mapped_column(sa.String(40))
    data: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    created_at: Mapped[timestamp]

    actor: Mapped[Coordinator | None] = relationship()


class SweepHeartbeat(db.Model):
    """The last time a sweep ran, so operators and tests can see that beat is alive."""

    id: Mapped[intpk]
    swept_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sweeps: Mapped[int] = mapped_column(default=0)
