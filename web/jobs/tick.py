"""Running the daily clocks (`web.services.tick`): from `jiuye tick` (cron), or on RQ's scheduler inside
`jiuye plan worker` when Redis is there.

`tick_day` runs every step for one day in one unit of work (all or nothing), then hands the texts it
queued to the sender in a unit of its own (a text goes out only for a change that was committed). On
workers, `schedule_daily` puts one job on RQ's scheduler for the next TICK_AT (deployment time); the job
runs the day and schedules the next. Several workers may call it: a Redis key per day lets only the
first schedule that day's job, and a second tick of a day would change nothing anyway.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from flask import Flask, current_app

from .. import clock
from ..extensions import db
from ..services import texts
from ..services import tick as tick_service
from ..unit_of_work import unit_of_work
from .plans import job_context, queue

SCHEDULED_KEY = "jiuye:tick:scheduled:"


def tick_day(day: date | None = None) -> dict[str, int]:
    """Run the clocks for `day` (default: today in the deployment's zone) and deliver the texts queued."""
    day = day or clock.today()
    with unit_of_work() as session:
        counts = tick_service.run(session, day)
    with unit_of_work() as session:
        sent, failed = texts.deliver_pending(session, texts.sender_from_config())
    counts["texts_sent"], counts["texts_failed"] = sent, failed
    return counts


def next_run_at(app: Flask, moment: datetime) -> datetime:
    """The next TICK_AT (local time of day) strictly after `moment`, as an aware datetime."""
    hours, minutes = (int(part) for part in str(app.config.get("TICK_AT") or "00:10").split(":"))
    local = clock.local(moment)
    candidate = datetime.combine(local.date(), time(hours, minutes), clock.zone())
    if candidate <= local:
        candidate += timedelta(days=1)
    return candidate


def schedule_daily(app: Flask, after: datetime | None = None) -> datetime | None:
    """Put the next daily tick on RQ's scheduler unless a worker already has; returns when it runs (None: already)."""
    at = next_run_at(app, after or clock.now())
    jobs = queue(app)
    if not jobs.connection.set(SCHEDULED_KEY + at.date().isoformat(), "1", nx=True, ex=3 * 86400):
        return None
    jobs.enqueue_at(at, daily_job)
    return at


def daily_job() -> dict[str, int]:
    """RQ's entry point: tick today, then schedule tomorrow's run."""
    with job_context() as app:
        counts = tick_day()
        db.session.remove()
        schedule_daily(app, clock.now())
        current_app.logger.info("daily tick: %s", counts)
        return counts
