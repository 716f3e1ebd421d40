"""What the overview shows: leads waiting for a first contact, the days' consultations, what
needs an outcome, failed emails, and the funnel by source."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session, contains_eager, joinedload

from leads import cadence, lead_queries
from leads.message_kinds import ACTIVE_CONSULTATION
from leads.models import Consultation, ConsultationStatus, Coordinator, Lead, LeadStatus, Message, MessageStatus

FUNNEL_STAGES = ("inquiries", "contacted", "scheduled", "consulted", "converted")


@dataclass(frozen=True)
class WaitingLead:
    lead: Lead
    waited: timedelta  # business time since the inquiry
    late: bool


@dataclass(frozen=True)
class SourceRow:
    source: str
    inquiries: int
    converted: int

    @property
    def conversion(self) -> float:
        return self.converted / self.inquiries if self.inquiries else 0.0


@dataclass(frozen=True)
class Funnel:
    stages: list[tuple[str, int]]
    by_source: list[SourceRow]


def waiting_leads(
    session: Session, coordinator: Coordinator, now: datetime, target: timedelta, *, limit: int = 50
) -> list[WaitingLead]:
    """New leads nobody has contacted yet, oldest first, with their business-time age."""
    leads = session.scalars(
        lead_queries.visible_to(coordinator)
        .where(Lead.status == LeadStatus.NEW)
        .options(joinedload(Lead.clinic))
        .order_by(Lead.created_at, Lead.id)
        .limit(limit)
    ).all()
    rows = []
    for lead in leads:
        zone = ZoneInfo(lead.clinic.timezone)
        waited = cadence.business_time_between(
            lead.created_at, now, cadence.BusinessHours.parse(lead.clinic.business_hours), zone
        )
        rows.append(WaitingLead(lead, waited, waited > target))
    return rows


def _consultations(coordinator: Coordinator) -> sa.Select:
    # The join that scopes the query also loads each lead: no second join of the same table.
    query = sa.select(Consultation).join(Lead).options(contains_eager(Consultation.lead).joinedload(Lead.clinic))
    if coordinator.clinic_id is not None:
        query = query.where(Lead.clinic_id == coordinator.clinic_id)
    return query


def consultations_on(session: Session, coordinator: Coordinator, day: date, zone: str) -> list[Consultation]:
    """Booked consultations starting on `day` in the timezone `zone`, in order."""
    start = datetime.combine(day, time(), tzinfo=ZoneInfo(zone)).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(), tzinfo=ZoneInfo(zone)).astimezone(UTC)
    return list(
        session.scalars(
            _consultations(coordinator)
            .where(
                Consultation.status.in_(ACTIVE_CONSULTATION),
                Consultation.starts_at >= start,
                Consultation.starts_at < end,
            )
            .order_by(Consultation.starts_at)
        ).unique()
    )


def needing_outcome(session: Session, coordinator: Coordinator, now: datetime) -> list[Consultation]:
    """Consultations that have started but whose outcome nobody recorded yet."""
    return list(
        session.scalars(
            _consultations(coordinator)
            .where(Consultation.status.in_(ACTIVE_CONSULTATION), Consultation.starts_at <= now)
            .order_by(Consultation.starts_at)
            .limit(50)
        ).unique()
    )


def failed_messages(session: Session, coordinator: Coordinator, *, limit: int = 20) -> list[Message]:
    return list(
        session.scalars(
            lead_queries.messages_visible_to(coordinator)
            .where(Message.status == MessageStatus.FAILED)
            .options(contains_eager(Message.lead))
            .order_by(Message.id.desc())
            .limit(limit)
        )
    )


def funnel(session: Session, coordinator: Coordinator, start: datetime, end: datetime) -> Funnel:
    """Leads that came in between start and end and how far each got; conversion by source."""
    booked = sa.exists().where(Consultation.lead_id == Lead.id)
    held = sa.exists().where(Consultation.lead_id == Lead.id, Consultation.status == ConsultationStatus.COMPLETED)
    converted = Lead.status == LeadStatus.CONVERTED
    contacted = sa.or_(Lead.last_contacted_at.is_not(None), booked)
    source = sa.func.coalesce(sa.func.nullif(Lead.utm_source, ""), Lead.source)
    cohort = (
        lead_queries.visible_to(coordinator)
        .where(Lead.created_at >= start, Lead.created_at < end, Lead.erased_at.is_(None))
        .subquery()
    )

    def count(condition) -> sa.ColumnElement[int]:
        return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)

    totals = session.execute(
        sa.select(sa.func.count(Lead.id), count(contacted), count(booked), count(held), count(converted)).where(
            Lead.id.in_(sa.select(cohort.c.id))
        )
    ).one()
    by_source = session.execute(
        sa.select(source, sa.func.count(Lead.id), count(converted))
        .where(Lead.id.in_(sa.select(cohort.c.id)))
        .group_by(source)
        .order_by(sa.func.count(Lead.id).desc())
    ).all()
    return Funnel(
        stages=list(zip(FUNNEL_STAGES, (int(value) for value in totals), strict=True)),
        by_source=[SourceRow(str(name), int(inquiries), int(won)) for name, inquiries, won in by_source],
    )
