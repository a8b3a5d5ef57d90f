"""Taking a slot: offers (eligibility and capacity re-checked under a row lock) and the placement lifecycle.

Capacity is counted from placements that hold a slot (offered, accepted, working) and re-checked
under row locks whenever a slot is taken, so two offices confirming at once cannot overbook. The
laborer's side is checked under a lock of the laborer's row: someone who has accepted an offer or is
at work gets no new one unless re-matching is asked for, and nobody holds more than
`max_live_offers` unanswered offers at once (`laborer_refusals`, shared with plan confirmation).
A posting carries at most its congestion cap of live offers (`web.services.caps`): a referral
(``proposed``, no slot held) or an offer beyond it is refused, naming the cap; a referral takes its
slot when it becomes an offer, capacity re-checked then.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.interfaces import ORMOption

from matcher import rules, scoring
from matcher.geo import haversine_km
from matcher.types import Config

from .. import clock
from ..config import DEFAULTS, setting
from ..errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationError, in_language, label_of
from ..models import (
    ANSWERED_STATUSES,
    CHANNEL_FK,
    CHANNEL_MODELS,
    COMMITTED_STATUSES,
    HOLDING_STATUSES,
    LIVE_OFFER_STATUSES,
    NEEDS_REASON,
    NO_ANSWER_REASON,
    TRANSITIONS,
    Employer,
    Laborer,
    MessageKind,
    Opening,
    Placement,
    PlacementEvent,
    PlacementStatus,
    TargetRow,
    TransportBatch,
    User,
)
from . import caps, inbox, post_requests, scope, texts, welfare
from .accounts import audit
from .convert import explanation_json, free_capacity, to_matcher_laborers, to_target
from .ranking import target_row
from .regions import in_region
from .savepoint import breaks_unique, savepoint


def lock_targets(session: Session, keys: Iterable[tuple[str, int]]) -> dict[tuple[str, int], TargetRow]:
    """Lock target rows (in a fixed order, so that concurrent confirms cannot deadlock) and return them."""
    locked: dict[tuple[str, int], TargetRow] = {}
    for kind, target_id in sorted(set(keys)):
        row = session.get(CHANNEL_MODELS[kind], target_id, with_for_update=True, populate_existing=True)
        if row is None:
            raise NotFoundError.of(kind, target_id)
        locked[(kind, target_id)] = cast(TargetRow, row)  # mypy joins a union of models to their Base
    return locked


#: Why a laborer may take no new offer now (English; the pages translate them through the catalog).
COMMITTED = "this laborer has accepted an offer or is at work; ask for a re-match to offer more"
TOO_MANY_OFFERS = "this laborer already holds as many unanswered offers as allowed; wait for an answer first"


def laborer_refusals(
    session: Session, laborer_ids: Iterable[int], *, max_live_offers: int, rematch: bool = False
) -> dict[int, str]:
    """Why each of these laborers may not take one more offer now; a laborer who may is absent.

    Lock the laborers' rows first (`lock_laborers`) so that two offers for one laborer are counted in turn.
    """
    ids = list(laborer_ids)
    if not ids:
        return {}
    held = session.execute(
        select(Placement.laborer_id, Placement.status, func.count())
        .where(Placement.laborer_id.in_(ids), Placement.status.in_(HOLDING_STATUSES))
        .group_by(Placement.laborer_id, Placement.status)
    ).all()
    refusals: dict[int, str] = {}
    for laborer_id, status, count in held:
        if status in COMMITTED_STATUSES and not rematch:
            refusals[laborer_id] = COMMITTED
        elif status == PlacementStatus.OFFERED and count >= max_live_offers:
            refusals.setdefault(laborer_id, TOO_MANY_OFFERS)
    return refusals


def lock_laborers(session: Session, laborer_ids: Iterable[int]) -> list[Laborer]:
    """Lock laborer rows in id order (after the targets, as every taker of a slot does) and return them."""
    return list(
        session.scalars(
            select(Laborer).where(Laborer.id.in_(sorted(set(laborer_ids)))).order_by(Laborer.id).with_for_update()
        )
    )


def _new_placement(
    laborer_row: Laborer,
    kind: str,
    target_id: int,
    by: User,
    *,
    score: float | None,
    distance_km: float | None,
    explanation: dict | None,
    plan_id: int | None = None,
    status: PlacementStatus = PlacementStatus.OFFERED,
) -> Placement:
    placement = Placement(
        laborer_id=laborer_row.id,
        household_id=laborer_row.household_id,
        status=status,
        # A referral is put to the employer as an offer is: both wait OFFER_ANSWER_DAYS, then lapse.
        offered_at=datetime.now(UTC),
        answer_by=answer_deadline(clock.today()),
        score=score,
        distance_km=distance_km,
        explanation=explanation,
        plan_id=plan_id,
        created_by_id=by.id,
        **{CHANNEL_FK[kind]: target_id},
    )
    placement.events.append(PlacementEvent(from_status=None, to_status=status, by_user_id=by.id))
    return placement


def answer_deadline(offered_on: date) -> date:
    """The last day an offer made on `offered_on` may be answered (OFFER_ANSWER_DAYS later)."""
    return offered_on + timedelta(days=int(setting("OFFER_ANSWER_DAYS")))


def _second_post(error: IntegrityError) -> ConflictError | None:
    """The refusal of the database's one-post-per-household index (any other IntegrityError is a bug)."""
    if not breaks_unique(error, Placement.household_id):
        return None
    return ConflictError(
        "this household already holds a welfare post",
        {"target": [_l("one household, one post: this household already holds a welfare post")]},
    )


