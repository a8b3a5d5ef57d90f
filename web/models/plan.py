"""Matching plans for a region: a proposal an office reviews and confirms (DESIGN §3)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, StrEnum, UtcDateTime, enum_column, utcnow
from .placement import _ONE_TARGET, TargetMixin


class PlanMode(StrEnum):
    OPTIMAL = "optimal"
    STABLE = "stable"
    GREEDY = "greedy"


class PlanStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CONFIRMED = "confirmed"


#: Plans that have not finished yet (their page polls for progress).
UNFINISHED_PLAN_STATUSES = (PlanStatus.QUEUED, PlanStatus.RUNNING)
#: Plans whose capacity prices count between plans: solved and not failed (confirmed ones priced their slots too).
PRICED_PLAN_STATUSES = (PlanStatus.DONE, PlanStatus.CONFIRMED)


class Plan(Base):
    """One run of the matcher over a region, its report and the greedy baseline beside it."""

    __tablename__ = "plan"
    __table_args__ = (CheckConstraint("progress >= 0 AND progress <= 1", name="progress_range"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    region_code: Mapped[str] = mapped_column(ForeignKey("region.code"), index=True)
    mode: Mapped[PlanMode] = mapped_column(enum_column(PlanMode, "plan_mode"))
    status: Mapped[PlanStatus] = mapped_column(
        enum_column(PlanStatus, "plan_status"), default=PlanStatus.QUEUED, index=True
    )
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    report: Mapped[dict | None] = mapped_column(JSON, default=None)
    baseline_report: Mapped[dict | None] = mapped_column(JSON, default=None)
    #: The caps and reserves the office chose (`matcher.quotas.Quota.as_dict`); None or [] for none.
    quotas: Mapped[list | None] = mapped_column(JSON, default=None)
    #: A failed plan's cause for developers (the exception's text; "interrupted"), as the API shows it.
    error: Mapped[str | None] = mapped_column(Text, default=None)
    #: Why the plan failed, as a code and its values (`web.services.plans.failure_of`): what pages word.
    failure: Mapped[dict | None] = mapped_column(JSON, default=None)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), default=None)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None)
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), default=None)
    confirmed_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None)
    #: Until when the plan's runner vouches for it (renewed while it runs); a lapsed lease means the
    #: runner is gone (web.jobs.plans). For a queued plan: by when a runner should have taken it.
    lease_expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None)
    #: The process running (or, queued, holding) the plan: "host:pid".
    worker: Mapped[str | None] = mapped_column(String(120), default=None)

    region = relationship("Region")
    assignments: Mapped[list[PlanAssignment]] = relationship(
        back_populates="plan", cascade="all, delete-orphan", order_by="PlanAssignment.id"
    )
    changes: Mapped[list[PlanChange]] = relationship(
        back_populates="plan", cascade="all, delete-orphan", order_by="PlanChange.id"
    )


class PlanAssignment(TargetMixin, Base):
    """One laborer → target pair proposed by a plan, with its score and reasons."""

    __tablename__ = "plan_assignment"
    __table_args__ = (
        CheckConstraint(_ONE_TARGET, name="one_target"),
        UniqueConstraint("plan_id", "laborer_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id", ondelete="CASCADE"))
    laborer_id: Mapped[int] = mapped_column(ForeignKey("laborer.id"))
    stage: Mapped[str] = mapped_column(String(16))
    score: Mapped[float] = mapped_column(Float)
    distance_km: Mapped[float] = mapped_column(Float)
    explanation: Mapped[dict | None] = mapped_column(JSON, default=None)

    plan: Mapped[Plan] = relationship(back_populates="assignments")
    laborer = relationship("Laborer")
    opening = relationship("Opening")
    batch = relationship("TransportBatch")
    welfare_post = relationship("WelfarePost")


class PlanChangeAction(StrEnum):
    """What an office did to a finished plan's proposals while reviewing it (web.services.plan_review)."""

    REMOVED = "removed"
    SWAPPED = "swapped"


class PlanChange(Base):
    """One change made to a plan's proposals before confirming: who, when, which laborer, from what to what.

    The plan's change log; kept beside the audit trail because it belongs to the plan (its page lists it)
    and because an assignment that was removed is gone from `plan_assignment`.
    """

    __tablename__ = "plan_change"
    __table_args__ = (
        CheckConstraint(
            "(action = 'removed' AND to_kind IS NULL AND to_target_id IS NULL)"
            " OR (action = 'swapped' AND to_kind IS NOT NULL AND to_target_id IS NOT NULL)",
            name="target_by_action",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id", ondelete="CASCADE"), index=True)
    action: Mapped[PlanChangeAction] = mapped_column(enum_column(PlanChangeAction, "plan_change_action"))
    laborer_id: Mapped[int] = mapped_column(ForeignKey("laborer.id"))
    # Channels as their codes (opening, batch, welfare_post) and the target's id within its kind.
    from_kind: Mapped[str] = mapped_column(String(16))
    from_target_id: Mapped[int] = mapped_column(Integer)
    to_kind: Mapped[str | None] = mapped_column(String(16), default=None)
    to_target_id: Mapped[int | None] = mapped_column(Integer, default=None)
    note: Mapped[str | None] = mapped_column(Text, default=None)
    by_user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), default=None)
    at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)

    plan: Mapped[Plan] = relationship(back_populates="changes")
    laborer = relationship("Laborer")
    by_user = relationship("User")


class CapacityPrice(TargetMixin, Base):
    """What one slot of a target was worth to an ``optimal`` plan (its capacity's dual price, `matcher.prices`).

    Interactive ranking deducts the newest plan's price of a target until a newer plan prices it
    again or the target's capacity (``slots``, as it was when priced) changes.
    """

    __tablename__ = "capacity_price"
    __table_args__ = (
        CheckConstraint(_ONE_TARGET, name="one_target"),
        CheckConstraint("price >= 0", name="price_nonnegative"),
        CheckConstraint("slots >= 0", name="slots_nonnegative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id", ondelete="CASCADE"), index=True)
    price: Mapped[float] = mapped_column(Float)  # score units
    slots: Mapped[int] = mapped_column(Integer)  # the target's capacity (slots or seats) when priced
