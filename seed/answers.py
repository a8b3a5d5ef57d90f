"""The demo's history after the match (issue 13, parts 1 and 2): two months of offers and their answers, and
households' requests for welfare posts with their receipts.

Offers: some answered by a person (accepted or declined, hours to days after they were made), some left to
lapse — the real clock (`offers.lapse_unanswered`) lapses them, tells the cadre, the office and the employer,
and queues the laborer's text — and some still waiting, a few past half-way (the employer is reminded, as the
tick would). Requests: some answered on time, some late (a post assigned or a refusal with a reason), some
still open, of which the old ones are overdue (`post_requests.mark_overdue`). Everything is drawn from the
demo's random generator, so a seed always gives the same history.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from web import clock
from web.config import setting
from web.models import (
    HOLDING_STATUSES,
    Laborer,
    Opening,
    Placement,
    PlacementEvent,
    PlacementStatus,
    PostRequest,
    PostRequestStatus,
    Role,
    User,
    UserVillage,
    WelfarePost,
)
from web.services import offers, post_requests

#: Why the demo's employers declined some offers, and why the office refused some requests.
DECLINES = ("岗位已招满", "试工后不合适", "本人已另找到工作")
REFUSALS = ("该户已有成员外出务工，收入稳定", "本村公益岗位已满，列入下一批", "劳动力年龄超出岗位要求")


def _moment(day: date, hours: float = 10.0) -> datetime:
    """A time of day `hours` after local midnight of `day`, in UTC."""
    local = datetime.combine(day, time(0, 0), clock.zone()) + timedelta(hours=hours)
    return local.astimezone(UTC)


def seed_answers(
    session: Session, laborers: list[Laborer], openings: list[Opening], posts: list[WelfarePost], today: date, rng
) -> dict[str, int]:
    """Seed the offers and the requests; returns how many of each."""
    office = session.scalars(select(User).where(User.role == Role.OFFICE).order_by(User.id)).first()
    cadre = session.scalars(select(User).where(User.role == Role.CADRE).order_by(User.id)).first()
    if office is None:  # the demo always has its office; without one there is nobody to have made offers
        return {"offers": 0, "post_requests": 0}
    cadre_villages = set(
        session.scalars(select(UserVillage.village_code).where(UserVillage.user_id == cadre.id)) if cadre else []
    )
    seeking = [lab for lab in laborers if str(lab.status) == "seeking"]
    rng.shuffle(seeking)
    # The demo cadre's villages first, so that their home shows offers waiting and lapsed.
    seeking.sort(key=lambda lab: lab.household.village_code not in cadre_villages)
    made = _offers(session, seeking[:45], openings, office, today, rng)
    taken = {lab.id for lab in seeking[:45]}
    requests = _requests(
        session, [lab for lab in seeking if lab.id not in taken], posts, office, cadre, cadre_villages, today, rng
    )
    session.flush()
    offers.lapse_unanswered(session, today)
    offers.remind_unanswered(session, today)
    post_requests.mark_overdue(session, today)
    return {"offers": made, "post_requests": requests}


def _employer_user(session: Session, employer_id: int, fallback: User) -> User:
    user = session.scalars(select(User).where(User.employer_id == employer_id).order_by(User.id)).first()
    return user or fallback


def _offers(session: Session, laborers: list[Laborer], openings: list[Opening], office: User, today: date, rng) -> int:
    days = int(setting("OFFER_ANSWER_DAYS"))
    own = [o for o in openings if o.employer_id == openings[0].employer_id]  # the demo employer's
    touched: dict[int, Opening] = {}
    for laborer in laborers:
        offered_on = today - timedelta(days=rng.randint(0, 40))
        # Most offers still waiting are the demo employer's, so that its home has some to answer.
        recent = offered_on > today - timedelta(days=days)
        opening = rng.choice(own) if rng.random() < (0.8 if recent else 0.4) else rng.choice(openings)
        touched[opening.id] = opening
        offered_at = _moment(offered_on, rng.uniform(8, 17))
        placement = Placement(
            laborer_id=laborer.id,
            household_id=laborer.household_id,
            opening_id=opening.id,
            status=PlacementStatus.OFFERED,
            offered_at=offered_at,
            answer_by=offered_on + timedelta(days=days),
            created_by_id=office.id,
            created_at=offered_at,
            events=[PlacementEvent(to_status=PlacementStatus.OFFERED, by_user_id=office.id, at=offered_at)],
        )
        if offered_on <= today - timedelta(days=days):
            # Settled by now: answered by a person, or left to lapse (the clock lapses those below).
            outcome = rng.choices(["accepted", "declined", "lapse"], weights=[50, 20, 30])[0]
            if outcome != "lapse":
                by = _employer_user(session, opening.employer_id, office)
                at = offered_at + timedelta(hours=rng.uniform(1, 24 * days - 12))
                status = PlacementStatus(outcome)
                note = rng.choice(DECLINES) if status is PlacementStatus.DECLINED else None
                placement.events.append(
                    PlacementEvent(
                        from_status=PlacementStatus.OFFERED, to_status=status, by_user_id=by.id, at=at, note=note
                    )
                )
                placement.status, placement.decline_reason = status, note
        session.add(placement)
    session.flush()
    # Seeded offers hold slots like any others: make room so that none overbooks.
    for opening in touched.values():
        held = session.scalar(
            select(func.count(Placement.id)).where(
                Placement.opening_id == opening.id, Placement.status.in_(HOLDING_STATUSES)
            )
        )
        session.execute(
            update(Opening).where(Opening.id == opening.id).values(slots=max(opening.slots, (held or 0) + 1))
        )
    return len(laborers)


def _requests(
    session: Session,
    laborers: list[Laborer],
    posts: list[WelfarePost],
    office: User,
    cadre: User | None,
    cadre_villages: set[str],
    today: date,
    rng: random.Random,
) -> int:
    """Requests of poor local households without a post, one per household, over the last 75 days."""
    holdings = session.execute(
        select(Placement.welfare_post_id, Placement.household_id).where(
            Placement.welfare_post_id.is_not(None), Placement.status.in_(HOLDING_STATUSES)
        )
    ).all()
    held = {post_id for post_id, _household in holdings}
    free_posts = [post for post in posts if post.id not in held]
    # One household, one post: households holding one already (the welfare months' holders) ask for none.
    households: set[int] = {household for _post, household in holdings}
    chosen = []
    for laborer in laborers:
        if str(laborer.work_area) == "local" and laborer.household.is_poor and laborer.household_id not in households:
            households.add(laborer.household_id)
            chosen.append(laborer)
        if len(chosen) == 30:
            break
    made = sorted(
        ((today - timedelta(days=rng.randint(0, 75)), laborer) for laborer in chosen), key=lambda x: (x[0], x[1].id)
    )
    seq: dict[int, int] = {}
    for requested_on, laborer in made:
        seq[requested_on.year] = seq.get(requested_on.year, 0) + 1
        in_cadres = laborer.household.village_code in cadre_villages
        row = PostRequest(
            household_id=laborer.household_id,
            laborer_id=laborer.id,
            county_code=laborer.household.village_code[:6],
            receipt_year=requested_on.year,
            receipt_seq=seq[requested_on.year],
            requested_on=requested_on,
            due_on=post_requests.due_day(requested_on),
            note=rng.choice([None, None, "家中无其他劳动力", "只能做轻活", "需照顾老人，不能外出"]),
            status=PostRequestStatus.PENDING,
            recorded_by_id=(cadre.id if in_cadres and cadre else office.id),
            recorded_at=_moment(requested_on, rng.uniform(9, 17)),
        )
        age = (today - requested_on).days
        # Answered after some days: mostly within the 15, some late; the rest stay open (the old ones overdue).
        answer_after = rng.choices([rng.randint(2, 14), rng.randint(16, 40), None], weights=[50, 25, 25])[0]
        if answer_after is not None and answer_after < age:
            answered_on = requested_on + timedelta(days=answer_after)
            row.answered_on, row.answered_at, row.answered_by_id = answered_on, _moment(answered_on, 15), office.id
            if free_posts and rng.random() < 0.6:
                post = free_posts.pop(0)
                row.status, row.placement = (
                    PostRequestStatus.ASSIGNED,
                    _assigned(laborer, post, office, answered_on, today),
                )
            else:
                row.status, row.refusal_reason = PostRequestStatus.REFUSED, rng.choice(REFUSALS)
        session.add(row)
    return len(made)


def _assigned(laborer: Laborer, post: WelfarePost, office: User, on: date, today: date) -> Placement:
    """The welfare post that answered a request: offered that day, accepted, at work a few days later."""
    offered_at = _moment(on, 15)
    started_on = min(on + timedelta(days=3), today)
    events = [
        PlacementEvent(to_status=PlacementStatus.OFFERED, by_user_id=office.id, at=offered_at),
        PlacementEvent(
            from_status=PlacementStatus.OFFERED, to_status=PlacementStatus.ACCEPTED, by_user_id=office.id, at=offered_at
        ),
        PlacementEvent(
            from_status=PlacementStatus.ACCEPTED,
            to_status=PlacementStatus.WORKING,
            by_user_id=office.id,
            at=_moment(started_on, 9),
        ),
    ]
    return Placement(
        laborer_id=laborer.id,
        household_id=laborer.household_id,
        welfare_post_id=post.id,
        status=PlacementStatus.WORKING,
        offered_at=offered_at,
        answer_by=on + timedelta(days=int(setting("OFFER_ANSWER_DAYS"))),
        started_on=started_on,
        created_by_id=office.id,
        events=events,
    )
