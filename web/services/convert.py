"""Rows → matcher types: laborers with their household facts, open targets with their free capacity.

The matcher is pure; this module is the one place that reads rows into its dataclasses.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    and_,
    bindparam,
    case,
    exists,
    func,
    or_,
    select,
    type_coerce,
)
from sqlalchemy.orm import Session

from matcher.scoring import Factor, render_factor
from matcher.types import Config, Target
from matcher.types import Laborer as MLaborer

from .. import clock
from ..models import (
    CHANNEL_FK,
    CHANNEL_MODELS,
    COMMITTED_STATUSES,
    HOLDING_STATUSES,
    LIVE_OFFER_STATUSES,
    OPEN_BATCH_STATUSES,
    WORKING_STATUSES,
    FollowUp,
    Household,
    Laborer,
    PickupPoint,
    Placement,
    PlacementStatus,
    PostingStatus,
    TargetRow,
    TransportBatch,
)
from .regions import in_region

#: The capacity column of each kind of target: a batch has seats, openings and welfare posts slots.
CAPACITY = {"opening": "slots", "batch": "seats", "welfare_post": "slots"}


def matcher_config(settings: dict) -> Config:
    """The matcher's thresholds from the app's configuration (DESIGN §2 defaults)."""
    return Config(
        default_max_commute_km=settings.get("MATCH_DEFAULT_MAX_COMMUTE_KM", 10.0),
        max_pickup_km=settings.get("MATCH_MAX_PICKUP_KM", 60.0),
        max_part_arcs=int(settings.get("PLAN_PART_ARCS", 2_000_000)),
        referral_factor=float(settings.get("REFERRAL_FACTOR", 3)),
        congestion_tolerance=float(settings.get("CONGESTION_TOLERANCE", 0.02)),
    )


#: Laborer fields read straight from their columns (the rest come from the household and placements).
_LABORER_COLUMNS = {
    "id": Laborer.id,
    "household_id": Laborer.household_id,
    "lat": Laborer.lat,
    "lon": Laborer.lon,
    "birth_on": Laborer.birth_on,
    "max_commute_km": Laborer.max_commute_km,
    "needs_flexible_hours": Laborer.needs_flexible_hours,
    "has_disability": Laborer.has_disability,
    "village_code": Household.village_code,
    # JSON lists read as text where the driver gives text (SQLite), parsed all at once (`_json_lists`).
    "skills": type_coerce(Laborer.skills, String()),
    "job_types": type_coerce(Laborer.job_types, String()),
    # Codes stored as enums, read as the strings they are: the matcher takes the values, and
    # turning a million of them into enum members and back costs seconds.
    **{
        name: type_coerce(column, String())
        for name, column in {
            "sex": Laborer.sex,
            "ability": Laborer.physical_ability,
            "work_area": Laborer.work_area,
            "pay_type": Laborer.pay_type,
            "poverty_status": Household.poverty_status,
        }.items()
    },
}
#: Ids bound in one IN list at most (PostgreSQL takes 65,535 parameters per statement).
ID_CHUNK = 10_000


def _facts() -> dict:
    """Household facts as correlated EXISTS on indexed columns: one statement for any number of rows.

    A laborer who has accepted an offer counts as working for matching (no new offer unless
    re-matching is asked for), but their household is without work until the placement starts.
    """
    working = exists().where(
        Placement.household_id == Laborer.household_id, Placement.status == PlacementStatus.WORKING
    )
    member = Laborer.__table__.alias("member")  # a Core alias: cheap to build, on every request
    employed = exists().where(
        member.c.household_id == Laborer.household_id, member.c.status.in_([s.value for s in WORKING_STATUSES])
    )
    post = exists().where(
        Placement.household_id == Laborer.household_id,
        Placement.welfare_post_id.is_not(None),
        Placement.status.in_(HOLDING_STATUSES),
    )
    committed = exists().where(Placement.laborer_id == Laborer.id, Placement.status.in_(COMMITTED_STATUSES))
    # Under watch (issue 13, part 5): an open follow-up puts the household first among the poor.
    flagged = exists().where(FollowUp.household_id == Laborer.household_id, FollowUp.closed_on.is_(None))
    return {
        "household_has_work": or_(working, employed),
        "household_has_post": post,
        "is_working": or_(Laborer.status.in_(WORKING_STATUSES), committed),
        "household_flagged": flagged,
    }


def laborer_query(*where: ColumnElement[bool], extra: dict | None = None) -> Select:
    """The matcher's laborer fields (and `extra` columns) of the laborers meeting `where`, by id."""
    columns = {**_LABORER_COLUMNS, **_facts(), **(extra or {})}
    return (
        select(*(column.label(name) for name, column in columns.items()))
        .join(Household, Household.id == Laborer.household_id)
        .where(*where)
        .order_by(Laborer.id)
    )


