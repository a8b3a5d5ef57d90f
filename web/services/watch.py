"""The watch on households slipping back (issue 13, part 5): flags, the cadre's follow-up visit, counts.

*Why a flag.* A poor household is flagged when it is without work on the day (the one definition,
`stats.poor_household_without_work`) and either its last working member's placement ended (a welfare
post's end is told apart: the post's term ended with no other work) within `WATCH_DAYS`, or it has
been without work for `WATCH_DAYS` (since its last placement ended, or since it was registered). A flag
opens a `FollowUp` with a `FOLLOW_UP_DAYS` clock for the cadre's visit; a follow-up not visited by its
due day is marked overdue once. Both are steps of the daily tick (`web.services.tick`).

*Why it is idempotent.* The database holds one open follow-up per household; an ending already
answered by a flag (ended before the latest flag) raises no new one; a household whose follow-up was
closed is flagged again for staying without work only `WATCH_DAYS` after the closing; an overdue mark
is set once. Running the tick twice on a day therefore changes nothing the second time.

*What a flag does.* The cadre and the office hear of it (`web.services.inbox`); while open, the
household's laborers come first among the poor in plans and candidate lists (the matcher's
`household_flagged`, read in `web.services.convert`); the cadre's home lists open follow-ups first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, and_, exists, func, select
from sqlalchemy.orm import Session, selectinload

from .. import clock
from ..config import setting
from ..errors import ConflictError, ValidationError
from ..models import (
    AT_WORK_STATUSES,
    FollowUp,
    Household,
    MessageKind,
    Placement,
    Region,
    User,
    VisitOutcome,
    WatchReason,
)
from ..validation import parse_day
from . import inbox, scope
from .accounts import audit
from .regions import in_region
from .stats import poor_household_without_work

#: The states a list of follow-ups is filtered by.
FOLLOW_UP_STATES = ("open", "overdue", "closed", "all")


def open_follow_up() -> Any:
    """Where-clause on Household: it has an open follow-up (it is under watch)."""
    return exists().where(FollowUp.household_id == Household.id, FollowUp.closed_on.is_(None))


def _tell(session: Session, follow_up: FollowUp, kind: MessageKind, key: str) -> int:
    household = follow_up.household
    village = household.village_code
    people = inbox.cadres_of_village(session, village) + inbox.offices_over(session, village)
    params = {"household": household.code, "head": household.head_name, "due_on": follow_up.due_on.isoformat()}
    return inbox.notify(session, people, kind, params=params, entity=follow_up, key=key)


def raise_flags(session: Session, day: date) -> int:
    """Flag the poor households that lost their work or stayed without it too long; returns how many."""
    watch_days = int(setting("WATCH_DAYS"))
    horizon = day - timedelta(days=watch_days)
    ended = and_(Placement.household_id == Household.id, Placement.status.in_(AT_WORK_STATUSES))
    last_end = select(func.max(Placement.ended_on)).where(ended, Placement.ended_on <= day).scalar_subquery()
    flags = select(FollowUp.household_id).where(FollowUp.household_id == Household.id)
    last_flag = flags.with_only_columns(func.max(FollowUp.flagged_on)).scalar_subquery()
    last_closed = flags.with_only_columns(func.max(FollowUp.closed_on)).scalar_subquery()
    candidates = session.execute(
        select(Household.id, Household.created_at, last_end, last_flag, last_closed)
        .where(poor_household_without_work(day), ~open_follow_up())
        .order_by(Household.id)
    ).all()
    due: dict[int, WatchReason] = {}
    endings: list[int] = []
    for household_id, created_at, end, flagged, closed in candidates:
        if end is not None and end >= horizon and (flagged is None or end > flagged):
            endings.append(household_id)
        elif (end or clock.local_date(created_at)) <= horizon and (closed is None or closed <= horizon):
            due[household_id] = WatchReason.LONG_WITHOUT_WORK
    for start in range(0, len(endings), 10_000):
        chunk = endings[start : start + 10_000]
        # The household's latest ending tells the reason: a welfare post's term, or a job.
        latest = session.execute(
            select(Placement.household_id, Placement.welfare_post_id)
            .where(Placement.household_id.in_(chunk), Placement.status.in_(AT_WORK_STATUSES), Placement.ended_on <= day)
            .order_by(Placement.household_id, Placement.ended_on, Placement.id)
        ).all()
        for household_id, post_id in latest:  # the last row of each household wins
            due[household_id] = WatchReason.POST_TERM_ENDED if post_id else WatchReason.LAST_WORKER_ENDED
    clock_days = timedelta(days=int(setting("FOLLOW_UP_DAYS")))
    rows = [
        FollowUp(household_id=household_id, reason=reason, flagged_on=day, due_on=day + clock_days)
        for household_id, reason in sorted(due.items())
    ]
    session.add_all(rows)
    session.flush()
    for row in rows:
        _tell(session, row, MessageKind.HOUSEHOLD_FLAGGED, f"follow-up-flagged:{row.id}")
        audit(session, "follow_up_opened", entity=row, household_id=row.household_id, reason=row.reason.value)
    return len(rows)


def mark_overdue(session: Session, day: date) -> int:
    """Mark, once, the open follow-ups whose visit is past its due day; the cadre and the office are told."""
    late = session.scalars(
        select(FollowUp)
        .where(
            FollowUp.closed_on.is_(None),
            FollowUp.visited_on.is_(None),
            FollowUp.due_on < day,
            FollowUp.overdue_on.is_(None),
        )
        .options(selectinload(FollowUp.household))
        .order_by(FollowUp.id)
    ).all()
    for row in late:
        row.overdue_on = day
        _tell(session, row, MessageKind.FOLLOW_UP_OVERDUE, f"follow-up-overdue:{row.id}")
    session.flush()
    return len(late)


# -- reading ----------------------------------------------------------------------------------------


def follow_ups(user: User, state: str = "open", day: date | None = None, region: str | None = None) -> Select:
    """The follow-ups the user may see in a state, overdue first, then by due day (a select for paging)."""
    if state not in FOLLOW_UP_STATES:
        raise ValidationError.on("state", _l("one of: %(choices)s", choices=", ".join(FOLLOW_UP_STATES)))
    day = day or clock.today()
    query = scope.scoped(FollowUp, user).join(Household, Household.id == FollowUp.household_id)
    if state == "open":
        query = query.where(FollowUp.closed_on.is_(None))
    elif state == "overdue":
        query = query.where(FollowUp.closed_on.is_(None), FollowUp.visited_on.is_(None), FollowUp.due_on < day)
    elif state == "closed":
        query = query.where(FollowUp.closed_on.is_not(None))
    if region:
        query = query.where(scope.region_filter(Household, region))
    return query.options(selectinload(FollowUp.household).selectinload(Household.village)).order_by(
        FollowUp.closed_on.is_not(None), FollowUp.visited_on.is_not(None), FollowUp.due_on, FollowUp.id
    )


@dataclass(frozen=True)
class TownshipWatch:
    """Open flags and overdue follow-ups of one township."""

    code: str
    name: str
    open_flags: int
    overdue: int


def by_township(session: Session, prefix: str, day: date, user: User | None = None) -> list[TownshipWatch]:
    """Open flags and overdue follow-ups per township of a region (within the user's scope when given)."""
    township = func.substr(Household.village_code, 1, 9)
    overdue = and_(FollowUp.visited_on.is_(None), FollowUp.due_on < day)
    query = (
        select(township, func.count(FollowUp.id), func.count(FollowUp.id).filter(overdue))
        .join(Household, Household.id == FollowUp.household_id)
        .where(FollowUp.closed_on.is_(None), in_region(Household.village_code, prefix))
        .group_by(township)
        .order_by(township)
    )
    if user is not None:
        query = query.where(scope.visible(FollowUp, user))
    counts = session.execute(query).all()
    codes = [code for code, *_ in counts]
    names = dict(session.execute(select(Region.code, Region.name).where(Region.code.in_(codes))).all())
    return [TownshipWatch(code, names.get(code, code), int(n), int(late)) for code, n, late in counts]


# -- the visit ----------------------------------------------------------------------------------------


def record_visit(
    session: Session,
    user: User,
    follow_up_id: int,
    data: dict[str, Any],
    *,
    remote_addr: str | None = None,
) -> FollowUp:
    """Record the cadre's visit (day, outcome, note) and, when asked, close the follow-up."""
    row = scope.get_visible(session, FollowUp, follow_up_id, user, for_update=True)
    scope.check_role(FollowUp, user, scope.UPDATE_ROLES)
    if row.closed_on is not None:
        raise ConflictError(_l("this follow-up is closed"))
    errors: dict[str, list[Any]] = {}
    today = clock.today()
    visited_on = data.get("visited_on") or today
    if isinstance(visited_on, str):
        try:
            visited_on = parse_day(visited_on)
        except ValueError as exc:
            errors["visited_on"] = [exc.args[0]]
    if isinstance(visited_on, date) and not errors.get("visited_on"):
        if visited_on > today:
            errors["visited_on"] = [_l("a visit cannot be in the future")]
        elif visited_on < row.flagged_on:
            errors["visited_on"] = [_l("a visit cannot be before the flag (%(day)s)", day=row.flagged_on.isoformat())]
    try:
        outcome = VisitOutcome(data.get("outcome") or "")
    except ValueError:
        errors["outcome"] = [_l("choose what the visit found")]
    if errors:
        raise ValidationError(_l("the visit was not recorded"), errors)
    row.visited_on, row.outcome = visited_on, outcome
    row.note = (data.get("note") or "").strip() or None
    row.visited_by_id = user.id
    if data.get("close"):
        row.closed_on = today
    session.flush()
    audit(
        session,
        "follow_up_closed" if row.closed_on else "follow_up_visited",
        user=user,
        entity=row,
        remote_addr=remote_addr,
        household_id=row.household_id,
        outcome=outcome.value,
    )
    return row


def is_watched(session: Session, household_id: int) -> FollowUp | None:
    """The household's open follow-up, if it is under watch."""
    return session.scalar(select(FollowUp).where(FollowUp.household_id == household_id, FollowUp.closed_on.is_(None)))


def watched_first(query: Select) -> Select:
    """Order a Household select with the households under watch first (the cadre's lists)."""
    return query.order_by(~open_follow_up())
