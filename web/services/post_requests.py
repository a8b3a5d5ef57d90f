"""Households' requests for a welfare post, with a dated receipt (issue 13, part 2).

A cadre records that a household asked for a welfare post (which laborer, on which day, a note); the
request gets a receipt number — county code, year, a sequence within them (``141030-2026-00012``) —
taken under a lock of the county's row, so two cadres recording at once never share a number (the
unique key is the backstop). The request is due `POST_REQUEST_DAYS` after the day it was made, as
MGNREGA owes work within 15 days of a dated request.

It is answered, with who and when, in one of two ways: a welfare post is offered to someone of the
household (the existing offer path, `offers.make_offer` or a confirmed plan, calls `answer_by_placements`),
or an office refuses it with a reason. The daily tick (`mark_overdue`) marks each request still open after
its due day overdue, once, and tells the office and the cadre. A household has at most one open request
(a partial unique index); the figures of the dashboard (`figures`) count open, overdue and the share
answered on time.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, Select, and_, case, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .. import clock
from ..config import setting
from ..errors import ConflictError, ValidationError
from ..models import (
    Household,
    Laborer,
    MessageKind,
    Placement,
    PlacementStatus,
    PostRequest,
    PostRequestStatus,
    Region,
    User,
)
from . import inbox, scope
from .accounts import audit
from .regions import in_region
from .savepoint import breaks_unique, savepoint

#: The longest a note may be (a sentence or two, printed on the receipt).
NOTE_MAX = 500


def due_day(requested_on: date) -> date:
    """The last day a request made on `requested_on` is answered on time."""
    return requested_on + timedelta(days=int(setting("POST_REQUEST_DAYS")))


def _one_open(error: IntegrityError) -> ConflictError | None:
    if not breaks_unique(error, PostRequest.household_id):
        return None
    return ConflictError(
        _l("this household already has an open request for a welfare post"),
        {"laborer_id": [_l("this household already has an open request for a welfare post")]},
    )


def _next_seq(session: Session, county: str, year: int) -> int:
    """The next receipt sequence of the county and year; the caller holds the county's row lock."""
    last = session.scalar(
        select(func.max(PostRequest.receipt_seq)).where(
            PostRequest.county_code == county, PostRequest.receipt_year == year
        )
    )
    return int(last or 0) + 1


def record_request(
    session: Session,
    user: User,
    laborer_id: int,
    *,
    requested_on: date | None = None,
    note: str | None = None,
    remote_addr: str | None = None,
) -> PostRequest:
    """Record a household's request for a welfare post, made by (or for) this laborer; it gets its receipt."""
    scope.require(user, "post_requests")
    laborer = scope.get_visible(session, Laborer, laborer_id, user)
    household = laborer.household
    today = clock.today()
    requested_on = requested_on or today
    if requested_on > today:
        raise ValidationError.on("requested_on", _l("the day of the request cannot be in the future"))
    if requested_on < today - timedelta(days=366):
        raise ValidationError.on("requested_on", _l("the day of the request is more than a year ago"))
    note = (note or "").strip() or None
    if note is not None and len(note) > NOTE_MAX:
        raise ValidationError.on("note", _l("at most %(n)s characters", n=NOTE_MAX))
    county = household.village_code[:6]
    session.get(Region, county, with_for_update=True)  # numbers of one county are taken in turn
    row = PostRequest(
        household_id=household.id,
        laborer_id=laborer.id,
        county_code=county,
        receipt_year=requested_on.year,
        receipt_seq=_next_seq(session, county, requested_on.year),
        requested_on=requested_on,
        due_on=due_day(requested_on),
        note=note,
        status=PostRequestStatus.PENDING,
        recorded_by_id=user.id,
    )
    with savepoint(session, on_integrity=_one_open):
        session.add(row)
        session.flush()
    audit(
        session,
        "post_request_recorded",
        user=user,
        entity=row,
        remote_addr=remote_addr,
        receipt=row.receipt_no,
        laborer_id=laborer.id,
        household_id=household.id,
    )
    return row


def read_request(session: Session, user: User, request_id: int, remote_addr: str | None = None) -> PostRequest:
    """One request (a household's record: the read is audited)."""
    scope.require(user, "post_requests")
    row = scope.get_visible(session, PostRequest, request_id, user)
    audit(session, "read", user=user, entity=row, remote_addr=remote_addr, receipt=row.receipt_no)
    return row


def overdue_clause(day: date) -> ColumnElement[bool]:
    """Where-clause: still open after its due day."""
    return and_(PostRequest.status == PostRequestStatus.PENDING, PostRequest.due_on < day)


def requests_query(user: User, *, status: str | None = None, overdue: bool = False) -> Select:
    """The requests the user may see, oldest first (the office answers them in that order)."""
    scope.require(user, "post_requests")
    query = scope.scoped(PostRequest, user)
    if status:
        query = query.where(PostRequest.status == PostRequestStatus(status))
    if overdue:
        query = query.where(overdue_clause(clock.today()))
    return query.order_by(PostRequest.requested_on, PostRequest.id)


