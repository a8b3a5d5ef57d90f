"""Summaries for the province and city dashboards (`RegionDayStat`): built, refreshed, kept exact.

Why: a province's figures group a million placements; summed per-day changes per county answer the
same question from ~200,000 small rows, for any day (DESIGN §7: ≤ 1 s per page). Counties and
anything below them are computed straight from the records by `web.services.stats`: they are small.

What a row holds is the change of each figure on a day, computed from the records with the
definitions of `web.services.stats` (a laborer's placements are merged into spells first, so counts
stay distinct): figures on day D = sum of the rows with ``day <= D``.

How they stay exact: every flush that adds, changes or deletes a placement, laborer, household or
welfare post records the counties it touches in ``session.info``; before the transaction commits
(and before any figure is read in it) those counties' rows are recomputed from the records and the
difference is added to their city's and the province's rows — in the same transaction, so the
summaries commit or roll back with the change. Writes that bypass the ORM (the seed's bulk load)
call `refresh_summaries` themselves; `jiuye stats refresh` rebuilds everything.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Select, case, delete, event, exists, func, inspect, or_, select, true, union_all
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ..models import (
    AT_WORK_STATUSES,
    EMPLOYING_KINDS,
    POOR_STATUSES,
    SUMMARY_FIGURES,
    WORKING_STATUSES,
    Channel,
    Employer,
    EmployerDayStat,
    Household,
    Laborer,
    Opening,
    Placement,
    Region,
    RegionDayStat,
    TransportBatch,
    WelfarePost,
    channel_of,
)
from .bulk import bulk_insert
from .regions import in_region

#: The day undated counts (households, posts) are recorded on: before any placement.
ALWAYS_ON = date(1, 1, 1)
#: Code length of a summary unit (a county); records on shorter codes form units of their own.
UNIT_LENGTH = 6
#: Roll-up grains above the unit.
ROLLUP_LENGTHS = (2, 4)
PENDING = "jiuye_summary_pending"

_INDEX = {name: i for i, name in enumerate(SUMMARY_FIGURES)}
_ANY, _POOR_OFFSET = _INDEX["laborers_at_work"], _INDEX["poor_at_work"]
_CHANNEL = {  # offsets of at_work_<channel>
    Channel.OPENING: _INDEX["at_work_opening"],
    Channel.BATCH: _INDEX["at_work_batch"],
    Channel.WELFARE_POST: _INDEX["at_work_welfare_post"],
}
_POOR_HOUSEHOLDS = _INDEX["poor_households"]
_WITHOUT_WORK = _INDEX["households_without_work"]
_POSTS, _FILLED = _INDEX["welfare_posts"], _INDEX["welfare_posts_filled"]

Deltas = dict[tuple[str, date], list[int]]


def unit_of(code: str) -> str:
    """The summary unit a record on `code` belongs to: its county, or the code itself above that."""
    return code[:UNIT_LENGTH] if len(code) >= UNIT_LENGTH else code


def grain_of(unit: str) -> int:
    """The grain of a unit's own rows: 6 for a county, 0 for records on a province or city code."""
    return UNIT_LENGTH if len(unit) == UNIT_LENGTH else 0


def spells(intervals: Iterable[tuple[date, date | None]]) -> list[tuple[date, date | None]]:
    """Half-open [start, end) intervals (end None = still open) merged into disjoint spells."""
    merged: list[list] = []
    for start, end in sorted(intervals, key=lambda pair: pair[0]):
        if end is not None and end <= start:
            continue  # ended the day it started: never at work
        if merged and (merged[-1][1] is None or start <= merged[-1][1]):
            last = merged[-1]
            last[1] = None if end is None or last[1] is None else max(last[1], end)
        else:
            merged.append([start, end])
    return [(start, end) for start, end in merged]


def _within(column, units: set[str] | None):
    """column lies in one of the units (a county's range, or exactly a shorter code)."""
    if units is None:
        return true()
    return or_(*(in_region(column, unit) if len(unit) == UNIT_LENGTH else column == unit for unit in units))


