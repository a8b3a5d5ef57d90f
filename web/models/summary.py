"""Summaries behind the province and city dashboards: per-day changes of the figures, by region
and by employer.

A row says by how much each figure changed on `day` (a delta), so a figure on day D is the sum of
the rows with ``day <= D``; every day of the calendar is answered exactly. Rows exist for three
grains of roll-up — the province (``grain`` 2), each city (4) and each county (6): everything whose
region code starts with ``region_code`` — and, with ``grain`` 0, for records placed directly on a
province or city code (a city-level labor agency's post), so that children always add up.
`EmployerDayStat` holds the same kind of changes for each enterprise's and workshop's workers, so
that resumption and recognition (thresholds, per employer) are decided on the day asked for.
`web.services.summaries` builds and maintains them; `web.services.stats` defines the figures.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import CheckConstraint, Date, ForeignKey, Integer, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base

#: The figures a summary row carries (names as in web.services.stats.RegionStats).
SUMMARY_FIGURES = (
    "laborers_at_work",
    "at_work_opening",
    "at_work_batch",
    "at_work_welfare_post",
    "poor_at_work",
    "poor_at_work_opening",
    "poor_at_work_batch",
    "poor_at_work_welfare_post",
    "poor_households",
    "households_without_work",
    "welfare_posts",
    "welfare_posts_filled",
)


class RegionDayStat(Base):
    """How much each figure of a region changed on a day (undated counts sit on `ALWAYS_ON`)."""

    __tablename__ = "region_day_stat"
    __table_args__ = (CheckConstraint("grain IN (0, 2, 4, 6)", name="grain_allowed"),)

    grain: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    region_code: Mapped[str] = mapped_column(String(12), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    laborers_at_work: Mapped[int] = mapped_column(Integer, default=0)
    at_work_opening: Mapped[int] = mapped_column(Integer, default=0)
    at_work_batch: Mapped[int] = mapped_column(Integer, default=0)
    at_work_welfare_post: Mapped[int] = mapped_column(Integer, default=0)
    poor_at_work: Mapped[int] = mapped_column(Integer, default=0)
    poor_at_work_opening: Mapped[int] = mapped_column(Integer, default=0)
    poor_at_work_batch: Mapped[int] = mapped_column(Integer, default=0)
    poor_at_work_welfare_post: Mapped[int] = mapped_column(Integer, default=0)
    poor_households: Mapped[int] = mapped_column(Integer, default=0)
    households_without_work: Mapped[int] = mapped_column(Integer, default=0)
    welfare_posts: Mapped[int] = mapped_column(Integer, default=0)
    welfare_posts_filled: Mapped[int] = mapped_column(Integer, default=0)


class EmployerDayStat(Base):
    """How many workers (and poor workers) an enterprise or workshop gained or lost on a day."""

    __tablename__ = "employer_day_stat"

    employer_id: Mapped[int] = mapped_column(ForeignKey("employer.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    workers: Mapped[int] = mapped_column(Integer, default=0)
    poor_workers: Mapped[int] = mapped_column(Integer, default=0)