def _told(session: Session, row: PostRequest) -> tuple[list[User], list[User]]:
    """(the household's cadres, the offices over its village)."""
    village = row.household.village_code
    return inbox.cadres_of_village(session, village), inbox.offices_over(session, village)


def _params(row: PostRequest) -> dict[str, object]:
    return {
        "receipt": row.receipt_no,
        "laborer": row.laborer.name,
        "household": row.household.code,
        "due_on": row.due_on.isoformat(),
    }


def _answer(session: Session, row: PostRequest, user: User, status: PostRequestStatus) -> None:
    row.status = status
    row.answered_on = clock.today()
    row.answered_at = datetime.now(UTC)
    row.answered_by_id = user.id
    cadres, _offices = _told(session, row)
    inbox.notify(
        session,
        cadres,
        MessageKind.POST_REQUEST_ANSWERED,
        params={**_params(row), "answer": status.value},
        entity=row,
        key=f"post-request-answered:{row.id}",
    )


def refuse(
    session: Session, user: User, request_id: int, reason: str | None, *, remote_addr: str | None = None
) -> PostRequest:
    """An office refuses a request, saying why; the refusal answers it (the cadre is told)."""
    scope.require(user, "answer_post_requests")
    row = scope.get_visible(session, PostRequest, request_id, user, for_update=True)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError.on("reason", "say why (a reason is required)")
    if len(reason) > NOTE_MAX:
        raise ValidationError.on("reason", _l("at most %(n)s characters", n=NOTE_MAX))
    if row.status is not PostRequestStatus.PENDING:
        raise ConflictError(
            _l("request %(receipt)s was already answered", receipt=row.receipt_no),
            {"status": [_l("already answered")]},
        )
    row.refusal_reason = reason
    _answer(session, row, user, PostRequestStatus.REFUSED)
    session.flush()
    audit(session, "post_request_refused", user=user, entity=row, remote_addr=remote_addr, receipt=row.receipt_no)
    return row


def answer_by_placements(session: Session, placements: Iterable[Placement], user: User) -> int:
    """Welfare posts offered to these placements' households answer their open requests; returns how many.
    (A referral is not an answer yet: it answers when it becomes an offer.)"""
    by_household = {
        p.household_id: p for p in placements if p.welfare_post_id is not None and p.status is PlacementStatus.OFFERED
    }
    if not by_household:
        return 0
    rows = session.scalars(
        select(PostRequest)
        .where(PostRequest.household_id.in_(by_household), PostRequest.status == PostRequestStatus.PENDING)
        .order_by(PostRequest.id)
        .with_for_update()
    ).all()
    for row in rows:
        row.placement_id = by_household[row.household_id].id
        _answer(session, row, user, PostRequestStatus.ASSIGNED)
        audit(
            session,
            "post_request_assigned",
            user=user,
            entity=row,
            receipt=row.receipt_no,
            placement_id=row.placement_id,
        )
    session.flush()
    return len(rows)


def mark_overdue(session: Session, day: date) -> int:
    """The tick's step: mark each request still open after its due day overdue, once, telling the office and
    the cadre. Idempotent: a request marked overdue is not marked again."""
    rows = session.scalars(
        select(PostRequest)
        .where(overdue_clause(day), PostRequest.overdue_on.is_(None))
        .order_by(PostRequest.id)
        .with_for_update()
    ).all()
    for row in rows:
        row.overdue_on = day
        cadres, offices = _told(session, row)
        inbox.notify(
            session,
            [*cadres, *offices],
            MessageKind.POST_REQUEST_OVERDUE,
            params=_params(row),
            entity=row,
            key=f"post-request-overdue:{row.id}",
        )
        audit(session, "post_request_overdue", entity=row, receipt=row.receipt_no, due_on=str(row.due_on))
    session.flush()
    return len(rows)


@dataclass(frozen=True)
class RequestFigures:
    """A region's requests for welfare posts on a day (the dashboard's)."""

    requests: int
    open: int
    overdue: int
    answered: int
    answered_on_time: int

    @property
    def on_time_pct(self) -> float | None:
        """Share of the answered requests answered on time, in percent (None before any answer)."""
        return round(100 * self.answered_on_time / self.answered, 1) if self.answered else None


def figures(session: Session, region_code: str, day: date) -> RequestFigures:
    """Counts of the region's requests made by `day`, as they stood on `day`, in one query."""
    answered = and_(PostRequest.answered_on.is_not(None), PostRequest.answered_on <= day)
    count = func.count(PostRequest.id)

    def when(condition: ColumnElement[bool]) -> ColumnElement[int]:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    row = session.execute(
        select(
            count,
            when(~answered),
            when(and_(~answered, PostRequest.due_on < day)),
            when(answered),
            when(and_(answered, PostRequest.answered_on <= PostRequest.due_on)),
        )
        .join(Household, Household.id == PostRequest.household_id)
        .where(in_region(Household.village_code, region_code), PostRequest.requested_on <= day)
    ).one()
    return RequestFigures(*(int(v) for v in row))