def _rows(session: Session, query):
    """Rows of a Core query through the session's connection: a million need no ORM loading."""
    return session.connection().execute(query)


def _compute(session: Session, units: set[str] | None) -> Deltas:
    """The summary rows of the given units (all when None), keyed by (unit, day), from the records."""
    out: Deltas = defaultdict(lambda: [0] * len(SUMMARY_FIGURES))

    def spell_deltas(unit: str, intervals, index: int, sign: int = 1) -> None:
        for start, end in spells(intervals):
            out[(unit, start)][index] += sign
            if end is not None:
                out[(unit, end)][index] -= sign

    in_units = _within(Household.village_code, units)
    is_poor = Household.poverty_status.in_(POOR_STATUSES)
    households = select(Household.village_code, func.count()).where(is_poor, in_units)
    for code, count in session.execute(households.group_by(Household.village_code)):
        out[(unit_of(code), ALWAYS_ON)][_POOR_HOUSEHOLDS] += count
    # Households nobody in which is employed by status: without work except while at work.
    employed = exists().where(Laborer.household_id == Household.id, Laborer.status.in_(WORKING_STATUSES))
    candidates: dict[int, str] = {}
    for household_id, code in session.execute(
        select(Household.id, Household.village_code).where(is_poor, ~employed, in_units)
    ):
        candidates[household_id] = unit_of(code)
        out[(candidates[household_id], ALWAYS_ON)][_WITHOUT_WORK] += 1
    household_work: dict[int, list] = defaultdict(list)

    at_work = (Placement.status.in_(AT_WORK_STATUSES), Placement.started_on.is_not(None))
    if units is None:
        placements = _rows(
            session,
            select(
                Placement.laborer_id,
                Placement.household_id,
                Household.village_code,
                case((is_poor, 1), else_=0),
                Placement.opening_id,
                Placement.batch_id,
                Placement.started_on,
                Placement.ended_on,
            )
            .join(Household, Household.id == Placement.household_id)
            .where(*at_work)
            .order_by(Placement.laborer_id)
            .execution_options(yield_per=50_000),
        )
    else:
        # A county's households first, then their placements by index: a join would make the
        # planner scan every placement of the province.
        homes = {
            household_id: (code, poor_row)
            for household_id, code, poor_row in session.execute(
                select(Household.id, Household.village_code, case((is_poor, 1), else_=0)).where(in_units)
            )
        }
        placements = (
            (laborer_id, household_id, *homes[household_id], *rest)
            for laborer_id, household_id, *rest in _rows(
                session,
                select(
                    Placement.laborer_id,
                    Placement.household_id,
                    Placement.opening_id,
                    Placement.batch_id,
                    Placement.started_on,
                    Placement.ended_on,
                )
                .where(*at_work, Placement.household_id.in_(list(homes)))
                .order_by(Placement.laborer_id),
            )
        )
    # One laborer's placements in one village (the grouping of web.services.stats).
    current: tuple[int, str] | None = None
    poor = 0
    works: list[tuple[int, date, date | None]] = []

    def laborer_done(code: str) -> None:
        unit = unit_of(code)
        if len(works) == 1:  # most laborers: one spell, no merging (a million of them)
            channel, start, end = works[0]
            if end is not None and end <= start:
                return
            columns = (_ANY, channel, _POOR_OFFSET, channel + _POOR_OFFSET)[: 4 if poor else 2]
            row = out[(unit, start)]
            for column in columns:
                row[column] += 1
            if end is not None:
                row = out[(unit, end)]
                for column in columns:
                    row[column] -= 1
            return
        merged = [_ANY, *sorted({channel for channel, _, _ in works})]
        for column in merged:
            chosen = [(s, e) for channel, s, e in works if column == _ANY or channel == column]
            spell_deltas(unit, chosen, column)
            if poor:
                spell_deltas(unit, chosen, column + _POOR_OFFSET)

    for laborer_id, household_id, code, is_poor_row, opening_id, batch_id, start, end in placements:
        if (laborer_id, code) != current:
            if current is not None:
                laborer_done(current[1])
            current, poor, works = (laborer_id, code), 0, []
        channel = _CHANNEL[channel_of(opening_id, batch_id)]
        works.append((channel, start, end))
        poor = poor or is_poor_row
        if household_id in candidates:
            household_work[household_id].append((start, end))
    if current is not None:
        laborer_done(current[1])
    for household_id, intervals in household_work.items():
        spell_deltas(candidates[household_id], intervals, _WITHOUT_WORK, sign=-1)

    in_units = _within(WelfarePost.region_code, units)
    posts = select(WelfarePost.region_code, func.count()).where(in_units)
    for code, count in session.execute(posts.group_by(WelfarePost.region_code)):
        out[(unit_of(code), ALWAYS_ON)][_POSTS] += count
    held: dict[tuple[int, str], list] = defaultdict(list)
    in_posts = select(WelfarePost.id).where(in_units)
    # by index, as for the households
    posts_in_units: Select[int] | list[int] = in_posts if units is None else list(session.scalars(in_posts))
    for post_id, code, start, end in _rows(
        session,
        select(
            Placement.welfare_post_id,
            WelfarePost.region_code,
            Placement.started_on,
            Placement.ended_on,
        )
        .join(WelfarePost, WelfarePost.id == Placement.welfare_post_id)
        .where(*at_work, Placement.welfare_post_id.in_(posts_in_units)),
    ):
        held[(post_id, unit_of(code))].append((start, end))
    for (_, unit), intervals in held.items():
        spell_deltas(unit, intervals, _FILLED)
    return {key: values for key, values in out.items() if any(values)}


