"""The watch on households slipping back (issue 13, part 5) and verifications on record (part 7).

A `FollowUp` is a flag on a poor household that lost its work (its last worker's placement ended, its
welfare-post term ended with no other work) or has stayed without work for `WATCH_DAYS`: it opens a
clock of `FOLLOW_UP_DAYS` for the cadre's visit. The database holds one open follow-up per household
(a partial unique index), so the daily tick may raise flags twice without doubling them. While a
follow-up is open the household comes first among the poor in plans (`web.services.convert`).

A `Verification` records that a fact a measure rests on (a household's poverty status, a laborer's
ability, a welfare-post holder's eligibility) was checked: by whom, when, how and until when. The latest
one of each fact is its standing; past `valid_until` it is listed for re-check.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, StrEnum, UtcDateTime, enum_column, utcnow


class WatchReason(StrEnum):
    """Why a household was flagged."""

    LAST_WORKER_ENDED = "last_worker_ended"
    POST_TERM_ENDED = "post_term_ended"
    LONG_WITHOUT_WORK = "long_without_work"


class VisitOutcome(StrEnum):
    """What the cadre found on the follow-up visit."""

    FOUND_WORK = "found_work"
    REFERRED = "referred"
    SUPPORT_NEEDED = "support_needed"
    NO_CHANGE = "no_change"
    NOT_MET = "not_met"


class FollowUp(Base):
    """A flag on a household under watch and the cadre's follow-up visit."""

    __tablename__ = "follow_up"
    __table_args__ = (
        # One open follow-up per household: the tick's flags stay single however often it runs.
        Index(
            "uq_follow_up_household_open",
            "household_id",
            unique=True,
            sqlite_where=text("closed_on IS NULL"),
            postgresql_where=text("closed_on IS NULL"),
        ),
        Index("ix_follow_up_closed_due", "closed_on", "due_on"),
        CheckConstraint("due_on >= flagged_on", name="due_order"),
        CheckConstraint("closed_on IS NULL OR visited_on IS NOT NULL", name="closed_after_visit"),
        CheckConstraint("(visited_on IS NULL) = (outcome IS NULL)", name="visit_has_outcome"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"), index=True)
    reason: Mapped[WatchReason] = mapped_column(enum_column(WatchReason, "watch_reason"))
    flagged_on: Mapped[date] = mapped_column(Date)
    #: The last day of the cadre's visit clock (FOLLOW_UP_DAYS after the flag).
    due_on: Mapped[date] = mapped_column(Date)
    #: The day the tick found the visit overdue (and told the cadre and the office), once.
    overdue_on: Mapped[date | None] = mapped_column(Date, default=None)
    visited_on: Mapped[date | None] = mapped_column(Date, default=None)
    outcome: Mapped[VisitOutcome | None] = mapped_column(enum_column(VisitOutcome, "visit_outcome"), default=None)
    note: Mapped[str | None] = mapped_column(Text, default=None)
    visited_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), default=None)
    closed_on: Mapped[date | None] = mapped_column(Date, default=None)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)

    household = relationship("Household")
    visited_by = relationship("User")

    @property
    def is_open(self) -> bool:
        return self.closed_on is None

    def is_overdue(self, day: date) -> bool:
        """Not visited by the end of its clock."""
        return self.visited_on is None and self.due_on < day


class VerificationSubject(StrEnum):
    """What was verified: a household's poverty status, a laborer's ability or post eligibility."""

    POVERTY_STATUS = "poverty_status"
    ABILITY = "ability"
    POST_ELIGIBILITY = "post_eligibility"


class VerificationMethod(StrEnum):
    VISIT = "visit"
    DOCUMENT = "document"
    REGISTRY = "registry"


#: Subjects verified of one laborer (poverty status is the household's).
LABORER_SUBJECTS = (VerificationSubject.ABILITY, VerificationSubject.POST_ELIGIBILITY)
#: The values a post-eligibility check records.
ELIGIBILITY_VALUES = ("eligible", "not_eligible")


class Verification(Base):
    """One check of a fact on record: who verified it, when, how, and until when it holds."""

    __tablename__ = "verification"
    __table_args__ = (
        CheckConstraint("valid_until > verified_on", name="valid_after_verified"),
        CheckConstraint("subject = 'poverty_status' OR laborer_id IS NOT NULL", name="laborer_subject"),
        Index("ix_verification_household_subject", "household_id", "subject"),
        Index("ix_verification_valid_until", "valid_until"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subject: Mapped[VerificationSubject] = mapped_column(enum_column(VerificationSubject, "verification_subject"))
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"))
    laborer_id: Mapped[int | None] = mapped_column(ForeignKey("laborer.id"), index=True, default=None)
    #: The value found: a poverty status, an ability, or eligible / not_eligible.
    value: Mapped[str] = mapped_column(String(24))
    method: Mapped[VerificationMethod] = mapped_column(enum_column(VerificationMethod, "verification_method"))
    verified_on: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date] = mapped_column(Date)
    verified_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    note: Mapped[str | None] = mapped_column(Text, default=None)
    #: The day the tick told the cadre and the office that this check expired (once).
    expiry_told_on: Mapped[date | None] = mapped_column(Date, default=None)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)

    household = relationship("Household")
    laborer = relationship("Laborer")
    verified_by = relationship("User")
