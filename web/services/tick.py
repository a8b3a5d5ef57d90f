"""The daily clocks (issue 13, part 8): one idempotent job that applies lapses, overdue marks, flags and
reminders for a day.

`run` calls each step of `STEPS` in order, in the caller's transaction (`jiuye tick` and the worker's
scheduled job each run it in one unit of work): a step that fails rolls the whole day back, so a fault in
the middle leaves nothing half-applied, and the next run does the day again. Every step is idempotent by
construction — it acts only on what is still due on that day (an offer still `offered` after its answer
day, a reminder not yet sent, keyed messages) — so running the tick twice in a day changes nothing the
second time; `TickRun` records each run and what each step changed.

A step is a function ``(session, day) -> int`` (how many things it changed). Add a clock by writing its
function beside the records it changes, in the service that owns them, and naming it here.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import TickRun
from . import offers, post_requests, transport, verifications, watch, welfare

Step = Callable[[Session, date], int]

#: The clocks, in the order they run: lapses before the reminders and flags that follow from them.
STEPS: tuple[tuple[str, Step], ...] = (
    ("offers_lapsed", offers.lapse_unanswered),
    ("offer_reminders", offers.remind_unanswered),
    ("welfare_other_work", welfare.end_posts_of_workers),
    ("welfare_terms_ending", welfare.warn_terms_ending),
    ("post_requests_overdue", post_requests.mark_overdue),
    ("subsidy_claims_due", transport.create_due_claims),
    # After the steps that end work (lapses, posts left for other work): the households they leave without.
    ("households_flagged", watch.raise_flags),
    ("follow_ups_overdue", watch.mark_overdue),
    ("verifications_expired", verifications.notify_expired),
)


def run(session: Session, day: date) -> dict[str, int]:
    """Run every clock for `day` and record the run; returns what each step changed."""
    record = TickRun(day=day, started_at=datetime.now(UTC))
    session.add(record)
    counts: dict[str, int] = {}
    for name, step in STEPS:
        counts[name] = int(step(session, day))
    record.counts = counts
    record.finished_at = datetime.now(UTC)
    session.flush()
    return counts


def last_run(session: Session) -> TickRun | None:
    """The latest finished run (the office home says when the clocks last ran)."""
    query = select(TickRun).where(TickRun.finished_at.is_not(None)).order_by(TickRun.id.desc()).limit(1)
    return session.scalar(query)
