"""Rows → matcher types: laborers with their household facts, open targets with their free capacity.

The matcher is pure; this module is the one place that reads rows into its dataclasses.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, selectinload

from matcher.types import Config, Target
from matcher.types import Laborer as MLaborer

from .. import clock
from ..models import (
    CHANNEL_FK,
    CHANNEL_MODELS,
    COMMITTED_STATUSES,
    HOLDING_STATUSES,
    OPEN_BATCH_STATUSES,
    WORKING_STATUSES,
    Laborer,
    Opening,
    Placement,
    PlacementStatus,
    PostingStatus,
    TransportBatch,
    WelfarePost,
)

#: The capacity column of each kind of target: a batch has seats, openings and welfare posts slots.
CAPACITY = {"opening": "slots", "batch": "seats", "welfare_post": "slots"}

def matcher_config(settings: dict) -> Config:
    """The matcher's thresholds from the app's configuration (DESIGN §2 defaults)."""
    return Config(
        default_max_commute_km=settings.get("MATCH_DEFAULT_MAX_COMMUTE_KM", 10.0),
        max_pickup_km=settings.get("MATCH_MAX_PICKUP_KM", 60.0),
    )


def _household_facts(session: Session, household_ids: Iterable[int] | None) -> tuple[set[int], set[int], set[int]]:
    """(households with work, households holding a welfare post, laborers committed to work) for the households.

    A laborer who has accepted an offer counts as working for matching (no new offer unless re-matching
    is asked for), but their household is without work until the placement starts.
    """
    committed = select(Placement.laborer_id, Placement.household_id, Placement.status).where(
        Placement.status.in_(COMMITTED_STATUSES)
    )
    employed = select(Laborer.id, Laborer.household_id).where(Laborer.status.in_(WORKING_STATUSES))
    posts = select(Placement.household_id).where(
        Placement.welfare_post_id.is_not(None), Placement.status.in_(HOLDING_STATUSES)
    )
    if household_ids is not None:
        ids = list(household_ids)
        committed = committed.where(Placement.household_id.in_(ids))
        employed = employed.where(Laborer.household_id.in_(ids))
        posts = posts.where(Placement.household_id.in_(ids))
    working_laborers, with_work = set(), set()
    for laborer_id, household_id, status in session.execute(committed):
        working_laborers.add(laborer_id)
        if status == PlacementStatus.WORKING:
            with_work.add(household_id)
    for laborer_id, household_id in session.execute(employed):
        working_laborers.add(laborer_id)
        with_work.add(household_id)
    return with_work, set(session.scalars(posts)), working_laborers


def to_matcher_laborers(session: Session, rows: Sequence[Laborer], *, all_households: bool = False) -> list[MLaborer]:
    """Convert laborer rows (households loaded) into the matcher's Laborer."""
    ids = None if all_households else {row.household_id for row in rows}
    with_work, with_post, working = _household_facts(session, ids)
    return [
        MLaborer(
            id=row.id, household_id=row.household_id, lat=row.lat, lon=row.lon, birth_on=row.birth_on,
            sex=row.sex.value, ability=row.physical_ability.value, skills=frozenset(row.skills or ()),
            work_area=row.work_area.value, max_commute_km=row.max_commute_km,
            job_types=frozenset(row.job_types or ()), pay_type=row.pay_type.value if row.pay_type else None,
            needs_flexible_hours=row.needs_flexible_hours, poverty_status=row.household.poverty_status.value,
            household_has_work=row.household_id in with_work, household_has_post=row.household_id in with_post,
            is_working=row.id in working, order=row.id,
        )
        for row in rows
    ]


def kind_of(row: Opening | TransportBatch | WelfarePost) -> str:
    """opening, batch or welfare_post: the kind of a target row."""
    return next(kind for kind, model in CHANNEL_MODELS.items() if isinstance(row, model))


def capacity_of(row: Opening | TransportBatch | WelfarePost) -> int:
    """How many people a target takes in all: a batch's seats, an opening's or welfare post's slots."""
    return getattr(row, CAPACITY[kind_of(row)])


def held_slots(session: Session, kind: str, ids: Iterable[int] | None = None) -> dict[int, int]:
    """Slots held (offered, accepted, working) per target of one kind."""
    column = getattr(Placement, CHANNEL_FK[kind])
    query = select(column, func.count()).where(column.is_not(None), Placement.status.in_(HOLDING_STATUSES))
    if ids is not None:
        query = query.where(column.in_(list(ids)))
    return dict(session.execute(query.group_by(column)).all())


def held_of(session: Session, row: Opening | TransportBatch | WelfarePost) -> int:
    """Slots of one target held now (offered, accepted, working)."""
    return held_slots(session, kind_of(row), [row.id]).get(row.id, 0)


def free_capacity(session: Session, row: Opening | TransportBatch | WelfarePost) -> int:
    """Free capacity of one target now: its capacity less what is held (lock the row first to rely on it)."""
    return capacity_of(row) - held_of(session, row)


def _open_targets(kind: str, region_prefix: str | None) -> Select:
    model = CHANNEL_MODELS[kind]
    query = select(model)
    if kind == "batch":
        query = query.where(
            model.status.in_(OPEN_BATCH_STATUSES), model.departs_at > datetime.now(UTC)
        ).options(selectinload(TransportBatch.pickup_points))
    else:
        query = query.where(model.status == PostingStatus.OPEN)
    if region_prefix:
        query = query.where(model.region_code.startswith(region_prefix))
    return query.order_by(model.id)


def to_target(kind: str, row, free: int) -> Target:
    """Convert an opening, batch or welfare post row into the matcher's Target."""
    if kind == "batch":
        points = tuple((p.lat, p.lon) for p in row.pickup_points)
        return Target(kind=kind, id=row.id, title=row.title, job_type=row.job_type, points=points, capacity=free,
                      min_age=row.min_age, max_age=row.max_age, demand=row.physical_demand.value,
                      skills=frozenset(row.skills or ()), pay_type=row.pay_type.value, pay_cents=row.pay_cents,
                      is_flexible=False, start_on=clock.local_date(row.departs_at), employer_id=row.employer_id,
                      region_code=row.region_code)
    if kind == "opening":
        return Target(kind=kind, id=row.id, title=row.title, job_type=row.job_type, points=((row.lat, row.lon),),
                      capacity=free, min_age=row.min_age, max_age=row.max_age, demand=row.physical_demand.value,
                      skills=frozenset(row.skills or ()), pay_type=row.pay_type.value, pay_cents=row.pay_cents,
                      is_flexible=row.is_flexible_hours, start_on=row.start_on, employer_id=row.employer_id,
                      region_code=row.region_code)
    # Welfare posts are light, local and flexible by nature; their stipend is monthly.
    return Target(kind=kind, id=row.id, title=row.title, job_type=row.post_type.value, points=((row.lat, row.lon),),
                  capacity=free, min_age=row.min_age, max_age=row.max_age, demand=row.physical_demand.value,
                  skills=frozenset(), pay_type="monthly", pay_cents=row.stipend_cents, is_flexible=True,
                  start_on=max(row.term_start_on, clock.today()), employer_id=None,
                  region_code=row.region_code)


def load_targets(session: Session, region_prefix: str | None = None, kinds: Iterable[str] = CHANNEL_MODELS) -> list[Target]:
    """Every open target (optionally within a region) with its free capacity now."""
    targets = []
    for kind in kinds:
        rows = session.scalars(_open_targets(kind, region_prefix)).all()
        held = held_slots(session, kind)
        targets.extend(to_target(kind, row, capacity_of(row) - held.get(row.id, 0)) for row in rows)
    return targets


