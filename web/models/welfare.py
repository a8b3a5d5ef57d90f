"""Public welfare posts (公益岗位): one household, one post."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import (
    Base,
    Demand,
    PositionMixin,
    StrEnum,
    UtcDateTime,
    enum_column,
    position_checks,
    utcnow,
)
from .employment import PostingStatus, age_range_checks


class WelfarePostType(StrEnum):
    CLEANER = "cleaner"
    ROAD_KEEPER = "road_keeper"
    FOREST_RANGER = "forest_ranger"
    WATER_KEEPER = "water_keeper"
    PATROL = "patrol"
    ELDER_CARER = "elder_carer"
    OTHER = "other"


class WelfarePost(PositionMixin, Base):
    """A public welfare post of a village or township, paid a monthly stipend."""

    __tablename__ = "welfare_post"
    __table_args__ = (
        *position_checks(),
        *age_range_checks(),
        CheckConstraint("slots > 0", name="slots_positive"),
        CheckConstraint("stipend_cents >= 0", name="stipend_nonnegative"),
        CheckConstraint("term_end_on IS NULL OR term_end_on >= term_start_on", name="term_order"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    post_type: Mapped[WelfarePostType] = mapped_column(enum_column(WelfarePostType, "welfare_post_type"))
    title: Mapped[str] = mapped_column(String(120))
    region_code: Mapped[str] = mapped_column(ForeignKey("region.code"), index=True)
    slots: Mapped[int] = mapped_column(Integer, default=1)
    min_age: Mapped[int | None] = mapped_column(Integer, default=None)
    max_age: Mapped[int | None] = mapped_column(Integer, default=None)
    physical_demand: Mapped[Demand] = mapped_column(enum_column(Demand, "demand"))
    stipend_cents: Mapped[int] = mapped_column(Integer)
    term_start_on: Mapped[date] = mapped_column(Date)
    term_end_on: Mapped[date | None] = mapped_column(Date, default=None)
    status: Mapped[PostingStatus] = mapped_column(
        enum_column(PostingStatus, "posting_status"), default=PostingStatus.OPEN
    )
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, onupdate=utcnow)

    region = relationship("Region")
