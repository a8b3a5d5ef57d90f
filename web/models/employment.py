"""Employers and what they offer: openings nearby and point-to-point transport batches."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import (
    Base,
    Demand,
    PayType,
    PositionMixin,
    StrEnum,
    UtcDateTime,
    enum_column,
    position_checks,
    utcnow,
)


class EmployerKind(StrEnum):
    WORKSHOP = "workshop"  # 扶贫车间
    ENTERPRISE = "enterprise"  # 龙头企业
    LABOR_AGENCY = "labor_agency"  # 劳务公司


class PostingStatus(StrEnum):
    OPEN = "open"
    PAUSED = "paused"
    CLOSED = "closed"


class BatchStatus(StrEnum):
    PLANNING = "planning"
    BOARDING = "boarding"
    DEPARTED = "departed"
    ARRIVED = "arrived"  # the handover at the employer is recorded (web.services.transport)
    CANCELLED = "cancelled"


class DestinationBand(StrEnum):
    """How far a batch takes its passengers, for the transport subsidy (web.services.transport): the
    employer or office sets it on the batch. Far: a province not bordering Shanxi (Guangdong, Zhejiang,
    Jiangsu ...); near: a neighbouring province (Hebei, Henan, Shaanxi, Inner Mongolia, Beijing, Tianjin);
    inside: within Shanxi, outside the home county."""

    OUTSIDE_FAR = "outside_far"
    OUTSIDE_NEAR = "outside_near"
    INSIDE_PROVINCE = "inside_province"


#: Employers whose workers the figures count (labor agencies are channels, not employers here).
EMPLOYING_KINDS = (EmployerKind.ENTERPRISE, EmployerKind.WORKSHOP)
#: Batches that still take passengers (before departure).
OPEN_BATCH_STATUSES = (BatchStatus.PLANNING, BatchStatus.BOARDING)
#: Batches on their way or there: their passengers have left home.
GONE_BATCH_STATUSES = (BatchStatus.DEPARTED, BatchStatus.ARRIVED)


def age_range_checks() -> tuple[CheckConstraint, ...]:
    """min_age ≤ max_age, both within working life, when given."""
    return (
        CheckConstraint("min_age IS NULL OR (min_age >= 16 AND min_age <= 100)", name="min_age_range"),
        CheckConstraint("max_age IS NULL OR (max_age >= 16 AND max_age <= 100)", name="max_age_range"),
        CheckConstraint("min_age IS NULL OR max_age IS NULL OR min_age <= max_age", name="age_order"),
    )


class RequirementMixin:
    """What a posting asks of a laborer and pays: the columns openings and transport batches share
    (the matcher's hard rules and score read them the same way for both)."""

    job_type: Mapped[str] = mapped_column(String(40))
    min_age: Mapped[int | None] = mapped_column(Integer, default=None)
    max_age: Mapped[int | None] = mapped_column(Integer, default=None)
    physical_demand: Mapped[Demand] = mapped_column(enum_column(Demand, "demand"))
    skills: Mapped[list[str]] = mapped_column(JSON, default=list)
    pay_type: Mapped[PayType] = mapped_column(enum_column(PayType, "pay_type"))
    pay_cents: Mapped[int | None] = mapped_column(Integer, default=None)


class Employer(PositionMixin, Base):
    """A workshop, enterprise or labor agency that offers work."""

    __tablename__ = "employer"
    __table_args__ = (*position_checks(),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[EmployerKind] = mapped_column(enum_column(EmployerKind, "employer_kind"))
    region_code: Mapped[str] = mapped_column(ForeignKey("region.code"), index=True)
    contact_name: Mapped[str | None] = mapped_column(String(40), default=None)
    phone: Mapped[str | None] = mapped_column(String(20), default=None)
    # Offices may mark a workshop resumed before any placement is recorded in jiuye.
    is_marked_resumed: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)

    region = relationship("Region")
    openings: Mapped[list[Opening]] = relationship(back_populates="employer")


class Opening(RequirementMixin, PositionMixin, Base):
    """Work at an employer's site, within commuting distance of the laborers it suits."""

    __tablename__ = "opening"
    __table_args__ = (
        *position_checks(),
        *age_range_checks(),
        CheckConstraint("slots > 0", name="slots_positive"),
        CheckConstraint("pay_cents IS NULL OR pay_cents >= 0", name="pay_nonnegative"),
        Index("ix_opening_region_status", "region_code", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    employer_id: Mapped[int] = mapped_column(ForeignKey("employer.id"), index=True)
    title: Mapped[str] = mapped_column(String(120))
    slots: Mapped[int] = mapped_column(Integer)
    is_flexible_hours: Mapped[bool] = mapped_column(Boolean, default=False)
    start_on: Mapped[date] = mapped_column(Date)
    status: Mapped[PostingStatus] = mapped_column(
        enum_column(PostingStatus, "posting_status"), default=PostingStatus.OPEN
    )
    region_code: Mapped[str] = mapped_column(ForeignKey("region.code"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, onupdate=utcnow)

    employer: Mapped[Employer] = relationship(back_populates="openings")


class TransportBatch(RequirementMixin, Base):
    """Seats on an organised coach or train from pickup points near home to a distant employer."""

    __tablename__ = "transport_batch"
    __table_args__ = (
        *age_range_checks(),
        CheckConstraint("seats > 0", name="seats_positive"),
        CheckConstraint("pay_cents IS NULL OR pay_cents >= 0", name="pay_nonnegative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    employer_id: Mapped[int] = mapped_column(ForeignKey("employer.id"), index=True)
    title: Mapped[str] = mapped_column(String(120))
    destination: Mapped[str] = mapped_column(String(120))
    departs_at: Mapped[datetime] = mapped_column(UtcDateTime())
    seats: Mapped[int] = mapped_column(Integer)
    status: Mapped[BatchStatus] = mapped_column(
        enum_column(BatchStatus, "batch_status"), default=BatchStatus.PLANNING, index=True
    )
    # The county that organises the batch; its pickup points lie in or near it.
    region_code: Mapped[str] = mapped_column(ForeignKey("region.code"), index=True)
    # The transport subsidy's band of the destination; unset, the batch's passengers earn no subsidy yet.
    destination_band: Mapped[DestinationBand | None] = mapped_column(
        enum_column(DestinationBand, "destination_band"), default=None
    )
    # The handover at arrival (issue 13, part 4): the day, who received the passengers at the employer,
    # and who recorded it; each passenger's arrival is a `HandoverPassenger`.
    arrived_on: Mapped[date | None] = mapped_column(Date, default=None)
    received_by_name: Mapped[str | None] = mapped_column(String(40), default=None)
    received_by_phone: Mapped[str | None] = mapped_column(String(20), default=None)
    handover_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), default=None)
    handover_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, onupdate=utcnow)

    employer: Mapped[Employer] = relationship()
    pickup_points: Mapped[list[PickupPoint]] = relationship(
        back_populates="batch", cascade="all, delete-orphan", order_by="PickupPoint.id"
    )


class PickupPoint(PositionMixin, Base):
    """Where passengers of a transport batch board."""

    __tablename__ = "pickup_point"
    __table_args__ = (*position_checks(),)

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("transport_batch.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    region_code: Mapped[str] = mapped_column(ForeignKey("region.code"))

    batch: Mapped[TransportBatch] = relationship(back_populates="pickup_points")
