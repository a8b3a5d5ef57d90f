"""The Daning demo's history after departure (issue 13, part 4): batches that left months ago and arrived
with a recorded handover, their passengers' 90-day check-ins, the transport subsidy claims those made due
(some approved by the office), and one batch that left this week and waits for its handover.

Drawn from the demo's own random generator, after its people and logins exist; the handover, check-ins and
claims go through the services that own them (`web.services.transport`, `web.services.retention`), so the
demo's history is what the application itself would have recorded.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from seed.people import chinese_name, phone
from web.models import (
    ClaimStatus,
    Employer,
    Laborer,
    PickupPoint,
    Placement,
    PlacementEvent,
    Region,
    SubsidyClaim,
    TransportBatch,
    User,
)
from web.services import transport
from web.services.retention import record_checkin

#: (employer, destination, band, title, days ago it left, passengers, job type, monthly pay in cents)
PAST_BATCHES = [
    (
        "浙江义乌小商品包装有限公司",
        "浙江省义乌市",
        "outside_far",
        "义乌包装点对点专车（春季）",
        160,
        9,
        "packaging",
        460000,
    ),
    ("河北石家庄纺织有限公司", "河北省石家庄市", "outside_near", "石家庄纺织点对点专车", 120, 7, "sewing", 400000),
    ("临汾市尧都区建材厂", "山西省临汾市", "inside_province", "临汾建材点对点专车", 45, 6, "construction", 380000),
]
#: The batch that left this week and waits for its handover, run by the demo employer (days ago, passengers).
WAITING = ("手套总厂（太原）点对点专车", "太原市", "inside_province", 3, 5)


def _passengers(session: Session, rng: random.Random, count: int, taken: set[int]) -> list[Laborer]:
    """Migrant-minded working-age laborers with no placement yet (drawn in id order, then shuffled)."""
    placed = set(session.scalars(select(Placement.laborer_id)))
    pool = [
        lab
        for lab in session.scalars(
            select(Laborer).where(Laborer.work_area.in_(["migrant", "any"])).order_by(Laborer.id)
        )
        if lab.id not in placed and lab.id not in taken and str(lab.physical_ability) in ("full", "moderate")
    ]
    rng.shuffle(pool)
    chosen = pool[:count]
    taken.update(lab.id for lab in chosen)
    return chosen


def _batch(session: Session, county: Region, towns: list[Region], rng: random.Random, employer: Employer, **kw):
    departs_on: date = kw.pop("departs_on")
    batch = TransportBatch(
        employer=employer,
        departs_at=datetime.combine(departs_on, time(0, 30), tzinfo=UTC),
        min_age=18,
        max_age=55,
        physical_demand="moderate",
        skills=[],
        pay_type="monthly",
        status="departed",
        region_code=county.code,
        **kw,
    )
    for town in rng.sample(towns, k=2):
        batch.pickup_points.append(
            PickupPoint(
                name=f"{town.name}政府门口",
                region_code=town.code,
                lat=town.lat,
                lon=town.lon,
                position_source=town.position_source,
            )
        )
    session.add(batch)
    session.flush()
    return batch


def _board(session: Session, batch: TransportBatch, people: list[Laborer], office: User) -> list[Placement]:
    rows = []
    for laborer in people:
        row = Placement(
            laborer_id=laborer.id,
            household_id=laborer.household_id,
            batch_id=batch.id,
            status="accepted",
            created_by_id=office.id,
            events=[
                PlacementEvent(to_status="offered", by_user_id=office.id, note="seeded"),
                PlacementEvent(from_status="offered", to_status="accepted", note="seeded"),
            ],
        )
        session.add(row)
        rows.append(row)
    session.flush()
    return rows


def seed_after_departure(session: Session, county: Region, today: date, rng: random.Random) -> dict[str, int]:
    """Add the history after departure to a seeded Daning demo; returns what it made."""
    office = session.scalars(select(User).where(User.username == "office")).one()
    employer_user = session.scalars(select(User).where(User.username == "employer")).one()
    towns = list(session.scalars(select(Region).where(Region.parent_code == county.code).order_by(Region.code)))
    taken: set[int] = set()
    arrived = 0
    for name, destination, band, title, days_ago, seats, job_type, pay in PAST_BATCHES:
        employer = Employer(
            name=name,
            kind="enterprise",
            region_code=county.code,
            lat=county.lat,
            lon=county.lon,
            position_source="county_seat",
            contact_name=chinese_name(rng.choice("MF"), rng),
            phone=phone(rng),
        )
        departs_on = today - timedelta(days=days_ago)
        batch = _batch(
            session,
            county,
            towns,
            rng,
            employer,
            title=title,
            destination=destination,
            destination_band=band,
            job_type=job_type,
            seats=seats + 2,
            pay_cents=pay,
            departs_on=departs_on,
        )
        placements = _board(session, batch, _passengers(session, rng, seats, taken), office)
        absent = rng.randrange(len(placements))
        answers = {
            p.id: transport.PassengerAnswer(True)
            if i != absent
            else transport.PassengerAnswer(False, "临行前生病，未能成行")
            for i, p in enumerate(placements)
        }
        transport.record_handover(
            session,
            office,
            batch.id,
            arrived_on=departs_on + timedelta(days=1),
            received_by_name=employer.contact_name,
            received_by_phone=employer.phone,
            passengers=answers,
        )
        arrived += 1
        for placement in placements:
            if str(placement.status) != "working" or placement.started_on is None:
                continue
            placement.laborer.status = "employed"
            for day in (30, 90):
                due = placement.started_on + timedelta(days=day)
                if due > today:
                    break
                # Most are still there; one in eight has gone home by the check-in.
                still = rng.random() > 0.125
                record_checkin(session, office, placement.id, day, still, today=due + timedelta(days=rng.randint(0, 3)))
                if not still:
                    break
    claims = transport.create_due_claims(session, today)
    # The office has approved the spring batch's claims; the others wait.
    spring = session.scalars(select(TransportBatch).where(TransportBatch.title == PAST_BATCHES[0][3])).one()
    due_ids = list(
        session.scalars(
            select(SubsidyClaim.id).where(SubsidyClaim.batch_id == spring.id, SubsidyClaim.status == ClaimStatus.DUE)
        )
    )
    approved = transport.approve_claims(session, office, due_ids) if due_ids else 0
    title, destination, band, days_ago, seats = WAITING
    waiting = _batch(
        session,
        county,
        towns,
        rng,
        session.get_one(Employer, employer_user.employer_id),
        title=title,
        destination=destination,
        destination_band=band,
        job_type="sewing",
        seats=seats + 3,
        pay_cents=360000,
        departs_on=today - timedelta(days=days_ago),
    )
    _board(session, waiting, _passengers(session, rng, seats, taken), office)
    session.flush()
    return {"batches_arrived": arrived, "subsidy_claims": claims, "subsidy_claims_approved": approved}