def _employer_deltas(session: Session, employer_ids: set[int] | None) -> dict:
    """EmployerDayStat rows of the given employers (all when None), keyed by (employer id, day).

    A laborer counts once per employer however many of its openings and batches they work in
    (their placements there merged into spells); poor when their household is.
    """
    counted: ColumnElement[bool] = Employer.kind.in_(EMPLOYING_KINDS)
    if employer_ids is not None:
        counted = counted & Employer.id.in_(employer_ids)
    is_poor = case((Household.poverty_status.in_(POOR_STATUSES), 1), else_=0)
    links = union_all(
        *(
            select(
                target.employer_id,
                Placement.laborer_id,
                is_poor,
                Placement.started_on,
                Placement.ended_on,
            )
            .join(target, target.id == column)
            .join(Employer, Employer.id == target.employer_id)
            .join(Household, Household.id == Placement.household_id)
            .where(counted, Placement.status.in_(AT_WORK_STATUSES), Placement.started_on.is_not(None))
            for target, column in (
                (Opening, Placement.opening_id),
                (TransportBatch, Placement.batch_id),
            )
        )
    )
    work: dict[tuple[int, int], list] = defaultdict(list)
    poor: set[tuple[int, int]] = set()
    for employer_id, laborer_id, is_poor_row, start, end in session.connection().execute(links):
        work[(employer_id, laborer_id)].append((start, end))
        if is_poor_row:
            poor.add((employer_id, laborer_id))
    out: dict[tuple[int, date], list[int]] = defaultdict(lambda: [0, 0])
    for key, intervals in work.items():
        columns = (0, 1) if key in poor else (0,)
        for start, end in spells(intervals):
            for column in columns:
                out[(key[0], start)][column] += 1
                if end is not None:
                    out[(key[0], end)][column] -= 1
    return {key: values for key, values in out.items() if any(values)}


def _employer_row(employer_id: int, day: date, values: list[int]) -> dict:
    return {"employer_id": employer_id, "day": day, "workers": values[0], "poor_workers": values[1]}


