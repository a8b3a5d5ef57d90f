"""Public welfare posts (公益岗位): one household, one post; administered month by month (issue 13,
part 3); and households' dated requests for one (part 2).

`WelfareAttendance` is one holder's month: the days present the cadre recorded, the days expected, and the
stipend due computed then (web.services.welfare) — kept, so that a payroll once paid reads the same later
even if the post's stipend changes. `WelfareTermStep` records each renewal or end of a post's term: who,
when, from which end day to which.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
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


class WelfareAttendance(Base):
    """One welfare-post holder's month: days present (recorded by the cadre) and the stipend due."""

    __tablename__ = "welfare_attendance"
    __table_args__ = (
        UniqueConstraint("placement_id", "month"),
        CheckConstraint("days_present >= 0 AND days_present <= days_expected", name="days_present_range"),
        CheckConstraint("days_expected >= 0 AND days_expected <= month_work_days", name="days_expected_range"),
        CheckConstraint("month_work_days > 0 AND month_work_days <= 31", name="month_work_days_range"),
        CheckConstraint("due_cents >= 0 AND due_cents <= stipend_cents", name="due_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The holder's placement to the post (its laborer, household and post are read through it).
    placement_id: Mapped[int] = mapped_column(ForeignKey("placement.id"), index=True)
    welfare_post_id: Mapped[int] = mapped_column(ForeignKey("welfare_post.id"), index=True)
    # The first day of the month recorded.
    month: Mapped[date] = mapped_column(Date, index=True)
    days_present: Mapped[int] = mapped_column(Integer)
    # The working days the holder was expected: the month's, or fewer when the holding began or ended in it.
    days_expected: Mapped[int] = mapped_column(Integer)
    month_work_days: Mapped[int] = mapped_column(Integer)
    # The post's monthly stipend when recorded, and what is due for the month (integer cents).
    stipend_cents: Mapped[int] = mapped_column(Integer)
    due_cents: Mapped[int] = mapped_column(Integer)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), default=None)
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, onupdate=utcnow)

    placement = relationship("Placement")
    welfare_post = relationship("WelfarePost")


class TermAction(StrEnum):
    RENEWED = "renewed"
    ENDED = "ended"


class WelfareTermStep(Base):
    """A renewal or end of a welfare post's term, and who recorded it when."""

    __tablename__ = "welfare_term_step"

    id: Mapped[int] = mapped_column(primary_key=True)
    welfare_post_id: Mapped[int] = mapped_column(ForeignKey("welfare_post.id"), index=True)
    action: Mapped[TermAction] = mapped_column(enum_column(TermAction, "term_action"))
    old_end_on: Mapped[date | None] = mapped_column(Date, default=None)
    new_end_on: Mapped[date | None] = mapped_column(Date, default=None)
    # The holder's placement the step ended (an end of term ends the holding).
    placement_id: Mapped[int | None] = mapped_column(ForeignKey("placement.id"), default=None)
    by_user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), default=None)
    at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    note: Mapped[str | None] = mapped_column(Text, default=None)

    welfare_post = relationship("WelfarePost")
    by_user = relationship("User")


class PostRequestStatus(StrEnum):
    """Where a household's request for a welfare post stands: waiting, or answered by a post or a refusal."""

    PENDING = "pending"
    ASSIGNED = "assigned"
    REFUSED = "refused"


#: The answers to a request (it is answered on time when answered_on <= due_on).
ANSWERED_REQUEST_STATUSES = (PostRequestStatus.ASSIGNED, PostRequestStatus.REFUSED)


class PostRequest(Base):
    """A household's dated request for a welfare post (issue 13, part 2), with its receipt.

    The receipt number is the county code, the year and a sequence within them (``141030-2026-00012``),
    unique by the database; the request is due `POST_REQUEST_DAYS` after the day it was made, and the
    daily tick marks it overdue once (`overdue_on`) if it is still open after that.
    """

    __tablename__ = "post_request"
    __table_args__ = (
        UniqueConstraint("county_code", "receipt_year", "receipt_seq"),
        CheckConstraint("receipt_seq > 0", name="receipt_seq_positive"),
        CheckConstraint("due_on >= requested_on", name="due_after_request"),
        CheckConstraint("(status = 'pending') = (answered_on IS NULL)", name="answered_unless_pending"),
        CheckConstraint("status != 'refused' OR refusal_reason IS NOT NULL", name="refusal_has_reason"),
        # One open request per household: a second one would be a duplicate receipt for the same need.
        Index(
            "uq_post_request_household_pending",
            "household_id",
            unique=True,
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
        Index("ix_post_request_status_due_on", "status", "due_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"), index=True)
    laborer_id: Mapped[int] = mapped_column(ForeignKey("laborer.id"), index=True)
    county_code: Mapped[str] = mapped_column(String(6))
    receipt_year: Mapped[int] = mapped_column(Integer)
    receipt_seq: Mapped[int] = mapped_column(Integer)
    requested_on: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text, default=None)
    status: Mapped[PostRequestStatus] = mapped_column(
        enum_column(PostRequestStatus, "post_request_status"), default=PostRequestStatus.PENDING
    )
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), default=None)
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    overdue_on: Mapped[date | None] = mapped_column(Date, default=None)
    answered_on: Mapped[date | None] = mapped_column(Date, default=None)
    answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None)
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), default=None)
    placement_id: Mapped[int | None] = mapped_column(ForeignKey("placement.id"), default=None)
    refusal_reason: Mapped[str | None] = mapped_column(Text, default=None)

    household = relationship("Household")
    laborer = relationship("Laborer")
    placement = relationship("Placement")
    recorded_by = relationship("User", foreign_keys=[recorded_by_id])
    answered_by = relationship("User", foreign_keys=[answered_by_id])

    @property
    def receipt_no(self) -> str:
        """The number printed on the receipt: county, year, sequence."""
        return f"{self.county_code}-{self.receipt_year}-{self.receipt_seq:05d}"

    @property
    def is_on_time(self) -> bool | None:
        """Answered within its days (None while open)."""
        return None if self.answered_on is None else self.answered_on <= self.due_on
