"""Demo history of welfare posts month by month (issue 13, part 3): attendance of the last months for
every holder, holders in each of the demo cadre's villages, terms ending soon, and a few flags.

Deterministic with the demo's random generator; called once from `seed.demo.seed_demo`.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from web.models import (
    POOR_STATUSES,
    Household,
    Laborer,
    LaborerStatus,
    Opening,
    Placement,
    PlacementEvent,
    Region,
    WelfareAttendance,
    WelfarePost,
)
from web.services import welfare

#: The demo cadre's villages (seed.demo._users): each gets holders so that the attendance form has people.
CADRE_VILLAGES = ("安古村", "白村", "罗曲村")
#: How many months before the current one carry attendance.
MONTHS = 4


def seed_welfare_months(
    session: Session,
    villages: dict[str, Region],
    posts: list[WelfarePost],
    openings: list[Opening],
    today: date,
    rng: random.Random,
) -> int:
    """Holders in the cadre's villages, MONTHS months of attendance, terms ending and flags; returns the
    attendance rows written."""
    session.flush()
    _holders_in(session, [villages[n] for n in CADRE_VILLAGES if n in villages], posts, today, rng)
    session.flush()
    holdings = session.scalars(
        select(Placement)
        .where(Placement.welfare_post_id.is_not(None), Placement.status == "working")
        .order_by(Placement.id)
    ).all()
    rows = 0
    this_month = welfare.month_of(today)
    for back in range(MONTHS, 0, -1):
        month = welfare.add_months(this_month, -back)
        work_days = welfare.month_work_days(month)
        for holding in holdings:
            expected = welfare.expected_days(month, holding.started_on, holding.ended_on)
            if expected == 0:
                continue
            present = max(0, expected - rng.choice([0, 0, 0, 0, 1, 2, 3, 6]))
            post = holding.welfare_post
            session.add(
                WelfareAttendance(
                    placement_id=holding.id,
                    welfare_post_id=post.id,
                    month=month,
                    days_present=present,
                    days_expected=expected,
                    month_work_days=work_days,
                    stipend_cents=post.stipend_cents,
                    due_cents=welfare.stipend_due_cents(post.stipend_cents, present, expected, work_days),
                )
            )
            rows += 1
    _terms_and_flags(session, holdings, openings, today, rng)
    session.flush()
    return rows


def _holders_in(session: Session, villages: list[Region], posts: list[WelfarePost], today: date, rng) -> None:
    """Two holders living in each village, on free posts moved there (the demo's posts are spread at random)."""
    held = set(session.scalars(select(Placement.welfare_post_id).where(Placement.welfare_post_id.is_not(None))))
    holding_households = set(
        session.scalars(select(Placement.household_id).where(Placement.welfare_post_id.is_not(None)))
    )
    at_work = set(session.scalars(select(Placement.laborer_id).where(Placement.status == "working")))
    free = [p for p in posts if p.id not in held]
    for village in villages:
        candidates = session.scalars(
            select(Laborer)
            .join(Household, Household.id == Laborer.household_id)
            .where(
                Household.village_code == village.code,
                Household.poverty_status.in_(POOR_STATUSES),
                Laborer.work_area == "local",
            )
            .order_by(Laborer.id)
        ).all()
        chosen: list[Laborer] = []
        for laborer in candidates:
            if laborer.id in at_work or laborer.household_id in holding_households or laborer.age_on(today) > 65:
                continue
            chosen.append(laborer)
            holding_households.add(laborer.household_id)
            if len(chosen) == 2:
                break
        for laborer in chosen:
            if not free:
                return
            post = free.pop(0)
            old_village = session.get(Region, post.region_code)
            if old_village is not None:
                post.title = post.title.replace(old_village.name, village.name, 1)
            post.region_code, post.lat, post.lon = village.code, village.lat, village.lon
            laborer.status = LaborerStatus.EMPLOYED
            started = today - timedelta(days=rng.randint(150, 300))
            session.add(
                Placement(
                    laborer_id=laborer.id,
                    household_id=laborer.household_id,
                    welfare_post_id=post.id,
                    status="working",
                    started_on=started,
                    events=[PlacementEvent(to_status="working", note="seeded")],
                )
            )


def _terms_and_flags(session: Session, holdings, openings: list[Opening], today: date, rng) -> None:
    """Terms ending in 12 and 26 days and one 3 days past; one holder over the post's age limit, and one
    also at work in a workshop (what the daily clocks end: the flags page shows it until they run)."""
    if len(holdings) < 5:
        return
    for holding, days in zip(holdings[:3], (12, 26, -3), strict=True):
        post = holding.welfare_post
        post.term_end_on = today + timedelta(days=days)
        post.term_start_on = min(post.term_end_on - timedelta(days=365), holding.started_on or today)
    over = holdings[3]
    over.welfare_post.max_age = max(18, over.laborer.age_on(today) - 1)
    busy = holdings[4]
    opening = next((o for o in openings if o.employer.kind == "workshop"), None)
    if opening is not None:
        opening.slots += 1
        session.add(
            Placement(
                laborer_id=busy.laborer_id,
                household_id=busy.household_id,
                opening_id=opening.id,
                status="working",
                started_on=today - timedelta(days=4),
                events=[PlacementEvent(to_status="working", note="seeded")],
            )
        )