def _rollups(deltas: Deltas) -> dict[tuple[int, str, date], list[int]]:
    """The city and province rows that the units' rows add up to."""
    totals: dict[tuple[int, str, date], list[int]] = defaultdict(lambda: [0] * len(SUMMARY_FIGURES))
    for (unit, day), values in deltas.items():
        for length in ROLLUP_LENGTHS:
            if len(unit) >= length:
                row = totals[(length, unit[:length], day)]
                for i, value in enumerate(values):
                    row[i] += value
    return totals


def _row(grain: int, code: str, day: date, values: list[int]) -> dict:
    return {
        "grain": grain,
        "region_code": code,
        "day": day,
        **dict(zip(SUMMARY_FIGURES, values, strict=True)),
    }


def refresh_summaries(
    session: Session,
    region_codes: Iterable[str] | None = None,
    employer_ids: Iterable[int] | None = None,
) -> int:
    """Recompute the summaries from the records: all of them (no arguments), or those of the
    units holding region_codes and of the employers given.

    Runs in the caller's transaction (flush only); returns the number of rows written.
    """
    if region_codes is None and employer_ids is None:
        session.execute(delete(RegionDayStat))
        session.execute(delete(EmployerDayStat))
        deltas = _compute(session, None)
        rows = [_row(grain_of(unit), unit, day, values) for (unit, day), values in deltas.items()]
        rows += [
            _row(grain, code, day, values) for (grain, code, day), values in _rollups(deltas).items() if any(values)
        ]
        employer_rows = [
            _employer_row(employer_id, day, values)
            for (employer_id, day), values in _employer_deltas(session, None).items()
        ]
        bulk_insert(session, RegionDayStat.__table__, rows)
        bulk_insert(session, EmployerDayStat.__table__, employer_rows)
        return len(rows) + len(employer_rows)
    written = 0
    if employer_ids:
        written += _refresh_employers(session, set(employer_ids))
    if region_codes:
        written += _refresh_units(session, {unit_of(code) for code in region_codes})
    return written


def _refresh_employers(session: Session, employer_ids: set[int]) -> int:
    """Replace the given employers' rows (their rows are locked first, as for the units)."""
    session.execute(
        select(Employer.id).where(Employer.id.in_(sorted(employer_ids))).order_by(Employer.id).with_for_update()
    )
    session.execute(delete(EmployerDayStat).where(EmployerDayStat.employer_id.in_(employer_ids)))
    rows = [
        _employer_row(employer_id, day, values)
        for (employer_id, day), values in _employer_deltas(session, employer_ids).items()
    ]
    return bulk_insert(session, EmployerDayStat.__table__, rows)


def _refresh_units(session: Session, units: set[str]) -> int:
    """Replace the units' rows and add the difference to their city's and province's rows."""
    table = RegionDayStat.__table__
    # Two transactions refreshing one county wait for each other, so each reads the other's work.
    session.execute(select(Region.code).where(Region.code.in_(sorted(units))).order_by(Region.code).with_for_update())
    old: Deltas = {}
    columns = [table.c[name] for name in SUMMARY_FIGURES]
    for unit in units:
        own = (table.c.grain == grain_of(unit)) & (table.c.region_code == unit)
        for code, day, *values in session.execute(select(table.c.region_code, table.c.day, *columns).where(own)):
            old[(code, day)] = list(values)
        session.execute(delete(table).where(own))
    new = _compute(session, units)
    bulk_insert(session, table, [_row(grain_of(unit), unit, day, v) for (unit, day), v in new.items()])
    difference: Deltas = {}
    for key in old.keys() | new.keys():
        before, after = old.get(key, [0] * len(columns)), new.get(key, [0] * len(columns))
        change = [a - b for a, b in zip(after, before, strict=True)]
        if any(change):
            difference[key] = change
    _add_to_rollups(session, _rollups(difference))
    return len(new)