def laborer_columns(session: Session, *where: ColumnElement[bool], extra: dict | None = None) -> dict[str, list]:
    """The laborers meeting `where` (on Laborer or Household) as columns, ready for
    `LaborerColumns.from_columns`; `extra` names more columns to read alongside."""
    return _as_columns(session.execute(laborer_query(*where, extra=extra)))


def _as_columns(result) -> dict[str, list]:
    """A laborer query's rows as columns of plain values (enum values, lists, booleans)."""
    names = list(result.keys())
    rows = result.all()
    columns = {name: [row[i] for row in rows] for i, name in enumerate(names)}
    for name in ("skills", "job_types"):
        columns[name] = _json_lists(columns[name])
    for name in ("household_has_work", "household_has_post", "is_working", "household_flagged", "has_disability"):
        columns[name] = [bool(v) for v in columns[name]]
    columns["order"] = columns["id"]
    return columns


def _json_lists(values: list) -> list[list]:
    """JSON list columns as lists: text (SQLite) parsed in one call, not one per row; parsed values kept."""
    texts = [v for v in values if isinstance(v, str)]
    parsed = iter(json.loads(f"[{','.join(texts)}]") if texts else ())
    return [(next(parsed) if isinstance(v, str) else v) or [] for v in values]


def laborers_from_columns(columns: dict[str, list]) -> list[MLaborer]:
    """One matcher Laborer per row of `laborer_columns`."""
    names = list(columns)
    laborers = []
    for values in zip(*columns.values(), strict=True):
        fields = dict(zip(names, values, strict=True))
        fields["skills"], fields["job_types"] = frozenset(fields["skills"]), frozenset(fields["job_types"])
        laborers.append(MLaborer(**fields))
    return laborers


def load_laborers(session: Session, *where: ColumnElement[bool]) -> list[MLaborer]:
    """The laborers meeting `where` as matcher Laborers, by id."""
    return laborers_from_columns(laborer_columns(session, *where))


_ONE_LABORER = None


def load_laborer(session: Session, laborer_id: int, *where: ColumnElement[bool]) -> MLaborer | None:
    """One laborer (meeting `where`, e.g. a scope) as the matcher's Laborer, or None; the statement is
    built once, since this is a request's hot path."""
    global _ONE_LABORER
    if _ONE_LABORER is None:
        _ONE_LABORER = laborer_query(Laborer.id == bindparam("laborer_id"))
    query = _ONE_LABORER.where(*where) if where else _ONE_LABORER
    found = laborers_from_columns(_as_columns(session.execute(query, {"laborer_id": laborer_id})))
    return found[0] if found else None


def to_matcher_laborers(session: Session, rows: Sequence[Laborer]) -> list[MLaborer]:
    """Convert laborer rows into the matcher's Laborer (facts read fresh), in the rows' order."""
    ids = [row.id for row in rows]
    found: dict[int, MLaborer] = {}
    for start in range(0, len(ids), ID_CHUNK):
        found.update((p.id, p) for p in load_laborers(session, Laborer.id.in_(ids[start : start + ID_CHUNK])))
    return [found[i] for i in ids]


def kind_of(row: TargetRow) -> str:
    """opening, batch or welfare_post: the kind of a target row."""
    return next(kind for kind, model in CHANNEL_MODELS.items() if isinstance(row, model))


def capacity_of(row: TargetRow) -> int:
    """How many people a target takes in all: a batch's seats, an opening's or welfare post's slots."""
    return getattr(row, CAPACITY[kind_of(row)])


def held_slots(session: Session, kind: str, ids: Iterable[int] | None = None) -> dict[int, int]:
    """Slots held (offered, accepted, working) per target of one kind."""
    column = getattr(Placement, CHANNEL_FK[kind])
    query = select(column, func.count()).where(column.is_not(None), Placement.status.in_(HOLDING_STATUSES))
    if ids is not None:
        query = query.where(column.in_(list(ids)))
    return dict(session.execute(query.group_by(column)).all())


def held_of(session: Session, row: TargetRow) -> int:
    """Slots of one target held now (offered, accepted, working)."""
    return held_slots(session, kind_of(row), [row.id]).get(row.id, 0)


def free_capacity(session: Session, row: TargetRow) -> int:
    """Free capacity of one target now: its capacity less what is held (lock the row first to rely on it)."""
    return capacity_of(row) - held_of(session, row)


