"""Placements of laborers into openings, batches or welfare posts, with their lifecycle."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, StrEnum, UtcDateTime, enum_column, utcnow


class PlacementStatus(StrEnum):
    PROPOSED = "proposed"
    OFFERED = "offered"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    WORKING = "working"
    ENDED = "ended"


class Channel(StrEnum):
    """The three channels, in the order policy prefers them (DESIGN §1)."""

    OPENING = "opening"
    BATCH = "batch"
    WELFARE_POST = "welfare_post"


def channel_of(opening_id: int | None, batch_id: int | None) -> Channel:
    """The channel of a placement or assignment from its target columns (welfare post when neither)."""
    if opening_id is not None:
        return Channel.OPENING
    if batch_id is not None:
        return Channel.BATCH
    return Channel.WELFARE_POST


#: The placement column that points at each channel's target.
CHANNEL_FK: dict[str, str] = {
    Channel.OPENING.value: "opening_id",
    Channel.BATCH.value: "batch_id",
    Channel.WELFARE_POST.value: "welfare_post_id",
}
#: Chinese names of the channels, for the offices' spreadsheets (pages label them through the catalog).
CHANNEL_ZH: dict[str, str] = {
    Channel.OPENING.value: "就近就业",
    Channel.BATCH.value: "点对点输送",
    Channel.WELFARE_POST.value: "公益岗位",
}

#: Statuses that hold a slot of the target.
HOLDING_STATUSES = (PlacementStatus.OFFERED, PlacementStatus.ACCEPTED, PlacementStatus.WORKING)
#: A posting's live offers, capped by `matcher.congestion`: referrals (proposed: no slot held yet)
#: and offers not yet answered. A slot is *open* for the cap until someone says yes (COMMITTED_STATUSES).
#: Both wait for the employer until `answer_by`; the next day the tick lapses them (offers.lapse_unanswered).
LIVE_OFFER_STATUSES = (PlacementStatus.PROPOSED, PlacementStatus.OFFERED)
#: Statuses of a placement that was at work at some time: it is at work on day D when its
#: started_on <= D < ended_on (ended_on null: still at work), see `web.services.stats.at_work_on`.
AT_WORK_STATUSES = (PlacementStatus.WORKING, PlacementStatus.ENDED)
#: A transport batch's passengers: booked (holding a seat), travelled, or back (ended).
PASSENGER_STATUSES = (*HOLDING_STATUSES, PlacementStatus.ENDED)
#: Steps that cannot be undone: they need a reason (and, on pages, a confirmation).
NEEDS_REASON = (PlacementStatus.DECLINED, PlacementStatus.ENDED)
#: Statuses of a laborer who has said yes to work: no new offer unless re-matching is asked for.
COMMITTED_STATUSES = (PlacementStatus.ACCEPTED, PlacementStatus.WORKING)
#: An offer's answers: said yes or no (the cadre home counts them).
ANSWERED_STATUSES = (PlacementStatus.ACCEPTED, PlacementStatus.DECLINED)
#: Placements whose offer text a laborer page shows: offered (to tell them) and accepted (to remind them).
OFFER_TEXT_STATUSES = (PlacementStatus.OFFERED, PlacementStatus.ACCEPTED)

#: The reason the clock gives an offer nobody answered (a catalog msgid: pages show it translated).
NO_ANSWER_REASON = "no answer in time"
#: Why a welfare post's holding ends when the holder starts other work (no two incomes from one post).
OTHER_WORK_REASON = "started other work"
#: Why a welfare post's holding ends with its term.
TERM_ENDED_REASON = "term ended"

#: Allowed moves of the lifecycle: proposed → offered → accepted | declined → working → ended.
TRANSITIONS: dict[PlacementStatus, tuple[PlacementStatus, ...]] = {
    PlacementStatus.PROPOSED: (PlacementStatus.OFFERED, PlacementStatus.DECLINED),
    PlacementStatus.OFFERED: (PlacementStatus.ACCEPTED, PlacementStatus.DECLINED),
    PlacementStatus.ACCEPTED: (PlacementStatus.WORKING, PlacementStatus.ENDED),
    PlacementStatus.WORKING: (PlacementStatus.ENDED,),
    PlacementStatus.DECLINED: (),
    PlacementStatus.ENDED: (),
}

_ONE_TARGET = (
    "(CASE WHEN opening_id IS NULL THEN 0 ELSE 1 END"
    " + CASE WHEN batch_id IS NULL THEN 0 ELSE 1 END"
    " + CASE WHEN welfare_post_id IS NULL THEN 0 ELSE 1 END) = 1"
)
_HOLDING_SQL = "status IN (" + ", ".join(f"'{s.value}'" for s in HOLDING_STATUSES) + ")"


class TargetMixin:
    """Exactly one of opening, batch or welfare post; the database checks it."""

    opening_id: Mapped[int | None] = mapped_column(ForeignKey("opening.id"), index=True, default=None)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("transport_batch.id"), index=True, default=None)
    welfare_post_id: Mapped[int | None] = mapped_column(ForeignKey("welfare_post.id"), index=True, default=None)

    @property
    def channel(self) -> Channel:
        """Which of the three channels this targets."""
        return channel_of(self.opening_id, self.batch_id)

    @property
    def target_id(self) -> int:
        """The id of the opening, batch or welfare post."""
        return self.opening_id or self.batch_id or self.welfare_post_id  # type: ignore[return-value]


class Placement(TargetMixin, Base):
    """A laborer's placement, the score it had when proposed, and where it stands now."""

    __tablename__ = "placement"
    __table_args__ = (
        CheckConstraint(_ONE_TARGET, name="one_target"),
        CheckConstraint("score IS NULL OR (score >= 0 AND score <= 1)", name="score_range"),
        CheckConstraint("ended_on IS NULL OR started_on IS NULL OR ended_on >= started_on", name="dates_order"),
        # One household, one public welfare post (一户一岗), held by the database itself.
        Index(
            "uq_placement_household_welfare",
            "household_id",
            unique=True,
            sqlite_where=text(f"welfare_post_id IS NOT NULL AND {_HOLDING_SQL}"),
            postgresql_where=text(f"welfare_post_id IS NOT NULL AND {_HOLDING_SQL}"),
        ),
        Index("ix_placement_laborer_status", "laborer_id", "status"),
        Index("ix_placement_status_started", "status", "started_on"),
        Index("ix_placement_status_answer_by", "status", "answer_by"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    laborer_id: Mapped[int] = mapped_column(ForeignKey("laborer.id"))
    # Copied from the laborer so that the database can hold one welfare post per household.
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"), index=True)
    status: Mapped[PlacementStatus] = mapped_column(
        enum_column(PlacementStatus, "placement_status"), default=PlacementStatus.PROPOSED
    )
    score: Mapped[float | None] = mapped_column(Float, default=None)
    distance_km: Mapped[float | None] = mapped_column(Float, default=None)
    explanation: Mapped[dict | None] = mapped_column(JSON, default=None)
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("plan.id"), index=True, default=None)
    started_on: Mapped[date | None] = mapped_column(Date, default=None)
    ended_on: Mapped[date | None] = mapped_column(Date, default=None)
    # An offer's clock (issue 13, part 1): when it was made, and the last day it may be answered; the
    # next day's tick lapses it ("no answer in time").
    offered_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None)
    answer_by: Mapped[date | None] = mapped_column(Date, default=None)
    decline_reason: Mapped[str | None] = mapped_column(Text, default=None)
    end_reason: Mapped[str | None] = mapped_column(Text, default=None)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), default=None)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, onupdate=utcnow)

    laborer = relationship("Laborer")
    opening = relationship("Opening")
    batch = relationship("TransportBatch")
    welfare_post = relationship("WelfarePost")
    events: Mapped[list[PlacementEvent]] = relationship(
        back_populates="placement", order_by="PlacementEvent.id", cascade="all, delete-orphan"
    )
    checkins: Mapped[list[RetentionCheckin]] = relationship(
        back_populates="placement", order_by="RetentionCheckin.day", cascade="all, delete-orphan"
    )


