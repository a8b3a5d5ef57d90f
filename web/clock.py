"""The deployment's clock: today and now in its time zone (DESIGN §2, *Time*).

Every date a person sees or a rule uses (a placement's first day, a report's day, a form's default,
a check-in falling due) is `today()` in the deployment's time zone, so that pages and records agree
at any hour: in China a UTC date is yesterday's until 08:00. The zone is configuration
(``JIUYE_TIMEZONE`` → the ``TIMEZONE`` config key, default Asia/Shanghai; Flask-Babel's
``BABEL_DEFAULT_TIMEZONE`` follows it). Moments are *stored* in UTC (`web.models.base.utcnow`).

`now()` is the one source of the current moment here; a test freezes the clock by monkeypatching
it (``monkeypatch.setattr(clock, "now", ...)``) and `today()` follows.
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context

DEFAULT_TIMEZONE = "Asia/Shanghai"


def zone_name() -> str:
    """The deployment's time zone name: the app's TIMEZONE, else JIUYE_TIMEZONE, else Asia/Shanghai."""
    if has_app_context():
        return current_app.config.get("TIMEZONE") or DEFAULT_TIMEZONE
    return os.environ.get("JIUYE_TIMEZONE") or DEFAULT_TIMEZONE


def zone() -> ZoneInfo:
    """The deployment's time zone (ZoneInfo caches one object per name)."""
    return ZoneInfo(zone_name())


def now() -> datetime:
    """The current moment in the deployment's time zone (timezone-aware)."""
    return datetime.now(UTC).astimezone(zone())


def today() -> date:
    """Today's date in the deployment's time zone."""
    return now().date()


def local(moment: datetime) -> datetime:
    """A stored moment in the deployment's time zone; a naive one is read as UTC (SQLite forgets zones)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(zone())


def local_date(moment: datetime) -> date:
    """The deployment's calendar day of a stored moment (a coach leaving at 07:30 leaves that day)."""
    return local(moment).date()


def start_of(day: date) -> datetime:
    """The UTC moment the deployment's day `day` begins (for searching stored moments by day)."""
    return datetime.combine(day, time.min, zone()).astimezone(UTC)


def as_utc(wall: datetime) -> datetime:
    """A wall-clock time typed in the deployment's zone (naive) as the UTC moment to store."""
    if wall.tzinfo is None:
        wall = wall.replace(tzinfo=zone())
    return wall.astimezone(UTC)
