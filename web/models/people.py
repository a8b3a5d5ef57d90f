"""Households and laborers, registered by village cadres."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, CheckConstraint, Date, Float, ForeignKey, Index, String, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import (
    POOR_STATUSES,
    Ability,
    Base,
    PayType,
    PositionMixin,
    PovertyStatus,
    Sex,
    StrEnum,
    UtcDateTime,
    WorkArea,
    enum_column,
    position_checks,
    utcnow,
)


class LaborerStatus(StrEnum):
    """What the laborer is doing now; employed and self-employed count as *with work*."""

    SEEKING = "seeking"
    EMPLOYED = "employed"
    SELF_EMPLOYED = "self_employed"
    NOT_SEEKING = "not_seeking"


#: Laborer statuses that count as *with work* whatever their placements say.
WORKING_STATUSES = (LaborerStatus.EMPLOYED, LaborerStatus.SELF_EMPLOYED)


class Household(PositionMixin, Base):
    """A household of a village, with its poverty status."""

    __tablename__ = "household"
    __table_args__ = (*position_checks(),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    village_code: Mapped[str] = mapped_column(ForeignKey("region.code"), index=True)
    head_name: Mapped[str] = mapped_column(String(40))
    poverty_status: Mapped[PovertyStatus] = mapped_column(enum_column(PovertyStatus, "poverty_status"), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, onupdate=utcnow)

    village = relationship("Region")
    laborers: Mapped[list[Laborer]] = relationship(back_populates="household")

    @property
    def is_poor(self) -> bool:
        """Registered poor or monitored: eligible for poverty-alleviation measures."""
        return self.poverty_status in POOR_STATUSES


class Laborer(PositionMixin, Base):
    """A member of a household who can work; the cadre acts for them."""

    __tablename__ = "laborer"
    __table_args__ = (
        *position_checks(),
        CheckConstraint("length(id_number) = 18", name="id_number_length"),
        CheckConstraint("max_commute_km > 0 AND max_commute_km <= 500", name="max_commute_range"),
        Index("ix_laborer_household_status", "household_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"))
    name: Mapped[str] = mapped_column(String(40))
    id_number: Mapped[str] = mapped_column(String(18), unique=True)
    birth_on: Mapped[date] = mapped_column(Date)
    sex: Mapped[Sex] = mapped_column(enum_column(Sex, "sex"))
    phone: Mapped[str | None] = mapped_column(String(20), default=None)
    physical_ability: Mapped[Ability] = mapped_column(enum_column(Ability, "ability"))
    skills: Mapped[list[str]] = mapped_column(JSON, default=list)
    work_area: Mapped[WorkArea] = mapped_column(enum_column(WorkArea, "work_area"))
    max_commute_km: Mapped[float] = mapped_column(Float, default=10.0)
    job_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    pay_type: Mapped[PayType | None] = mapped_column(enum_column(PayType, "pay_type"), default=None)
    needs_flexible_hours: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[LaborerStatus] = mapped_column(
        enum_column(LaborerStatus, "laborer_status"), default=LaborerStatus.SEEKING, index=True
    )
    #: The cadre confirmed that a person older than MAX_LABOR_AGE still wants and is able to work.
    over_age_confirmed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    #: Recorded by the cadre: plans may reserve posts for people with disabilities (matcher.quotas).
    has_disability: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    registered_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, onupdate=utcnow)

    household: Mapped[Household] = relationship(back_populates="laborers")

    def age_on(self, day: date) -> int:
        """Age in whole years on the given day."""
        from ..validation import age_on

        return age_on(self.birth_on, day)
