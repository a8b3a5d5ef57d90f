"""After departure (issue 13, part 4): each passenger's handover at arrival, and the transport subsidy
ledger — the amounts per county and destination band, and the claims the 90-day check-in makes due.

A claim is one laborer's fare subsidy for one year: the database holds "one claim per laborer per
year" (a unique key on laborer and year) and "one claim per placement", so the daily tick that creates
due claims can run twice. Amounts are integer cents copied onto the claim when it becomes due: a later
change of the county's table does not change what was already owed.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, StrEnum, UtcDateTime, enum_column, utcnow
from .employment import DestinationBand


class ClaimStatus(StrEnum):
    DUE = "due"  # the 90-day check-in says the laborer still works there
    APPROVED = "approved"  # the office approved it for payment


class HandoverPassenger(Base):
    """One passenger at a batch's handover: arrived, or did not travel (and why)."""

    __tablename__ = "handover_passenger"
    __table_args__ = (UniqueConstraint("placement_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("transport_batch.id", ondelete="CASCADE"), index=True)
    placement_id: Mapped[int] = mapped_column(ForeignKey("placement.id", ondelete="CASCADE"))
    has_arrived: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str | None] = mapped_column(Text, default=None)

    placement = relationship("Placement")


class SubsidyRate(Base):
    """A county's transport subsidy for one destination band (yuan as cents); absent, the configured default."""

    __tablename__ = "subsidy_rate"
    __table_args__ = (
        UniqueConstraint("county_code", "band"),
        CheckConstraint("amount_cents >= 0", name="amount_nonnegative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    county_code: Mapped[str] = mapped_column(ForeignKey("region.code"))
    band: Mapped[DestinationBand] = mapped_column(enum_column(DestinationBand, "band"))
    amount_cents: Mapped[int] = mapped_column(Integer)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), default=None)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, onupdate=utcnow)


class SubsidyClaim(Base):
    """A migrant worker's transport subsidy: due at the 90-day check-in, approved by the office."""

    __tablename__ = "subsidy_claim"
    __table_args__ = (
        UniqueConstraint("laborer_id", "year"),
        UniqueConstraint("placement_id"),
        CheckConstraint("amount_cents >= 0", name="amount_nonnegative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    laborer_id: Mapped[int] = mapped_column(ForeignKey("laborer.id"))
    placement_id: Mapped[int] = mapped_column(ForeignKey("placement.id"))
    batch_id: Mapped[int] = mapped_column(ForeignKey("transport_batch.id"), index=True)
    # The laborer's home county pays; the office of that county approves.
    county_code: Mapped[str] = mapped_column(ForeignKey("region.code"), index=True)
    village_code: Mapped[str] = mapped_column(String(12))
    year: Mapped[int] = mapped_column(Integer)
    band: Mapped[DestinationBand] = mapped_column(enum_column(DestinationBand, "band"))
    amount_cents: Mapped[int] = mapped_column(Integer)
    due_on: Mapped[date] = mapped_column(Date)
    status: Mapped[ClaimStatus] = mapped_column(
        enum_column(ClaimStatus, "claim_status"), default=ClaimStatus.DUE, index=True
    )
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), default=None)
    approved_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)

    laborer = relationship("Laborer")
    placement = relationship("Placement")
    batch = relationship("TransportBatch")