def make_offer(
    session: Session,
    user: User,
    laborer_id: int,
    kind: str,
    target_id: int,
    config: Config,
    *,
    max_live_offers: int = DEFAULTS["MAX_LIVE_OFFERS"],
    rematch: bool = False,
    refer: bool = False,
    remote_addr: str | None = None,
) -> Placement:
    """Offer a laborer a target: eligibility, capacity, the posting's cap and the laborer's offers re-checked
    now, rows locked.

    `rematch` asks explicitly to offer work to someone who has accepted an offer or is at work. `refer`
    makes a referral instead (``proposed``: the employer hears of the laborer; no slot is held until it
    becomes an offer).
    """
    scope.require(user, "offers")
    laborer_row = scope.get_visible(session, Laborer, laborer_id, user)
    target_row(session, user, kind, target_id)  # visible to this user?
    locked = lock_targets(session, [(kind, target_id)])[(kind, target_id)]
    lock_laborers(session, [laborer_row.id])
    already = session.scalar(
        select(Placement.id).where(
            Placement.laborer_id == laborer_row.id,
            getattr(Placement, CHANNEL_FK[kind]) == target_id,
            Placement.status.in_({*HOLDING_STATUSES, *LIVE_OFFER_STATUSES}),
        )
    )
    if already:
        raise ConflictError("this laborer already holds an offer for this target")
    caps.refuse_beyond_cap(session, locked, config)
    refusal = laborer_refusals(session, [laborer_row.id], max_live_offers=max_live_offers, rematch=rematch)
    if refusal:
        message = refusal[laborer_row.id]
        raise ConflictError(message, {"laborer_id": [message]})
    (laborer,) = to_matcher_laborers(session, [laborer_row])
    target = to_target(kind, locked, free_capacity(session, locked))
    # The same great-circle distance the ranking used, so that an offer shown as eligible stays so.
    distance = min(float(haversine_km(laborer.lat, laborer.lon, lat, lon)) for lat, lon in target.points)
    reasons = rules.check(laborer, target, distance, config, rematch=rematch)
    if reasons:
        raise ConflictError(
            in_language("；".join(r.zh for r in reasons), "; ".join(r.en for r in reasons)),
            {"target": [r.zh + " / " + r.en for r in reasons]},
        )
    score = scoring.score(laborer, target, distance, config)
    placement = _new_placement(
        laborer_row,
        kind,
        target_id,
        user,
        score=score.total,
        distance_km=distance,
        explanation=explanation_json(score.codes),
        status=PlacementStatus.PROPOSED if refer else PlacementStatus.OFFERED,
    )
    with savepoint(session, on_integrity=_second_post):  # the one-post-per-household index has the last word
        session.add(placement)
        session.flush()
    action = "referral" if refer else "offer"
    audit(session, action, user=user, entity=placement, remote_addr=remote_addr, laborer_id=laborer_row.id)
    post_requests.answer_by_placements(session, [placement], user)  # a post offered answers the household's request
    return placement


