"""What the clocks and flags tell people (issue 13, part 6): the in-app inbox, the outbox of short texts
to laborers, and the record of each day's tick.

An inbox `Message` stores a *kind* and its parameters, never a sentence: the page renders it in the
reader's language when shown (`web.labels.MESSAGE_TEXTS`). A `dedupe_key` makes telling
idempotent: the same clock ringing twice for the same thing leaves one message (the daily tick relies on
it). A `TextMessage` is written in the same transaction as the change it reports (an outbox): a text is
never sent for a change that was rolled back, and the sender (`web.services.texts`) delivers the
pending ones after the commit.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, StrEnum, UtcDateTime, utcnow


class MessageKind(StrEnum):
    """What an inbox message is about; each kind has one sentence in `web.labels.MESSAGE_TEXTS`."""

    OFFER_LAPSED = "offer_lapsed"
    OFFER_REMINDER = "offer_reminder"
    WELFARE_POST_VACATED = "welfare_post_vacated"
    WELFARE_TERM_ENDING = "welfare_term_ending"
    POST_REQUEST_OVERDUE = "post_request_overdue"
    POST_REQUEST_ANSWERED = "post_request_answered"
    BATCH_ARRIVED = "batch_arrived"
    SUBSIDY_DUE = "subsidy_due"
    HOUSEHOLD_FLAGGED = "household_flagged"
    FOLLOW_UP_OVERDUE = "follow_up_overdue"
    VERIFICATION_EXPIRED = "verification_expired"


class Message(Base):
    """One message in one user's inbox."""

    __tablename__ = "message"
    __table_args__ = (
        UniqueConstraint("user_id", "dedupe_key"),
        Index("ix_message_user_unread", "user_id", "read_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    # The record the message is about, for its link (a placement, a household, a batch ...).
    entity_type: Mapped[str | None] = mapped_column(String(40), default=None)
    entity_id: Mapped[int | None] = mapped_column(Integer, default=None)
    dedupe_key: Mapped[str | None] = mapped_column(String(120), default=None)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None)

    user = relationship("User")


class TextMessage(Base):
    """A short text to a laborer's phone, written with the change it reports and delivered after the commit."""

    __tablename__ = "text_message"
    __table_args__ = (UniqueConstraint("dedupe_key"), Index("ix_text_message_pending", "sent_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    laborer_id: Mapped[int] = mapped_column(ForeignKey("laborer.id"), index=True)
    phone: Mapped[str] = mapped_column(String(20))
    body: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(40))
    dedupe_key: Mapped[str | None] = mapped_column(String(120), default=None)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None)
    backend: Mapped[str | None] = mapped_column(String(40), default=None)
    error: Mapped[str | None] = mapped_column(String(200), default=None)


class TickRun(Base):
    """One run of the daily clocks (`jiuye tick`): the day it ran for and what each step changed."""

    __tablename__ = "tick_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date, index=True)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None)
    counts: Mapped[dict] = mapped_column(JSON, default=dict)
    note: Mapped[str | None] = mapped_column(Text, default=None)
