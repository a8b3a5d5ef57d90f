"""Hard eligibility rules (DESIGN §2): a pair that fails one is never proposed, and says why.

``check`` explains one laborer–target pair with reasons a village cadre can read aloud, in
Chinese and English; ``eligible`` applies the same rules to whole columns of candidate pairs for
ranking and planning, and ``laborer_may_take`` is its half that looks at the laborer alone.
Tests keep ``check`` and ``eligible`` equal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
from numpy.typing import ArrayLike

from matcher.arrays import (
    AREA_CODE,
    KIND_CODE,
    POVERTY_CODE,
    LaborerColumns,
    TargetColumns,
    mask_missing,
)
from matcher.types import ABILITY_RANK, DEMAND_RANK, KINDS, Config, Laborer, Target

POOR_STATUSES = frozenset({"registered_poor", "monitored"})
"""Household statuses that may hold a public welfare post."""

_NOUN_ZH = {"opening": "岗位", "batch": "批次", "welfare_post": "公益岗位"}
_NOUN_EN = {"opening": "opening", "batch": "batch", "welfare_post": "post"}
_ABILITY_ZH = {"light": "只能干轻活", "moderate": "只能干中等体力活"}
_DEMAND_ZH = {"light": "轻活", "moderate": "中等体力活", "heavy": "重体力活"}


@dataclass(frozen=True, slots=True)
class Reason:
    """Why a pair is not eligible: a stable code plus sentences in Chinese and English."""

    code: str
    zh: str
    en: str


def age_on(birth_on: date, on: date) -> int:
    """Completed years of age on a given date."""
    return on.year - birth_on.year - ((on.month, on.day) < (birth_on.month, birth_on.day))


def km_text(distance_km: float) -> str:
    """Distance as people say it: one decimal under 10 km, whole km beyond."""
    return f"{distance_km:.1f}" if distance_km < 10 else f"{distance_km:.0f}"


def _limit_text(limit_km: float) -> str:
    return f"{limit_km:g}"


def check(
    laborer: Laborer, target: Target, distance_km: float, config: Config, *, rematch: bool = False
) -> list[Reason]:
    """Every hard rule the pair breaks (empty list = eligible); for batches, distance is to the nearest pickup point."""
    reasons: list[Reason] = []
    noun_zh, noun_en = _NOUN_ZH[target.kind], _NOUN_EN[target.kind]
    if laborer.is_working and not rematch:
        reasons.append(Reason("already_working", "目前正在工作", "already working"))
    if target.capacity <= 0:
        reasons.append(Reason("no_capacity", "名额已满", "no free places left"))
    age = age_on(laborer.birth_on, target.start_on)
    if target.min_age is not None and age < target.min_age:
        reasons.append(
            Reason(
                "age_below_min",
                f"{age} 岁，低于该{noun_zh}下限 {target.min_age} 岁",
                f"{age}, below this {noun_en}'s minimum of {target.min_age}",
            )
        )
    if target.max_age is not None and age > target.max_age:
        reasons.append(
            Reason(
                "age_above_max",
                f"{age} 岁，超过该{noun_zh}上限 {target.max_age} 岁",
                f"{age}, above this {noun_en}'s limit of {target.max_age}",
            )
        )
    if ABILITY_RANK[laborer.ability] < DEMAND_RANK[target.demand]:
        if laborer.ability == "none":
            reasons.append(Reason("ability_below_demand", "无劳动能力", "not able to work"))
        else:
            reasons.append(
                Reason(
                    "ability_below_demand",
                    f"{_ABILITY_ZH[laborer.ability]}，该{noun_zh}是{_DEMAND_ZH[target.demand]}",
                    f"can only do {laborer.ability} work; this {noun_en} is {target.demand} work",
                )
            )
    missing = sorted(target.skills - laborer.skills)
    if missing:
        reasons.append(
            Reason(
                "missing_skill",
                f"缺少技能：{'、'.join(missing)}",
                f"lacks required skill: {', '.join(missing)}",
            )
        )
    if laborer.needs_flexible_hours and not target.is_flexible:
        reasons.append(
            Reason(
                "needs_flexible_hours",
                f"需要弹性工时，该{noun_zh}工时固定",
                f"needs flexible hours; this {noun_en} has fixed hours",
            )
        )
    if target.kind == "batch":
        if laborer.work_area == "local":
            reasons.append(
                Reason(
                    "not_willing_to_migrate",
                    "只愿在本地就业，不外出",
                    "wants to work locally, not travel away",
                )
            )
        if distance_km > config.max_pickup_km:
            reasons.append(
                Reason(
                    "too_far",
                    f"最近的上车点离家 {distance_km:.1f} 公里，超过 {_limit_text(config.max_pickup_km)} 公里",
                    f"nearest pickup point {distance_km:.1f} km away, "
                    f"beyond the {_limit_text(config.max_pickup_km)} km limit",
                )
            )
    else:
        if distance_km > laborer.max_commute_km:
            reasons.append(
                Reason(
                    "too_far",
                    f"离家 {distance_km:.1f} 公里，超过本人上限 {_limit_text(laborer.max_commute_km)} 公里",
                    f"{distance_km:.1f} km from home, beyond the {_limit_text(laborer.max_commute_km)} km limit",
                )
            )
    if target.kind == "welfare_post":
        if laborer.work_area != "local":
            reasons.append(
                Reason(
                    "not_local",
                    "公益岗位只给不外出的本地劳动力",
                    "welfare posts are for laborers who stay local",
                )
            )
        if laborer.poverty_status not in POOR_STATUSES:
            reasons.append(
                Reason(
                    "not_poor",
                    "公益岗位只给建档立卡户或监测户",
                    "welfare posts are only for registered-poor or monitored households",
                )
            )
        if laborer.household_has_work:
            reasons.append(
                Reason(
                    "household_has_work",
                    "家中已有人就业",
                    "someone in the household already has work",
                )
            )
        if laborer.household_has_post:
            reasons.append(
                Reason(
                    "household_has_post",
                    "家中已有公益岗位（一户一岗）",
                    "the household already holds a welfare post (one per household)",
                )
            )
    return reasons


def suits(ability: ArrayLike, needs_flexible: ArrayLike, demand: ArrayLike, is_flexible: ArrayLike) -> np.ndarray:
    """Ability at least the demand, and flexible hours where they are needed (arrays or scalars, broadcast)."""
    return np.greater_equal(ability, demand) & (np.logical_not(needs_flexible) | is_flexible)


def laborer_may_take(laborers: LaborerColumns, kind: str, *, rematch: bool = False) -> np.ndarray:
    """The rules that look at the laborer alone, for targets of one kind: one bool per laborer row.

    ``eligible`` applies them to every pair; candidate generation uses them first, to search
    only for laborers who can take some target of the kind at all.
    """
    L = laborers
    ok = L.ability > ABILITY_RANK["none"]  # no target asks for less than light work
    if not rematch:
        ok &= ~L.is_working
    if kind == "batch":
        ok &= L.area != AREA_CODE["local"]
    elif kind == "welfare_post":
        ok &= (
            (L.area == AREA_CODE["local"])
            & (L.poverty != POVERTY_CODE["non_poor"])
            & ~L.household_has_work
            & ~L.household_has_post
        )
    return ok


def within_reach(
    laborers: LaborerColumns,
    li: np.ndarray,
    targets: TargetColumns,
    ti: np.ndarray,
    distance_km: np.ndarray,
    config: Config,
) -> np.ndarray:
    """The distance rule alone: a pickup point within ``max_pickup_km``, anything else within the commute."""
    is_batch = targets.kind[ti] == KIND_CODE["batch"]
    return distance_km <= np.where(is_batch, config.max_pickup_km, laborers.max_commute_km[li])


def eligible(
    laborers: LaborerColumns,
    li: np.ndarray,
    targets: TargetColumns,
    ti: np.ndarray,
    distance_km: np.ndarray | None,
    config: Config,
    *,
    rematch: bool = False,
    capacity: np.ndarray | None = None,
) -> np.ndarray:
    """``check(...) == []`` for each candidate pair (laborer row ``li[k]``, target row ``ti[k]``).

    ``distance_km=None`` applies every rule but the distance (``within_reach``), so that a
    caller can measure distances for the pairs that pass the others only.
    """
    L, T = laborers, targets
    li, ti = np.asarray(li, np.int64), np.asarray(ti, np.int64)
    kind = T.kind[ti]
    cap = T.capacity if capacity is None else capacity
    birth = L.birth_code[li]
    # Ages compared as birth dates: born on or before ``born_by`` means old enough, and so on.
    ok: np.ndarray = (cap[ti] > 0) & (birth <= T.born_by[ti]) & (birth > T.born_after[ti])
    ok &= suits(L.ability[li], L.needs_flexible[li], T.demand[ti], T.is_flexible[ti])
    asks = np.flatnonzero(T.needs_skill[ti])  # most targets ask for no skill: check only those that do
    if len(asks):
        ok[asks] &= ~mask_missing(T.skill_mask[ti[asks]], L.skill_mask[li[asks]])
    if distance_km is not None:
        ok &= within_reach(L, li, T, ti, distance_km, config)
    per_kind = np.bincount(kind, minlength=len(KINDS))
    for code, name in enumerate(KINDS):
        if per_kind[code] == 0:
            continue
        may = laborer_may_take(L, name, rematch=rematch)
        if per_kind[code] == len(kind):
            ok &= may[li]
        else:
            of_kind = np.flatnonzero(kind == code)
            ok[of_kind] &= may[li[of_kind]]
    return ok