def transition(
    session: Session,
    user: User,
    placement_id: int,
    to_status: str,
    *,
    note: str | None = None,
    max_live_offers: int = DEFAULTS["MAX_LIVE_OFFERS"],
    remote_addr: str | None = None,
) -> Placement:
    """Move a placement along its lifecycle (proposed → offered; offered → accepted | declined → working → ended).

    A referral becoming an offer is checked as an offer is: a free slot, and a laborer free to take it.
    """
    placement = scope.get_visible(session, Placement, placement_id, user, for_update=True)
    try:
        target = PlacementStatus(to_status)
    except ValueError:
        raise ValidationError.on("status", _l("unknown status %(status)s", status=to_status)) from None
    if target not in TRANSITIONS[placement.status]:
        raise ConflictError(
            _l(
                "a placement that is %(now)s cannot become %(then)s",
                now=LazyString(label_of, placement.status.value),
                then=LazyString(label_of, target.value),
            ),
            {"status": [_l("not allowed from %(now)s", now=LazyString(label_of, placement.status.value))]},
        )
    if not scope.may_step(user, target):
        raise PermissionDeniedError(_l("employers answer offers"))
    if target in NEEDS_REASON and not (note or "").strip():
        raise ValidationError.on("note", "say why (a reason is required)")
    if placement.status is PlacementStatus.PROPOSED and target is PlacementStatus.OFFERED:
        # A referral becoming an offer takes its slot now: capacity re-checked under the target's lock.
        locked = lock_targets(session, [(placement.channel.value, placement.target_id)])
        if free_capacity(session, next(iter(locked.values()))) < 1:
            raise ConflictError(_l("no free places left"), {"status": [_l("no free places left")]})
        lock_laborers(session, [placement.laborer_id])
        refusal = laborer_refusals(session, [placement.laborer_id], max_live_offers=max_live_offers)
        if refusal:
            message = refusal[placement.laborer_id]
            raise ConflictError(message, {"status": [message]})
    today = clock.today()
    placement.events.append(
        PlacementEvent(from_status=placement.status, to_status=target, by_user_id=user.id, note=note)
    )
    placement.status = target
    if target is PlacementStatus.OFFERED:  # a referral became an offer: its own answer clock starts
        placement.offered_at, placement.answer_by = datetime.now(UTC), answer_deadline(today)
        post_requests.answer_by_placements(session, [placement], user)
        with savepoint(session, on_integrity=_second_post):  # an offered welfare post holds the household's one
            session.flush()
    if target is PlacementStatus.DECLINED:
        placement.decline_reason = note
    elif target is PlacementStatus.WORKING:
        placement.started_on = today
        if placement.welfare_post_id is None:
            session.flush()
            # No two incomes from one post: a holder who starts other work leaves the post.
            welfare.end_posts_of_workers(session, today, laborer_ids=[placement.laborer_id])
    elif target is PlacementStatus.ENDED:
        placement.end_reason = note
        placement.ended_on = today
    session.flush()
    audit(session, f"placement_{target.value}", user=user, entity=placement, remote_addr=remote_addr)
    return placement


# -- the answer clock (issue 13, part 1) ---------------------------------------------------------


def _told_about(session: Session, placement: Placement) -> tuple[list[User], list[User]]:
    """Who hears about an offer: (the laborer's cadres and offices, the employer's users)."""
    laborer = placement.laborer
    village = laborer.household.village_code
    people = inbox.cadres_of_village(session, village) + inbox.offices_over(session, village)
    target = placement.opening or placement.batch
    employer_users = inbox.employer_users(session, target.employer_id) if target is not None else []
    return people, employer_users


