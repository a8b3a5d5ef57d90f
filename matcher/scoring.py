"""Soft score of an eligible pair in [0, 1], its factors with sentences to read aloud, and priority.

A score is the weighted mean of factor values (distance, preference, physical fit, age fit and,
once trained, the learned retention probability); the weights live in ``Config``. The factor
value functions below work on numpy columns and on single numbers alike, so the vectorised
ranking/planning path and the explained single-pair path compute the very same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from matcher.arrays import (
    AREA_CODE,
    KIND_CODE,
    NO_MAX_AGE,
    NO_MIN_AGE,
    NO_PAY,
    PAY_CODE,
    POVERTY_CODE,
    Flags,
    LaborerColumns,
    TargetColumns,
    Values,
    age_years,
    mask_overlap,
)
from matcher.rules import age_on, km_text
from matcher.types import (
    ABILITY_RANK,
    DEFAULT_CONFIG,
    DEMAND_RANK,
    PAY_TYPES,
    WORK_AREAS,
    Config,
    Laborer,
    Target,
    job_label,
)

_DEMAND_ZH = {"light": "轻活", "moderate": "中等体力活", "heavy": "重体力活"}
_PAY_EN = {"piece": "piece-rate", "hourly": "hourly", "daily": "daily", "monthly": "monthly"}
_PAY_ZH = {"piece": "计件", "hourly": "计时", "daily": "日结", "monthly": "月薪"}


FactorCode = tuple[Any, ...]
"""A factor's compact code ``(name, value, weight, *facts)``, see `render_factor`."""


@dataclass(frozen=True, slots=True)
class Factor:
    """One part of a score: its value in [0, 1], its weight, and a sentence in Chinese and English."""

    name: str
    value: float
    weight: float
    zh: str
    en: str


@dataclass(frozen=True, slots=True)
class Score:
    """A pair's total score in [0, 1] (weighted mean of the factors) and the factors behind it."""

    total: float
    factors: tuple[Factor, ...]
    codes: tuple[FactorCode, ...] = ()  # the factors' compact codes (`render_factor`), to store


# -- factor values (columns or scalars) -------------------------------------------------------


def distance_value(distance_km: Values, limit_km: Values) -> Values:
    """1.0 at the doorstep, falling linearly to 0.0 at the limit (commute, or pickup for batches)."""
    return np.clip(1.0 - distance_km / np.maximum(limit_km, 1e-9), 0.0, 1.0)


def preference_value(job_value: Values, pay_value: Values, area_value: Values) -> Values:
    """Mean of the job-type, pay-type and local-vs-migrant sub-scores."""
    return (job_value + pay_value + area_value) / 3.0


def job_value(has_preference: Flags, is_match: Flags, config: Config) -> Values:
    """1 when the job type is one the laborer asked for, 0 when not, neutral without a preference."""
    return np.where(has_preference, np.where(is_match, 1.0, 0.0), config.no_preference_value)


def pay_value(laborer_pay: Values, target_pay: Values, config: Config) -> Values:
    """1 when the pay type is the one preferred, 0 when another, neutral when either side is unset."""
    unset = (laborer_pay == NO_PAY) | (target_pay == NO_PAY)
    return np.where(unset, config.no_preference_value, np.where(laborer_pay == target_pay, 1.0, 0.0))


def area_value(area_code: Values, is_batch: Flags) -> Values:
    """1 when local/away matches the laborer's wish: batches suit 'migrant'/'any', the rest 'local'/'any'."""
    suits: np.ndarray = np.where(is_batch, area_code != AREA_CODE["local"], area_code != AREA_CODE["migrant"])
    return suits.astype(float)


def physical_value(ability_rank: Values, demand_rank: Values, config: Config) -> Values:
    """1 when the demand matches the ability exactly, a little less per rank of spare strength, 0 when too hard."""
    spare = ability_rank - demand_rank
    return np.where(spare < 0, 0.0, np.clip(1.0 - config.overqualified_step * spare, 0.0, 1.0))


def age_bounds(min_age: Values, max_age: Values, config: Config) -> tuple[Values, Values]:
    """The age range used for age fit: the target's own, or the configured working-age default."""
    low = np.where(min_age == NO_MIN_AGE, config.default_min_age, min_age)
    high = np.where(max_age == NO_MAX_AGE, config.default_max_age, max_age)
    return low, high