class PlacementEvent(Base):
    """One step of a placement's lifecycle: who moved it, when, from what to what."""

    __tablename__ = "placement_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    placement_id: Mapped[int] = mapped_column(ForeignKey("placement.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[PlacementStatus | None] = mapped_column(
        enum_column(PlacementStatus, "from_status"), default=None
    )
    to_status: Mapped[PlacementStatus] = mapped_column(enum_column(PlacementStatus, "to_status"))
    by_user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), default=None)
    at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    note: Mapped[str | None] = mapped_column(Text, default=None)

    placement: Mapped[Placement] = relationship(back_populates="events")
    by_user = relationship("User")


class RetentionCheckin(Base):
    """Whether the laborer is still working 30, 90 or 180 days in (the learned model's labels)."""

    __tablename__ = "retention_checkin"
    __table_args__ = (
        UniqueConstraint("placement_id", "day"),
        CheckConstraint("day IN (30, 90, 180)", name="day_allowed"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    placement_id: Mapped[int] = mapped_column(ForeignKey("placement.id", ondelete="CASCADE"))
    day: Mapped[int] = mapped_column(Integer)
    checked_on: Mapped[date] = mapped_column(Date)
    is_still_working: Mapped[bool] = mapped_column()
    by_user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), default=None)
    note: Mapped[str | None] = mapped_column(String(200), default=None)

    placement: Mapped[Placement] = relationship(back_populates="checkins")
