"""Fairness breakdowns (`matcher.fairness`) of plans and of a region's records.

*A plan's* breakdown is taken when the plan is stored, over the very laborers it was solved for (the
plan's inputs) and its assignments, and kept in the plan's report (``report["fairness"]``, and the
baseline's in ``baseline_report``): the population of a plan cannot be read back later, since
laborers stop seeking once offered. Its 90-day retention is read when the report is shown, from the
check-ins of the placements confirming the plan made. Groups are taken on the day the plan is stored
(age band) and from the households' villages.

*A region's* breakdown (the dashboard) reads every laborer of the region: placed = at work on the day
(`web.services.stats.at_work_on`, the dashboard's definition), commute = the distance of that
placement, and households = every household of the region, "moved" when a member is at work. It is
computed for a county or smaller (`FAIRNESS_MAX_REGION_LENGTH`): a province's million rows are not
read on a page view.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict
from datetime import date
from typing import Any

import numpy as np
from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from matcher import fairness
from matcher.arrays import LaborerColumns, Vocabulary, age_years
from matcher.plan import AssignmentColumns, PlanResult
from matcher.types import ABILITY_RANK, POVERTY_STATUSES

from .. import clock
from ..models import Household, Laborer, Placement, Plan, RetentionCheckin
from .convert import ID_CHUNK
from .regions import in_region
from .retention import SUCCESS_DAY
from .stats import at_work_on

#: Ability names by rank (the matcher's columns hold ranks).
ABILITY_NAMES = np.array(sorted(ABILITY_RANK, key=ABILITY_RANK.__getitem__), dtype=object)
#: Region codes at least this long get a dashboard breakdown (6 = a county).
FAIRNESS_MAX_REGION_LENGTH = 6


def _age_on(birth_y: np.ndarray, birth_md: np.ndarray, on: date) -> np.ndarray:
    return np.asarray(age_years(birth_y, birth_md, np.int64(on.year), np.int64(on.month * 100 + on.day)))


def groups_of(
    is_female: np.ndarray,
    age: np.ndarray,
    ability: Sequence[str] | np.ndarray,
    poverty: Sequence[str] | np.ndarray,
    village: Sequence[str] | np.ndarray,
) -> dict[str, np.ndarray]:
    """The group codes of laborers in every dimension (`matcher.fairness.DIMENSIONS`)."""
    return {
        "sex": np.where(np.asarray(is_female, bool), "F", "M"),
        "age_band": fairness.age_band(age),
        "village": np.asarray(village, dtype=object),
        "poverty": np.asarray(poverty, dtype=object),
        "ability": np.asarray(ability, dtype=object),
    }


def as_columns(laborers: LaborerColumns | Mapping[str, Sequence[Any]]) -> LaborerColumns:
    """A plan's laborers as the matcher's columns (a query's columns are encoded; vocabularies play no part)."""
    if isinstance(laborers, LaborerColumns):
        return laborers
    return LaborerColumns.from_columns(laborers, Vocabulary(()), Vocabulary(()))


def villages_of(session: Session, household_ids: np.ndarray) -> np.ndarray:
    """The village code of each household id (in the order given), read in chunks of ids."""
    distinct = np.unique(household_ids)
    found: dict[int, str] = {}
    for start in range(0, len(distinct), ID_CHUNK):
        chunk = distinct[start : start + ID_CHUNK].tolist()
        found.update(session.execute(select(Household.id, Household.village_code).where(Household.id.in_(chunk))).all())
    codes = np.array([found.get(int(h), "") for h in distinct], dtype=object)
    return codes[np.searchsorted(distinct, household_ids)] if len(distinct) else np.array([], dtype=object)


def laborer_villages(session: Session, laborers: LaborerColumns | Mapping[str, Sequence[Any]]) -> np.ndarray:
    """Each of a plan's laborers' village code: as the plan's columns carry it (`convert.laborer_columns`
    reads it with the rest), else read by household (in chunks: a province's are seconds)."""
    if isinstance(laborers, Mapping) and "village_code" in laborers:
        return np.asarray(laborers["village_code"], dtype=object)
    return villages_of(session, as_columns(laborers).household_id)


def plan_breakdown(
    session: Session,
    laborers: LaborerColumns | Mapping[str, Sequence[Any]],
    assignments: AssignmentColumns,
    *,
    on: date | None = None,
    villages: np.ndarray | None = None,
) -> fairness.Breakdown:
    """A plan's breakdown over its input laborers and its assignments (no retention yet); ``villages``
    (`laborer_villages`) when the caller has them already."""
    villages = laborer_villages(session, laborers) if villages is None else villages
    L = as_columns(laborers)
    on = on or clock.today()
    order = np.argsort(L.id, kind="stable")
    ids, distance = assignments.laborer_id, assignments.distance_km
    rows = order[np.searchsorted(L.id[order], ids)] if len(L) else np.empty(0, np.int64)
    placed = np.zeros(len(L), bool)
    placed[rows] = True
    commute = np.zeros(len(L))
    commute[rows] = distance
    groups = groups_of(
        L.is_female,
        _age_on(L.birth_y, L.birth_md, on),
        ABILITY_NAMES[L.ability.astype(np.int64)],
        np.asarray(POVERTY_STATUSES, dtype=object)[L.poverty.astype(np.int64)],
        villages,
    )
    return fairness.breakdown(groups, L.household_id, ~L.household_has_work, placed, commute)


def result_fairness(
    session: Session, laborers: LaborerColumns | Mapping[str, Sequence[Any]], *results: PlanResult
) -> list[dict[str, Any]]:
    """The breakdown (as JSON) of each result solved on ``laborers``; the groups are read once."""
    L, villages = as_columns(laborers), laborer_villages(session, laborers)
    return [plan_breakdown(session, L, result.columns, villages=villages).to_json() for result in results]


def plan_retention(session: Session, plan: Plan, *, on: date | None = None) -> fairness.Breakdown:
    """The 90-day check-ins of the placements a plan's confirmation made, by the laborers' groups now."""
    on = on or clock.today()
    query = (
        select(
            Laborer.sex,
            Laborer.birth_on,
            Laborer.physical_ability,
            Household.poverty_status,
            Household.village_code,
            RetentionCheckin.is_still_working,
        )
        .join(Placement, Placement.id == RetentionCheckin.placement_id)
        .join(Laborer, Laborer.id == Placement.laborer_id)
        .join(Household, Household.id == Laborer.household_id)
        .where(Placement.plan_id == plan.id, RetentionCheckin.day == SUCCESS_DAY)
    )
    rows = session.execute(query).all()
    groups = groups_of(
        np.array([r.sex.value == "F" for r in rows], bool),
        np.array([_years(r.birth_on, on) for r in rows], np.int64),
        [r.physical_ability.value for r in rows],
        [r.poverty_status.value for r in rows],
        [r.village_code for r in rows],
    )
    still = np.array([r.is_still_working for r in rows], float)
    return fairness.retention(groups, np.ones(len(rows)), still)


def _years(birth: date, on: date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def plan_fairness(session: Session, plan: Plan) -> tuple[fairness.Breakdown | None, fairness.Breakdown | None]:
    """The plan's breakdown with its retention so far, and the greedy baseline's; ``None`` for a plan
    stored before breakdowns were kept (or not finished)."""
    stored = (plan.report or {}).get("fairness")
    if stored is None:
        return None, None
    mine = fairness.Breakdown.from_json(stored).with_retention(plan_retention(session, plan))
    base = (plan.baseline_report or {}).get("fairness")
    return mine, fairness.Breakdown.from_json(base) if base is not None else None


def region_breakdown(session: Session, region_code: str, on: date) -> fairness.Breakdown | None:
    """The dashboard's breakdown of a region on a day (see the module docstring); ``None`` above a county."""
    if len(region_code) < FAIRNESS_MAX_REGION_LENGTH:
        return None
    at_work = select(Placement.id).where(Placement.laborer_id == Laborer.id, at_work_on(on))
    commute = (
        select(func.max(Placement.distance_km))
        .where(Placement.laborer_id == Laborer.id, at_work_on(on))
        .scalar_subquery()
    )
    checked = (
        select(func.count(RetentionCheckin.id))
        .join(Placement, Placement.id == RetentionCheckin.placement_id)
        .where(
            Placement.laborer_id == Laborer.id, RetentionCheckin.day == SUCCESS_DAY, RetentionCheckin.checked_on <= on
        )
    )
    retained = checked.where(RetentionCheckin.is_still_working.is_(True))
    query = (
        select(
            Laborer.household_id,
            Laborer.sex,
            Laborer.birth_on,
            Laborer.physical_ability,
            Household.poverty_status,
            Household.village_code,
            exists(at_work).label("at_work"),
            commute.label("commute_km"),
            checked.scalar_subquery().label("checked"),
            retained.scalar_subquery().label("retained"),
        )
        .join(Household, Household.id == Laborer.household_id)
        .where(in_region(Household.village_code, region_code))
        .order_by(Laborer.id)
    )
    rows = session.execute(query).all()
    groups = groups_of(
        np.array([r.sex.value == "F" for r in rows], bool),
        np.array([_years(r.birth_on, on) for r in rows], np.int64),
        [r.physical_ability.value for r in rows],
        [r.poverty_status.value for r in rows],
        [r.village_code for r in rows],
    )
    return fairness.breakdown(
        groups,
        np.array([r.household_id for r in rows], np.int64),
        np.ones(len(rows), bool),
        np.array([bool(r.at_work) for r in rows], bool),
        np.array([r.commute_km or 0.0 for r in rows], float),
        checked=np.array([r.checked for r in rows], float),
        retained=np.array([r.retained for r in rows], float),
    )


def shown(breakdown: fairness.Breakdown | None, min_ratio: float) -> dict[str, Any] | None:
    """A breakdown as the API shows it: every group's counts, rates, ratios to the overall rate and the
    rates below ``min_ratio`` (``below``)."""
    if breakdown is None:
        return None

    def group(g: fairness.GroupFigures) -> dict[str, Any]:
        rates = {name: getattr(g, name) for name in (*fairness.RATES, "mean_commute_km")}
        return {**asdict(g), **rates, "below": list(g.below(min_ratio))}

    return {
        "overall": group(breakdown.overall),
        "dimensions": {name: [group(g) for g in groups] for name, groups in breakdown.dimensions.items()},
    }