def age_value(age: Values, low: Values, high: Values, config: Config) -> Values:
    """1 when at least ``age_margin_years`` inside the range, falling linearly to 0 at a limit."""
    return np.clip(np.minimum(age - low, high - age) / config.age_margin_years, 0.0, 1.0)


def combine(
    distance: Values, preference: Values, physical: Values, age: Values, learned: Values | None, config: Config
) -> Values:
    """Weighted mean of the factor values; the learned factor counts only when given."""
    total = (
        config.weight_distance * distance
        + config.weight_preference * preference
        + config.weight_physical * physical
        + config.weight_age * age
    )
    weight = config.weight_distance + config.weight_preference + config.weight_physical + config.weight_age
    if learned is not None and config.weight_learned > 0:
        total = total + config.weight_learned * learned
        weight += config.weight_learned
    return total / weight


# -- columns ----------------------------------------------------------------------------------


FACTOR_NAMES: tuple[str, ...] = ("distance", "preference", "physical", "age")
"""The hand-weighted factors, in the column order of ``factor_columns``."""


def factor_columns(
    laborers: LaborerColumns,
    li: np.ndarray,
    targets: TargetColumns,
    ti: np.ndarray,
    distance_km: np.ndarray,
    config: Config,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Distance, preference, physical and age values of each candidate pair (rows ``li[k]``, ``ti[k]``)."""
    L, T = laborers, targets
    is_batch = T.kind[ti] == KIND_CODE["batch"]
    limit_km = np.where(is_batch, config.max_pickup_km, L.max_commute_km[li])
    distance = distance_value(distance_km, limit_km)
    preference = preference_value(
        job_value(L.has_job_pref[li], mask_overlap(L.job_mask[li], T.job_mask[ti]), config),
        pay_value(L.pay[li], T.pay[ti], config),
        area_value(L.area[li], is_batch),
    )
    physical = physical_value(L.ability[li], T.demand[ti], config)
    low, high = age_bounds(T.min_age[ti], T.max_age[ti], config)
    age = age_value(age_years(L.birth_y[li], L.birth_md[li], T.start_y[ti], T.start_md[ti]), low, high, config)
    return np.asarray(distance), np.asarray(preference), np.asarray(physical), np.asarray(age)


def score_columns(
    laborers: LaborerColumns,
    li: np.ndarray,
    targets: TargetColumns,
    ti: np.ndarray,
    distance_km: np.ndarray,
    config: Config,
    learned: np.ndarray | None = None,
) -> np.ndarray:
    """Total score of each candidate pair (laborer row ``li[k]``, target row ``ti[k]``)."""
    return np.asarray(combine(*factor_columns(laborers, li, targets, ti, distance_km, config), learned, config))


def bonus_columns(
    poverty: Values, ability: Values, kind: Values, config: Config, flagged: Flags | None = None
) -> np.ndarray:
    """Per-placement priority added to the score in plan objectives: poverty, and light workers on welfare posts;
    a poor household under watch (`flagged`) comes first among the poor."""
    bonus = np.where(
        poverty == POVERTY_CODE["registered_poor"],
        config.registered_poor_bonus,
        np.where(poverty == POVERTY_CODE["monitored"], config.monitored_bonus, 0.0),
    )
    light_on_post = (kind == KIND_CODE["welfare_post"]) & (ability == ABILITY_RANK["light"])
    bonus = bonus + np.where(light_on_post, config.light_welfare_bonus, 0.0)
    if flagged is not None:
        watched = np.asarray(flagged, bool) & (poverty != POVERTY_CODE["non_poor"])
        bonus = bonus + np.where(watched, config.flagged_bonus, 0.0)
    return bonus


def priority_columns(
    poverty: Values,
    ability: Values,
    household_has_work: Flags,
    kind: Values,
    config: Config,
    flagged: Flags | None = None,
) -> np.ndarray:
    """How strongly targets prefer a laborer: poverty first (households under watch first among the poor),
    households without work, light workers for posts."""
    bonus = bonus_columns(poverty, ability, kind, config, flagged)
    return bonus + np.where(household_has_work, 0.0, config.without_work_bonus)


def priority(laborer: Laborer, config: Config = DEFAULT_CONFIG, kind: str | None = None) -> float:
    """Priority of a laborer when targets choose: registered-poor first, then households without work."""
    return float(
        priority_columns(
            np.int8(POVERTY_CODE[laborer.poverty_status]),
            np.int8(ABILITY_RANK[laborer.ability]),
            laborer.household_has_work,
            np.int8(KIND_CODE[kind] if kind else -1),
            config,
            laborer.household_flagged,
        )
    )


# -- one explained pair -----------------------------------------------------------------------


_PRONOUNS = {"F": ("她", "her", "she"), "M": ("他", "him", "he")}
_DEMAND_NAME = {rank: name for name, rank in DEMAND_RANK.items()}
JOB_PREFERENCE = {"none": 0, "wanted": 1, "other": 2}
"""How a target's job type stands to the laborer's wishes, as stored in a factor code."""


def _preference_text(
    sex: str,
    job: int,
    job_type: str,
    laborer_pay: str | None,
    target_pay: str | None,
    work_area: str,
    is_batch: bool,
) -> tuple[str, str]:
    """What of the laborer's wishes the target meets, each wish said once: the met ones in one phrase
    ("做缝纫、计件、在本地，都合她心意"), the others after it, sentences joined with '；'."""
    zh_pron, _, en_subj = _PRONOUNS[sex]
    met_zh: list[str] = []
    met_en: list[str] = []
    zh: list[str] = []
    en: list[str] = []
    if job == JOB_PREFERENCE["none"]:
        zh.append("对工种没有要求")
        en.append("no job-type preference")
    elif job == JOB_PREFERENCE["wanted"]:
        met_zh.append(f"做{job_label(job_type, 'zh')}")
        met_en.append(f"{job_label(job_type, 'en')} work")
    else:
        zh.append(f"不是{zh_pron}想做的工种")
        en.append(f"not the work {en_subj} asked for")
    if laborer_pay and target_pay:
        if laborer_pay == target_pay:
            met_zh.append(_PAY_ZH[target_pay])
            met_en.append(f"{_PAY_EN[target_pay]} pay")
        else:
            zh.append(f"按{_PAY_ZH[target_pay]}算，{zh_pron}想要{_PAY_ZH[laborer_pay]}")
            en.append(f"{_PAY_EN[target_pay]} pay, {en_subj} prefers {_PAY_EN[laborer_pay]}")
    if is_batch:
        if work_area == "migrant":
            met_zh.append("外出务工")
            met_en.append("work away from home")
        elif work_area == "any":
            zh.append("可以外出务工")
            en.append("willing to work away from home")
        else:
            zh.append(f"{zh_pron}只想在本地就业")
            en.append(f"{en_subj} wants to stay local")
    elif work_area == "local":
        met_zh.append("在本地")
        met_en.append("local work")
    elif work_area == "any":
        zh.append("本地就业")
        en.append("local work")
    else:
        zh.append(f"本地岗位，但{zh_pron}想外出务工")
        en.append(f"local work, though {en_subj} wants to go out")
    if met_zh:
        met = "、".join(met_zh) + (f"，都合{zh_pron}心意" if len(met_zh) > 1 else f"，合{zh_pron}心意")
        listed = met_en[0] if len(met_en) == 1 else ", ".join(met_en[:-1]) + " and " + met_en[-1]
        zh.insert(0, met)
        en.insert(0, f"{listed}, as {en_subj} wished")
    return "；".join(zh), "; ".join(en)


def _physical_text(sex: str, spare: int, demand: str) -> tuple[str, str]:
    zh_pron, en_obj, _ = _PRONOUNS[sex]
    demand_zh = _DEMAND_ZH[demand]
    if spare == 0:
        return f"{demand_zh}，适合{zh_pron}", f"{demand} work, suits {en_obj}"
    if spare > 0:
        return f"{demand_zh}，对{zh_pron}来说轻松", f"{demand} work, easy for {en_obj}"
    return f"{demand_zh}，{zh_pron}干不了", f"{demand} work, too hard for {en_obj}"


def _age_text(age: int, low: int, high: int, value: float) -> tuple[str, str]:
    if value >= 1.0:
        return f"{age} 岁，在 {low}–{high} 岁之间", f"age {age}, well within {low}–{high}"
    if age < low or age > high:
        return f"{age} 岁，超出通常的 {low}–{high} 岁", f"age {age}, outside the usual {low}–{high}"
    if age - low < high - age:
        return f"{age} 岁，接近下限 {low} 岁", f"age {age}, close to the minimum of {low}"
    return f"{age} 岁，接近上限 {high} 岁", f"age {age}, close to the limit of {high}"


def render_factor(code: FactorCode) -> Factor:
    """A factor with its sentences from its compact code ``(name, value, weight, *facts)``.

    The facts each factor's sentence needs, in order: distance (shown km, is batch); preference
    (sex, `JOB_PREFERENCE`, target job type, laborer pay type, target pay type, work area, is batch);
    physical (sex, ability rank minus demand rank, demand); age (age, low, high); learned and crowding
    (none; crowding's value is the capacity price deducted from the score).
    Codes are plain lists of numbers, strings and booleans, so they are stored as JSON as they are.
    """
    name, value, weight, *facts = code
    value, weight = float(value), float(weight)
    if name == "distance":
        km, is_batch = facts
        km = km_text(km)
        texts = (
            (f"上车点离家 {km} 公里", f"pickup point {km} km away")
            if is_batch
            else (f"离家 {km} 公里", f"{km} km from home")
        )
    elif name == "preference":
        texts = _preference_text(*facts)
    elif name == "physical":
        texts = _physical_text(*facts)
    elif name == "age":
        age, low, high = facts
        texts = _age_text(age, low, high, value)
    elif name == "crowding":  # value: the capacity price deducted (matcher.prices), in score units
        texts = ("很多人更适合这个岗位", "many others fit this post better")
    elif name == "learned":
        texts = (f"90 天后仍在岗的可能性 {value:.0%}", f"{value:.0%} likely to still be working after 90 days")
    else:
        raise ValueError(f"unknown factor {name!r}")
    return Factor(name, value, weight, *texts)


def factor_codes(
    laborer: Laborer,
    target: Target,
    values: tuple[float, float, float, float],
    shown_km: float,
    config: Config,
    learned: float | None = None,
) -> tuple[FactorCode, ...]:
    """Compact codes (see `render_factor`) of a pair whose factor values (``FACTOR_NAMES`` order) are known."""
    d_value, p_value, ph_value, a_value = (float(v) for v in values)
    is_batch = target.kind == "batch"
    if not laborer.job_types:
        job = JOB_PREFERENCE["none"]
    else:
        job = JOB_PREFERENCE["wanted" if target.job_type in laborer.job_types else "other"]
    low = config.default_min_age if target.min_age is None else target.min_age
    high = config.default_max_age if target.max_age is None else target.max_age
    codes = [
        ("distance", d_value, config.weight_distance, float(shown_km), is_batch),
        (
            "preference",
            p_value,
            config.weight_preference,
            laborer.sex,
            job,
            target.job_type,
            laborer.pay_type,
            target.pay_type,
            laborer.work_area,
            is_batch,
        ),
        (
            "physical",
            ph_value,
            config.weight_physical,
            laborer.sex,
            ABILITY_RANK[laborer.ability] - DEMAND_RANK[target.demand],
            target.demand,
        ),
        ("age", a_value, config.weight_age, age_on(laborer.birth_on, target.start_on), low, high),
    ]
    if learned is not None and config.weight_learned > 0:
        codes.append(("learned", float(learned), config.weight_learned))
    return tuple(codes)


def factor_code_columns(
    laborers: LaborerColumns,
    li: np.ndarray,
    targets: TargetColumns,
    ti: np.ndarray,
    distance_km: np.ndarray,
    config: Config,
) -> list[tuple[FactorCode, ...]]:
    """`factor_codes` of many pairs at once, from the columns alone (the distance shown is ``distance_km``)."""
    L, T = laborers, targets
    values = factor_columns(L, li, T, ti, distance_km, config)
    is_batch = (T.kind[ti] == KIND_CODE["batch"]).tolist()
    sex = np.where(L.is_female[li], "F", "M").tolist()
    job = np.where(
        L.has_job_pref[li],
        np.where(mask_overlap(L.job_mask[li], T.job_mask[ti]), JOB_PREFERENCE["wanted"], JOB_PREFERENCE["other"]),
        JOB_PREFERENCE["none"],
    ).tolist()
    job_type = [T.targets[t].job_type for t in ti.tolist()]
    pay_names = [*PAY_TYPES, None]  # NO_PAY (-1) indexes the last
    laborer_pay = [pay_names[p] for p in L.pay[li].tolist()]
    target_pay = [pay_names[p] for p in T.pay[ti].tolist()]
    area = [WORK_AREAS[a] for a in L.area[li].tolist()]
    spare = (L.ability[li].astype(np.int64) - T.demand[ti]).tolist()
    demand = [_DEMAND_NAME[d] for d in T.demand[ti].tolist()]
    low, high = (np.asarray(b) for b in age_bounds(T.min_age[ti], T.max_age[ti], config))
    age = np.asarray(age_years(L.birth_y[li], L.birth_md[li], T.start_y[ti], T.start_md[ti])).tolist()
    d_v, p_v, ph_v, a_v = (v.tolist() for v in values)
    w = config
    return [
        (
            ("distance", d_v[i], w.weight_distance, km, is_batch[i]),
            (
                "preference",
                p_v[i],
                w.weight_preference,
                sex[i],
                job[i],
                job_type[i],
                laborer_pay[i],
                target_pay[i],
                area[i],
                is_batch[i],
            ),
            ("physical", ph_v[i], w.weight_physical, sex[i], spare[i], demand[i]),
            ("age", a_v[i], w.weight_age, age[i], lo, hi),
        )
        for i, (km, lo, hi) in enumerate(zip(distance_km.tolist(), low.tolist(), high.tolist(), strict=True))
    ]


def explain(
    laborer: Laborer,
    target: Target,
    values: tuple[float, float, float, float],
    shown_km: float,
    config: Config,
    learned: float | None = None,
) -> tuple[Factor, ...]:
    """Factors with sentences for a pair whose factor values (``FACTOR_NAMES`` order) are known."""
    return tuple(render_factor(code) for code in factor_codes(laborer, target, values, shown_km, config, learned))


def score(
    laborer: Laborer,
    target: Target,
    distance_km: float,
    config: Config,
    *,
    learned: float | None = None,
    display_km: float | None = None,
) -> Score:
    """Score one pair with its factors; ``display_km`` (e.g. geodesic) is the distance the sentence quotes."""
    is_batch = target.kind == "batch"
    limit_km = config.max_pickup_km if is_batch else laborer.max_commute_km
    d_value = distance_value(np.float64(distance_km), np.float64(limit_km))
    p_value = preference_value(
        job_value(bool(laborer.job_types), target.job_type in laborer.job_types, config),
        pay_value(
            np.int8(NO_PAY if laborer.pay_type is None else PAY_CODE[laborer.pay_type]),
            np.int8(NO_PAY if target.pay_type is None else PAY_CODE[target.pay_type]),
            config,
        ),
        area_value(np.int8(AREA_CODE[laborer.work_area]), is_batch),
    )
    ph_value = physical_value(np.int8(ABILITY_RANK[laborer.ability]), np.int8(DEMAND_RANK[target.demand]), config)
    low, high = age_bounds(
        np.int64(NO_MIN_AGE if target.min_age is None else target.min_age),
        np.int64(NO_MAX_AGE if target.max_age is None else target.max_age),
        config,
    )
    a_value = age_value(np.int64(age_on(laborer.birth_on, target.start_on)), low, high, config)
    learned_value = None if learned is None else np.float64(learned)
    total = combine(d_value, p_value, ph_value, a_value, learned_value, config)
    shown_km = distance_km if display_km is None else display_km
    values = (float(d_value), float(p_value), float(ph_value), float(a_value))
    codes = factor_codes(laborer, target, values, shown_km, config, learned)
    return Score(float(total), tuple(render_factor(code) for code in codes), codes)