def solicitation(session: Session, kind: str, ids: Iterable[int] | None = None) -> dict[int, tuple[int, int]]:
    """(live offers, committed placements) per target of one kind: referrals and unanswered offers, and the
    accepted and working placements that close a slot for the cap (`matcher.congestion`); absent = (0, 0)."""
    column = getattr(Placement, CHANNEL_FK[kind])
    live = func.sum(case((Placement.status.in_(LIVE_OFFER_STATUSES), 1), else_=0))
    committed = func.sum(case((Placement.status.in_(COMMITTED_STATUSES), 1), else_=0))
    query = select(column, live, committed).where(
        column.is_not(None), Placement.status.in_((*LIVE_OFFER_STATUSES, *COMMITTED_STATUSES))
    )
    if ids is not None:
        query = query.where(column.in_(list(ids)))
    return {i: (int(n), int(c)) for i, n, c in session.execute(query.group_by(column))}


def solicitation_counts(session: Session, kind: str, ids: Sequence[int]) -> dict[int, tuple[int, int]]:
    """(live offers, open slots) now of the given targets of one kind (as `free_slots` gives free slots)."""
    model = CHANNEL_MODELS[kind]
    capacity = getattr(model, CAPACITY[kind])
    counts: dict[int, tuple[int, int]] = {}
    for start in range(0, len(ids), ID_CHUNK):
        chunk = list(ids[start : start + ID_CHUNK])
        found = solicitation(session, kind, chunk)
        for i, n in session.execute(select(model.id, capacity).where(model.id.in_(chunk))):
            live, committed = found.get(i, (0, 0))
            counts[i] = (live, n - committed)
    return counts


def solicitation_of(session: Session, row: TargetRow) -> tuple[int, int]:
    """(live offers, open slots) of one target now: what its congestion cap is counted from."""
    live, committed = solicitation(session, kind_of(row), [row.id]).get(row.id, (0, 0))
    return live, capacity_of(row) - committed


def is_open(kind: str) -> ColumnElement[bool]:
    """The target may take people now: an open posting, or a batch still to depart."""
    if kind == "batch":
        return and_(TransportBatch.status.in_(OPEN_BATCH_STATUSES), TransportBatch.departs_at > clock.now())
    return CHANNEL_MODELS[kind].status == PostingStatus.OPEN


def free_slots(session: Session, kind: str, ids: Sequence[int]) -> dict[int, int]:
    """Free slots (or seats) now of the given targets of one kind."""
    model = CHANNEL_MODELS[kind]
    capacity = getattr(model, CAPACITY[kind])
    free: dict[int, int] = {}
    for start in range(0, len(ids), ID_CHUNK):
        chunk = list(ids[start : start + ID_CHUNK])
        held = held_slots(session, kind, chunk)
        free.update(
            (i, n - held.get(i, 0)) for i, n in session.execute(select(model.id, capacity).where(model.id.in_(chunk)))
        )
    return free


#: The columns `to_target` reads, per kind (a Core select of these needs no ORM object).
_TARGET_COLUMNS = {
    "opening": (
        "id",
        "title",
        "job_type",
        "lat",
        "lon",
        "slots",
        "min_age",
        "max_age",
        "physical_demand",
        "skills",
        "pay_type",
        "pay_cents",
        "is_flexible_hours",
        "start_on",
        "employer_id",
        "region_code",
    ),
    "batch": (
        "id",
        "title",
        "job_type",
        "seats",
        "min_age",
        "max_age",
        "physical_demand",
        "skills",
        "pay_type",
        "pay_cents",
        "departs_at",
        "employer_id",
        "region_code",
    ),
    "welfare_post": (
        "id",
        "title",
        "post_type",
        "lat",
        "lon",
        "slots",
        "min_age",
        "max_age",
        "physical_demand",
        "stipend_cents",
        "term_start_on",
        "region_code",
    ),
}


