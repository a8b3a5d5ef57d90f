"""The office's decisions on the learned success model's weight in the score (issue 14, part 6)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Float, ForeignKey, Integer
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, UtcDateTime, utcnow


class LearnedWeight(Base):
    """One decision: from ``decided_at`` the learned probability weighs ``weight`` in the score.

    The newest row is in force; with none, the weight is 0 (the score stays hand-weighted). A
    weight above 0 is recorded only when the model beat the hand score on held-out check-ins; the
    figures it was decided on are kept beside it, and the decision is in the audit log.
    """

    __tablename__ = "learned_weight"
    __table_args__ = (CheckConstraint("weight >= 0 AND weight <= 1", name="weight_range"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    weight: Mapped[float] = mapped_column(Float)
    model_auc: Mapped[float] = mapped_column(Float)
    hand_auc: Mapped[float] = mapped_column(Float)
    n_test: Mapped[int] = mapped_column(Integer)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), default=None)
    decided_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)

    decided_by = relationship("User")