def _add_to_rollups(session: Session, changes: dict[tuple[int, str, date], list[int]]) -> None:
    """Add changes to the city and province rows, creating the rows that do not exist yet."""
    changes = {key: values for key, values in changes.items() if any(values)}
    if not changes:
        return
    table = RegionDayStat.__table__
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(table)
    statement = statement.on_conflict_do_update(
        index_elements=[table.c.grain, table.c.region_code, table.c.day],
        set_={name: table.c[name] + statement.excluded[name] for name in SUMMARY_FIGURES},
    )
    # Sorted, so that two transactions lock shared rows in the same order.
    rows = [_row(grain, code, day, values) for (grain, code, day), values in sorted(changes.items())]
    session.execute(statement, rows)


# -- keeping them exact ------------------------------------------------------------------------


@dataclass
class _Pending:
    """What flushed changes touched, until the summaries are refreshed."""

    codes: set[str] = field(default_factory=set)
    household_ids: set[int] = field(default_factory=set)
    post_ids: set[int] = field(default_factory=set)
    employer_ids: set[int] = field(default_factory=set)
    opening_ids: set[int] = field(default_factory=set)
    batch_ids: set[int] = field(default_factory=set)

    def __bool__(self) -> bool:
        return any(vars(self).values())


def _values(obj, name: str) -> set:
    """The attribute's value now and before this flush, without None."""
    history = inspect(obj).attrs[name].history
    values = {*history.added, *history.unchanged, *history.deleted, obj.__dict__.get(name)}
    return {v for v in values if v is not None}


def _collect(session: Session, _context) -> None:
    pending = session.info.setdefault(PENDING, _Pending())
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Placement):
            pending.household_ids |= _values(obj, "household_id")
            pending.post_ids |= _values(obj, "welfare_post_id")
            pending.opening_ids |= _values(obj, "opening_id")
            pending.batch_ids |= _values(obj, "batch_id")
        elif isinstance(obj, Laborer):
            pending.household_ids |= _values(obj, "household_id")
        elif isinstance(obj, Household):
            pending.codes |= _values(obj, "village_code")
            pending.household_ids |= _values(obj, "id")  # its poverty decides poor workers
        elif isinstance(obj, WelfarePost):
            pending.codes |= _values(obj, "region_code")
        elif isinstance(obj, Employer):
            pending.employer_ids |= _values(obj, "id")
        elif isinstance(obj, Opening | TransportBatch):
            pending.employer_ids |= _values(obj, "employer_id")


def apply_pending(session: Session) -> None:
    """Refresh the summaries of whatever this transaction changed so far (flushing it first)."""
    if session.new or session.dirty or session.deleted:
        session.flush()
    pending = session.info.pop(PENDING, None)
    if not pending:
        return
    codes = set(pending.codes)
    if pending.household_ids:
        codes |= set(session.scalars(select(Household.village_code).where(Household.id.in_(pending.household_ids))))
    if pending.post_ids:
        codes |= set(session.scalars(select(WelfarePost.region_code).where(WelfarePost.id.in_(pending.post_ids))))
    employer_ids = set(pending.employer_ids)
    for target, column, ids in (
        (Opening, Placement.opening_id, pending.opening_ids),
        (TransportBatch, Placement.batch_id, pending.batch_ids),
    ):
        if ids:
            employer_ids |= set(session.scalars(select(target.employer_id).where(target.id.in_(ids))))
        if pending.household_ids:  # a household's poverty or members changed: its employers
            employer_ids |= set(
                session.scalars(
                    select(target.employer_id)
                    .join(Placement, column == target.id)
                    .where(Placement.household_id.in_(pending.household_ids))
                )
            )
    refresh_summaries(session, codes, employer_ids)


def _before_commit(session: Session) -> None:
    apply_pending(session)


def install(sessions: Any) -> None:
    """Keep the summaries exact on the sessions of `sessions` (the app's scoped session or a
    sessionmaker; idempotent; create_app passes ``db.session``). Sessions made elsewhere, e.g. by
    a script's own ``Session(engine)``, are left alone."""
    for name, listener in (("after_flush", _collect), ("before_commit", _before_commit)):
        if not event.contains(sessions, name, listener):
            event.listen(sessions, name, listener)