def _offer_params(placement: Placement) -> dict[str, object]:
    target = placement.opening or placement.batch or placement.welfare_post
    return {
        "laborer": placement.laborer.name,
        "target": target.title if target is not None else "",
        "answer_by": placement.answer_by.isoformat() if placement.answer_by else None,
    }


def lapse_unanswered(session: Session, day: date) -> int:
    """Decline every offer (and referral) whose answer day has passed ("no answer in time"): the slot is
    freed, the laborer may be matched again, and the cadre, the office and the employer are told. Returns
    how many lapsed.

    Idempotent: a lapsed offer is no longer `offered`, so running again the same day finds nothing.
    """
    overdue = session.scalars(
        select(Placement)
        .where(Placement.status.in_(LIVE_OFFER_STATUSES), Placement.answer_by < day)
        .order_by(Placement.id)
        .with_for_update()
    ).all()
    for placement in overdue:
        placement.events.append(
            PlacementEvent(
                from_status=placement.status, to_status=PlacementStatus.DECLINED, by_user_id=None, note=NO_ANSWER_REASON
            )
        )
        placement.status = PlacementStatus.DECLINED
        placement.decline_reason = NO_ANSWER_REASON
        people, employer_users = _told_about(session, placement)
        inbox.notify(
            session,
            [*people, *employer_users],
            MessageKind.OFFER_LAPSED,
            params=_offer_params(placement),
            entity=placement,
            key=f"offer-lapsed:{placement.id}",
        )
        texts.queue_text(
            session,
            placement.laborer,
            lapse_text(placement),
            kind=MessageKind.OFFER_LAPSED,
            key=f"offer-lapsed:{placement.id}",
        )
        audit(session, "placement_lapsed", entity=placement, answer_by=str(placement.answer_by))
    session.flush()
    return len(overdue)


def lapse_text(placement: Placement) -> str:
    """The short Chinese text telling a laborer an offer lapsed and that the cadre will look again."""
    target = placement.opening or placement.batch or placement.welfare_post
    title = target.title if target is not None else "工作"
    return (
        f"{placement.laborer.name}您好：“{title}”的工作邀请到{placement.answer_by:%m月%d日}未获答复，已自动取消。"
        "村干部会继续为您找合适的工作。"
    )


