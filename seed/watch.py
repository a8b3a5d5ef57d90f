"""The Daning demo's history of the watch on households (issue 13, part 5) and of verifications (part 7).

Some poor households lost their work in the last weeks (a job that ended, a welfare-post term that ran
out); the daily clocks are then replayed day by day over that time (`watch.raise_flags`,
`watch.mark_overdue`), and the cadre's visits fall on the days drawn for them, so the demo holds open
flags, overdue follow-ups, visited and closed ones, and the inbox messages that told people of them.
Verifications of poverty status, ability and welfare-post eligibility were recorded over the past
year; those older than the validity are listed for re-check. All drawn from the demo's generator.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from web.models import (
    WORKING_STATUSES,
    FollowUp,
    Household,
    Laborer,
    Opening,
    Placement,
    PlacementEvent,
    User,
    UserVillage,
    Verification,
    VisitOutcome,
    WelfarePost,
)
from web.services import verifications, watch

#: How far back the demo's clocks are replayed (days).
HISTORY_DAYS = 45
#: What the visits found, and how often.
OUTCOMES = [("found_work", 3), ("referred", 3), ("support_needed", 2), ("no_change", 2), ("not_met", 1)]
NOTES = {
    "found_work": "已到扶贫车间上班",
    "referred": "已推荐附近岗位，等待回复",
    "support_needed": "家中有病人，需申请临时救助",
    "no_change": "仍在找工作",
    "not_met": "家中无人，下次再访",
}


def seed_watch(
    session: Session,
    laborers: list[Laborer],
    openings: list[Opening],
    posts: list[WelfarePost],
    today: date,
    rng: random.Random,
) -> dict[str, int]:
    """Endings of work, the replayed clocks with the cadre's visits, and verifications on record."""
    cadre = session.scalars(select(User).where(User.username == "cadre")).one()
    cadre_villages = set(session.scalars(select(UserVillage.village_code).where(UserVillage.user_id == cadre.id)))
    _endings(session, laborers, openings, posts, today, rng, cadre_villages)
    visits: dict[int, tuple[date, str, bool]] = {}
    for back in range(HISTORY_DAYS, -1, -1):
        day = today - timedelta(days=back)
        watch.raise_flags(session, day)
        for row in session.scalars(select(FollowUp).where(FollowUp.flagged_on == day).order_by(FollowUp.id)):
            if rng.random() < 0.6:
                outcome = rng.choices([o for o, _ in OUTCOMES], weights=[w for _, w in OUTCOMES])[0]
                close = outcome in ("found_work", "referred") and rng.random() < 0.8
                visits[row.id] = (day + timedelta(days=rng.randint(2, 20)), outcome, close)
        for follow_up_id, (visit_on, outcome, close) in visits.items():
            if visit_on == day:
                row = session.get_one(FollowUp, follow_up_id)
                row.visited_on, row.outcome, row.note = visit_on, VisitOutcome(outcome), NOTES[outcome]
                row.visited_by_id = cadre.id if row.household.village_code in cadre_villages else None
                row.closed_on = visit_on if close else None
        session.flush()
        watch.mark_overdue(session, day + timedelta(days=1) if back else day)
    verified = _verifications(session, laborers, today, rng, cadre)
    session.flush()
    verifications.notify_expired(session, today)
    return {"follow_ups": len(session.scalars(select(FollowUp.id)).all()), "verifications": verified}


def _endings(session, laborers, openings, posts, today, rng, cadre_villages) -> None:
    """Work that ended lately in poor households where nobody else works (the cadre's villages first)."""
    by_household: dict[int, list[Laborer]] = {}
    for laborer in laborers:
        by_household.setdefault(laborer.household_id, []).append(laborer)
    held = set(session.scalars(select(Placement.household_id).where(Placement.status == "working")))
    idle = [
        members
        for household_id, members in by_household.items()
        if household_id not in held
        and members[0].household.is_poor
        and all(m.status not in WORKING_STATUSES for m in members)
        and any(m.physical_ability != "none" for m in members)
    ]
    ours = [m for m in idle if m[0].household.village_code in cadre_villages]
    others = [m for m in idle if m[0].household.village_code not in cadre_villages]
    chosen = rng.sample(ours, k=min(14, len(ours))) + rng.sample(others, k=min(26, len(others)))
    workshop_openings = [o for o in openings if o.employer.kind == "workshop"]
    free_posts = [p for p in posts if not session.scalar(select(Placement.id).where(Placement.welfare_post_id == p.id))]
    for number, members in enumerate(chosen):
        laborer = next(m for m in members if m.physical_ability != "none")
        ended = today - timedelta(days=rng.randint(0, HISTORY_DAYS - 5))
        on_post = number % 6 == 5 and free_posts
        if on_post:
            target = {"welfare_post_id": free_posts.pop().id}
        else:
            target = {"opening_id": rng.choice(workshop_openings).id}
        session.add(
            Placement(
                laborer_id=laborer.id,
                household_id=laborer.household_id,
                status="ended",
                started_on=ended - timedelta(days=rng.randint(60, 330)),
                ended_on=ended,
                end_reason="任期届满" if on_post else "车间订单减少",
                events=[
                    PlacementEvent(to_status="working", note="seeded"),
                    PlacementEvent(from_status="working", to_status="ended", note="seeded"),
                ],
                **target,
            )
        )
    session.flush()


def _verifications(session, laborers, today, rng, cadre) -> int:
    """Poverty status, ability and post eligibility verified over the past year (some no longer hold)."""
    households = {lab.household_id: lab.household for lab in laborers if lab.household.is_poor}
    holders = session.scalars(
        select(Laborer)
        .join(Placement, Placement.laborer_id == Laborer.id)
        .where(Placement.welfare_post_id.is_not(None), Placement.status == "working")
    ).all()
    rows: list[Verification] = []

    def add(subject: str, household: Household, laborer: Laborer | None, value: str) -> None:
        verified_on = today - timedelta(days=rng.randint(10, 330))
        rows.append(
            Verification(
                subject=subject,
                household_id=household.id,
                laborer_id=laborer.id if laborer is not None else None,
                value=value,
                method=rng.choices(["visit", "document", "registry"], weights=[5, 3, 2])[0],
                verified_on=verified_on,
                valid_until=verifications.valid_until(verified_on),
                verified_by_id=cadre.id,
            )
        )

    for household in rng.sample(sorted(households.values(), key=lambda h: h.id), k=min(80, len(households))):
        add("poverty_status", household, None, str(household.poverty_status))
    for laborer in rng.sample(laborers, k=min(60, len(laborers))):
        add("ability", laborer.household, laborer, str(laborer.physical_ability))
    for laborer in holders:
        add("post_eligibility", laborer.household, laborer, "eligible")
    session.add_all(rows)
    return len(rows)