def to_target(
    kind: str,
    row,
    free: int,
    points: tuple[tuple[float, float], ...] | None = None,
    today: date | None = None,
    *,
    live_offers: int = 0,
    open_slots: int | None = None,
) -> Target:
    """Convert an opening, batch or welfare post row (or a Core row with its columns) into the matcher's Target.

    A batch's pickup points are `points`, or else read from the row's relationship; `live_offers` and
    `open_slots` are what its congestion cap is counted from (`solicitation`).
    """
    congestion: dict[str, Any] = {"live_offers": live_offers, "open_slots": open_slots}
    if kind == "batch":
        if points is None:
            points = tuple((p.lat, p.lon) for p in row.pickup_points)
        return Target(
            kind=kind,
            id=row.id,
            title=row.title,
            job_type=row.job_type,
            points=points,
            capacity=free,
            min_age=row.min_age,
            max_age=row.max_age,
            demand=row.physical_demand.value,
            skills=frozenset(row.skills or ()),
            pay_type=row.pay_type.value,
            pay_cents=row.pay_cents,
            is_flexible=False,
            start_on=clock.local_date(row.departs_at),
            employer_id=row.employer_id,
            region_code=row.region_code,
            **congestion,
        )
    if kind == "opening":
        return Target(
            kind=kind,
            id=row.id,
            title=row.title,
            job_type=row.job_type,
            points=((row.lat, row.lon),),
            capacity=free,
            min_age=row.min_age,
            max_age=row.max_age,
            demand=row.physical_demand.value,
            skills=frozenset(row.skills or ()),
            pay_type=row.pay_type.value,
            pay_cents=row.pay_cents,
            is_flexible=row.is_flexible_hours,
            start_on=row.start_on,
            employer_id=row.employer_id,
            region_code=row.region_code,
            **congestion,
        )
    # Welfare posts are light, local and flexible by nature; their stipend is monthly.
    return Target(
        kind=kind,
        id=row.id,
        title=row.title,
        job_type=row.post_type.value,
        points=((row.lat, row.lon),),
        capacity=free,
        min_age=row.min_age,
        max_age=row.max_age,
        demand=row.physical_demand.value,
        skills=frozenset(),
        pay_type="monthly",
        pay_cents=row.stipend_cents,
        is_flexible=True,
        start_on=max(row.term_start_on, today or clock.today()),
        employer_id=None,
        region_code=row.region_code,
        **congestion,
    )


def load_targets(
    session: Session, region_prefix: str | None = None, kinds: Iterable[str] = CHANNEL_MODELS
) -> list[Target]:
    """Every open target (optionally within a region) with its free capacity now, read with Core selects."""
    targets: list[Target] = []
    today = clock.today()
    for kind in kinds:
        model = CHANNEL_MODELS[kind]
        query = select(*(model.__table__.c[name] for name in _TARGET_COLUMNS[kind])).where(is_open(kind))
        query = query.order_by(model.id)
        if region_prefix:
            query = query.where(in_region(model.region_code, region_prefix))
        rows = session.execute(query).all()
        held = held_slots(session, kind)
        solicited = solicitation(session, kind)
        points = _pickup_points(session, is_open("batch")) if kind == "batch" and rows else {}
        targets.extend(
            to_target(
                kind,
                row,
                getattr(row, CAPACITY[kind]) - held.get(row.id, 0),
                tuple(points.get(row.id, ())) if kind == "batch" else None,
                today,
                live_offers=solicited.get(row.id, (0, 0))[0],
                open_slots=getattr(row, CAPACITY[kind]) - solicited.get(row.id, (0, 0))[1],
            )
            for row in rows
        )
    return targets


def _pickup_points(session: Session, *where: ColumnElement[bool]) -> dict[int, list[tuple[float, float]]]:
    """The pickup points of the batches meeting ``where``, in their order, by batch id (one statement)."""
    pickup = (
        select(PickupPoint.batch_id, PickupPoint.lat, PickupPoint.lon)
        .join(TransportBatch, TransportBatch.id == PickupPoint.batch_id)
        .where(*where)
        .order_by(PickupPoint.id)
    )
    points: dict[int, list[tuple[float, float]]] = {}
    for batch_id, lat, lon in session.execute(pickup):
        points.setdefault(batch_id, []).append((lat, lon))
    return points


def targets_named(session: Session, kind: str, ids: Select) -> list[Target]:
    """The targets of one kind whose ids the select ``ids`` gives, open or not, each with one free slot
    (what past placements were made in, as the matcher reads them), by id; read with Core selects."""
    model = CHANNEL_MODELS[kind]
    query = select(*(model.__table__.c[name] for name in _TARGET_COLUMNS[kind])).where(model.id.in_(ids))
    rows = session.execute(query.order_by(model.id)).all()
    points = _pickup_points(session, TransportBatch.id.in_(ids)) if kind == "batch" and rows else {}
    today = clock.today()
    return [to_target(kind, row, 1, tuple(points.get(row.id, ())) if kind == "batch" else None, today) for row in rows]


def explanation_json(codes: Sequence[Sequence]) -> dict:
    """How a score's explanation is stored: its factors' compact codes (``matcher.scoring.render_factor``)."""
    return {"codes": [list(code) for code in codes]}


def stored_factors(explanation: dict | None) -> list[Factor]:
    """The factors, sentences rendered now, of a stored explanation (codes, or the older full factors)."""
    explanation = explanation or {}
    if "codes" in explanation:
        return [render_factor(code) for code in explanation["codes"]]
    # Older rows hold the factors themselves; some (written by hand or early versions) lack the numbers.
    return [
        Factor(
            factor.get("name", ""),
            float(factor.get("value", 0.0)),
            float(factor.get("weight", 0.0)),
            factor.get("zh", ""),
            factor.get("en", ""),
        )
        for factor in explanation.get("factors", [])
    ]