def half_way_day(answer_by: date) -> date:
    """The day the employer is reminded of an offer due on `answer_by` (half of OFFER_ANSWER_DAYS before)."""
    return answer_by - timedelta(days=int(setting("OFFER_ANSWER_DAYS")) // 2)


def is_half_way(placement: Placement, day: date) -> bool:
    """Whether an offer still waiting on `day` is past half-way to its answer day (pages highlight it)."""
    return (
        placement.status is PlacementStatus.OFFERED
        and placement.answer_by is not None
        and day >= half_way_day(placement.answer_by)
    )


def remind_unanswered(session: Session, day: date) -> int:
    """Remind employers, half-way to the answer day, of each offer still waiting (once per offer)."""
    half = int(setting("OFFER_ANSWER_DAYS")) // 2  # the same half as half_way_day
    waiting = session.scalars(
        select(Placement)
        .where(
            Placement.status.in_(LIVE_OFFER_STATUSES),
            Placement.answer_by >= day,
            Placement.answer_by <= day + timedelta(days=half),
            (Placement.opening_id.is_not(None)) | (Placement.batch_id.is_not(None)),
        )
        .order_by(Placement.id)
    ).all()
    told = 0
    for placement in waiting:
        _people, employer_users = _told_about(session, placement)
        told += inbox.notify(
            session,
            employer_users,
            MessageKind.OFFER_REMINDER,
            params=_offer_params(placement),
            entity=placement,
            key=f"offer-reminder:{placement.id}",
        )
    return told


def waiting_offers(session: Session, user: User, *, load: Sequence[ORMOption] = ()) -> list[Placement]:
    """The offers waiting for this user's answer (an employer's own, within scope), soonest deadline first;
    ``load``: loader options for what the caller reads of each."""
    query = (
        scope.scoped(Placement, user)
        .where(Placement.status.in_(LIVE_OFFER_STATUSES))
        .order_by(Placement.answer_by.is_(None), Placement.answer_by, Placement.id)
        .options(*load)
    )
    return list(session.scalars(query))


# -- how employers answer (the office dashboard) --------------------------------------------------


@dataclass(frozen=True)
class EmployerAnswers:
    """How one employer answered the offers made to it: answered by a person, lapsed, still waiting."""

    employer_id: int
    employer_name: str
    offers: int
    answered: int
    lapsed: int
    waiting: int
    median_answer_hours: float | None

    @property
    def answer_rate_pct(self) -> float | None:
        """Answered by a person, of the offers no longer waiting (answered or lapsed), in percent."""
        settled = self.answered + self.lapsed
        return round(100 * self.answered / settled, 1) if settled else None


def _answer_events():
    """Per placement, the moment a person first answered its offer (accepted or declined; a lapse has no user)."""
    return (
        select(PlacementEvent.placement_id, func.min(PlacementEvent.at).label("answered_at"))
        .where(
            PlacementEvent.from_status == PlacementStatus.OFFERED,
            PlacementEvent.to_status.in_(ANSWERED_STATUSES),
            PlacementEvent.by_user_id.is_not(None),
        )
        .group_by(PlacementEvent.placement_id)
        .subquery()
    )


def answer_figures(session: Session, region_code: str) -> list[EmployerAnswers]:
    """Each employer of the region with offers made: answer rate and median answer time, busiest first.

    An offer is one with a clock (`offered_at`); answered = accepted or declined by a person, timed from
    `offered_at` to that event; lapsed = declined by the tick ("no answer in time").
    """
    answers = _answer_events()
    employer_id = func.coalesce(Opening.employer_id, TransportBatch.employer_id)
    offers_of = (
        select(Placement.id, employer_id.label("employer_id"), Placement.offered_at, answers.c.answered_at)
        .select_from(Placement)
        .outerjoin(Opening, Opening.id == Placement.opening_id)
        .outerjoin(TransportBatch, TransportBatch.id == Placement.batch_id)
        .outerjoin(answers, answers.c.placement_id == Placement.id)
        .add_columns(Placement.status, Placement.decline_reason)
        .where(Placement.offered_at.is_not(None), employer_id.is_not(None))
        .subquery()
    )
    lapsed = and_(offers_of.c.answered_at.is_(None), offers_of.c.decline_reason == NO_ANSWER_REASON)
    waiting = and_(offers_of.c.answered_at.is_(None), offers_of.c.status == PlacementStatus.OFFERED.value)

    def total(condition) -> Any:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    counts = session.execute(
        select(
            Employer.id,
            Employer.name,
            func.count(offers_of.c.id),
            func.count(offers_of.c.answered_at),
            total(lapsed),
            total(waiting),
        )
        .join(offers_of, offers_of.c.employer_id == Employer.id)
        .where(in_region(Employer.region_code, region_code))
        .group_by(Employer.id, Employer.name)
        .order_by(func.count(offers_of.c.id).desc(), Employer.id)
    ).all()
    hours: dict[int, list[float]] = {}
    for eid, offered_at, answered_at in session.execute(
        select(offers_of.c.employer_id, offers_of.c.offered_at, offers_of.c.answered_at)
        .join(Employer, Employer.id == offers_of.c.employer_id)
        .where(in_region(Employer.region_code, region_code), offers_of.c.answered_at.is_not(None))
    ):
        hours.setdefault(eid, []).append((_utc(answered_at) - _utc(offered_at)).total_seconds() / 3600)
    return [
        EmployerAnswers(
            eid,
            name,
            int(n),
            int(answered),
            int(n_lapsed),
            int(n_waiting),
            round(statistics.median(hours[eid]), 1) if eid in hours else None,
        )
        for eid, name, n, answered, n_lapsed, n_waiting in counts
    ]


def _utc(moment: datetime | str) -> datetime:
    """A moment read through a subquery (SQLite hands back its text) as an aware UTC datetime."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
