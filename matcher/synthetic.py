"""Deterministic synthetic instances (laborers and targets in memory) for tests and benchmarks.

Positions are spread around given county-seat centers: households live in villages scattered
around a seat, workshops and welfare posts sit near villages, enterprises near the seat, and
transport batches collect from a few pickup points around one seat. The mix (many older and
light-work laborers, women left behind, most households registered poor) follows the Shanxi
2020 scenario closely enough to exercise every rule; it is not a census. Same arguments, same
instance.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import numpy.typing as npt

from matcher.types import Config, Laborer, Target

SHANXI_POINTS: tuple[tuple[float, float], ...] = (
    (37.87, 112.55),  # Taiyuan
    (40.08, 113.30),  # Datong
    (36.20, 113.12),  # Changzhi
    (36.08, 111.52),  # Linfen
    (35.03, 111.01),  # Yuncheng
    (36.47, 110.75),  # Daning
    (37.52, 111.14),  # Lishi (Lüliang)
)
"""A handful of county seats inside Shanxi (lat 34.6–40.7, lon 110.2–114.6), used when no centers are given."""

SKILLS = ("sewing", "cooking", "driving", "welding", "electrician", "masonry", "care", "forklift")
JOB_TYPES = (
    "sewing",
    "food",
    "handicraft",
    "packing",
    "farming",
    "factory",
    "construction",
    "logistics",
)
WELFARE_JOB_TYPES = (
    "cleaner",
    "road_keeper",
    "forest_ranger",
    "water_keeper",
    "patrol",
    "elder_carer",
)
START_ON = date(2020, 4, 1)
KM_PER_DEG = 111.2


@dataclass(frozen=True)
class Instance:
    """A generated problem: laborers seeking work and the targets (openings, batches, posts) open to them."""

    laborers: list[Laborer]
    targets: list[Target]
    centers: list[tuple[float, float]] = field(default_factory=list)


def shanxi_grid_centers(n: int, random_state: int = 0) -> list[tuple[float, float]]:
    """``n`` synthetic stand-ins for county seats, uniform inside Shanxi's bounding box."""
    rng = np.random.default_rng(random_state)
    return list(
        zip(
            rng.uniform(34.6, 40.7, n).round(4).tolist(),
            rng.uniform(110.2, 114.6, n).round(4).tolist(),
            strict=True,
        )
    )


def _jitter(
    rng: np.random.Generator, lat: npt.ArrayLike, lon: npt.ArrayLike, sd_km: float
) -> tuple[np.ndarray, np.ndarray]:
    lat_a = np.asarray(lat, float)
    lon_a = np.asarray(lon, float)
    dlat = rng.normal(0.0, sd_km, lat_a.shape) / KM_PER_DEG
    dlon = rng.normal(0.0, sd_km, lon_a.shape) / (KM_PER_DEG * np.cos(np.radians(lat_a)))
    return lat_a + dlat, lon_a + dlon


def _pick_set(rng: np.random.Generator, words: Sequence[str], p_each: float) -> frozenset[str]:
    return frozenset(w for w, hit in zip(words, rng.random(len(words)) < p_each, strict=True) if hit)


def make_instance(
    n_laborers: int,
    n_workshops: int,
    n_enterprises: int,
    n_batches: int,
    n_welfare_posts: int,
    centers: list[tuple[float, float]] | None = None,
    random_state: int = 0,
    *,
    spread_km: float = 12.0,
    workshop_slots: int = 30,
    enterprise_slots: int = 160,
    batch_seats: int = 50,
    max_pickup_points: int = 4,
) -> Instance:
    """Build a reproducible instance around ``centers`` (default: a few Shanxi county seats)."""
    rng = np.random.default_rng(random_state)
    centers = list(centers or SHANXI_POINTS)
    c_lat = np.array([c[0] for c in centers])
    c_lon = np.array([c[1] for c in centers])

    # Villages around seats; households in villages; laborers in households.
    n_households = max(1, math.ceil(n_laborers / 1.6))
    n_villages = max(1, n_households // 40)
    v_center = rng.integers(0, len(centers), n_villages)
    v_lat, v_lon = _jitter(rng, c_lat[v_center], c_lon[v_center], spread_km)
    h_village = rng.integers(0, n_villages, n_households)
    h_lat, h_lon = _jitter(rng, v_lat[h_village], v_lon[h_village], 0.4)
    h_poverty = rng.choice(["registered_poor", "monitored", "non_poor"], n_households, p=[0.6, 0.15, 0.25])
    h_has_work = rng.random(n_households) < 0.15
    h_has_post = (~h_has_work) & (rng.random(n_households) < 0.05)
    # Every household gets at least one laborer; the rest are spread at random.
    member_of = np.concatenate(
        [
            np.arange(min(n_households, n_laborers)),
            rng.integers(0, n_households, max(0, n_laborers - n_households)),
        ]
    )
    member_of.sort()
    orders = rng.permutation(n_laborers)
    ages = np.clip(rng.normal(48, 13, n_laborers), 16, 75).astype(int)
    birth_days = rng.integers(0, 365, n_laborers)
    sexes = np.where(rng.random(n_laborers) < 0.55, "F", "M")
    abilities = rng.choice(["full", "moderate", "light", "none"], n_laborers, p=[0.4, 0.27, 0.28, 0.05])
    areas = rng.choice(["local", "migrant", "any"], n_laborers, p=[0.5, 0.2, 0.3])
    commutes = rng.choice([5.0, 10.0, 15.0, 20.0], n_laborers, p=[0.2, 0.5, 0.2, 0.1])
    pay_types = rng.choice(["", "piece", "hourly", "daily", "monthly"], n_laborers, p=[0.4, 0.2, 0.1, 0.1, 0.2])
    flexible = rng.random(n_laborers) < 0.25
    working = rng.random(n_laborers) < 0.02
    laborers = []
    for i in range(n_laborers):
        h = int(member_of[i])
        birth_on = date(START_ON.year - int(ages[i]) - 1, 1, 1) + timedelta(days=int(birth_days[i]))
        laborers.append(
            Laborer(
                id=i + 1,
                household_id=h + 1,
                lat=float(h_lat[h]),
                lon=float(h_lon[h]),
                birth_on=birth_on,
                sex=str(sexes[i]),
                ability=str(abilities[i]),
                skills=_pick_set(rng, SKILLS, 0.12),
                work_area=str(areas[i]),
                max_commute_km=float(commutes[i]),
                job_types=_pick_set(rng, JOB_TYPES, 0.15),
                pay_type=str(pay_types[i]) or None,
                needs_flexible_hours=bool(flexible[i]),
                poverty_status=str(h_poverty[h]),
                household_has_work=bool(h_has_work[h]),
                household_has_post=bool(h_has_post[h]),
                is_working=bool(working[i]),
                order=int(orders[i]),
            )
        )

    targets: list[Target] = []

    def _add_openings(
        n_employers: int,
        slots_mean: float,
        employer_base: int,
        near_village: bool,
        demand_p: list[float],
        flexible_p: float,
        pay_p: list[float],
        prefix: str,
    ) -> None:
        if n_employers == 0:
            return
        if near_village:
            at = rng.integers(0, n_villages, n_employers)
            e_lat, e_lon = _jitter(rng, v_lat[at], v_lon[at], 1.0)
        else:
            at = rng.integers(0, len(centers), n_employers)
            e_lat, e_lon = _jitter(rng, c_lat[at], c_lon[at], spread_km / 3)
        for e in range(n_employers):
            slots = max(1, int(rng.poisson(slots_mean)))
            n_open = int(rng.integers(1, 4))
            cuts = np.sort(rng.integers(0, slots + 1, n_open - 1))
            parts = np.diff(np.concatenate([[0], cuts, [slots]]))
            for part in parts:
                if part == 0:
                    continue
                max_age = rng.choice([55, 60, 65, 70, -1])
                targets.append(
                    Target(
                        kind="opening",
                        id=len(targets) + 1,
                        title=f"{prefix} {employer_base + e}",
                        job_type=str(rng.choice(JOB_TYPES)),
                        points=((float(e_lat[e]), float(e_lon[e])),),
                        capacity=int(part),
                        min_age=int(rng.choice([16, 18])),
                        max_age=None if max_age < 0 else int(max_age),
                        demand=str(rng.choice(["light", "moderate", "heavy"], p=demand_p)),
                        skills=_pick_set(rng, SKILLS, 0.03),
                        pay_type=str(rng.choice(["piece", "hourly", "daily", "monthly"], p=pay_p)),
                        pay_cents=int(rng.integers(2_000, 6_000)) * 100,
                        is_flexible=bool(rng.random() < flexible_p),
                        start_on=START_ON + timedelta(days=int(rng.integers(0, 60))),
                        employer_id=employer_base + e,
                        region_code=f"14{int(at[e]) % 10_000:04d}",
                    )
                )

    _add_openings(
        n_workshops,
        workshop_slots,
        1,
        True,
        [0.6, 0.35, 0.05],
        0.8,
        [0.6, 0.15, 0.15, 0.1],
        "workshop",
    )
    _add_openings(
        n_enterprises,
        enterprise_slots,
        1 + n_workshops,
        False,
        [0.2, 0.5, 0.3],
        0.2,
        [0.1, 0.1, 0.2, 0.6],
        "enterprise",
    )

    for b in range(n_batches):
        seat = int(rng.integers(0, len(centers)))
        n_points = int(rng.integers(1, max_pickup_points + 1))
        p_lat, p_lon = _jitter(rng, np.full(n_points, c_lat[seat]), np.full(n_points, c_lon[seat]), 2 * spread_km)
        max_age = int(rng.choice([45, 50, 55, 60]))
        targets.append(
            Target(
                kind="batch",
                id=b + 1,
                title=f"batch {b + 1}",
                job_type=str(rng.choice(["factory", "construction", "logistics", "food"])),
                points=tuple(zip(p_lat.tolist(), p_lon.tolist(), strict=True)),
                capacity=batch_seats,
                min_age=18,
                max_age=max_age,
                demand=str(rng.choice(["light", "moderate", "heavy"], p=[0.2, 0.5, 0.3])),
                skills=_pick_set(rng, SKILLS, 0.03),
                pay_type="monthly",
                pay_cents=int(rng.integers(3_500, 7_000)) * 100,
                is_flexible=False,
                start_on=START_ON + timedelta(days=int(rng.integers(0, 30))),
                employer_id=None,
                region_code=f"14{seat % 10_000:04d}",
            )
        )

    if n_welfare_posts:
        at = rng.integers(0, n_villages, n_welfare_posts)
        w_lat, w_lon = _jitter(rng, v_lat[at], v_lon[at], 1.5)
        for w in range(n_welfare_posts):
            max_age = int(rng.choice([60, 65, 70, -1]))
            targets.append(
                Target(
                    kind="welfare_post",
                    id=w + 1,
                    title=f"welfare post {w + 1}",
                    job_type=str(rng.choice(WELFARE_JOB_TYPES)),
                    points=((float(w_lat[w]), float(w_lon[w])),),
                    capacity=1,
                    min_age=18,
                    max_age=None if max_age < 0 else max_age,
                    demand=str(rng.choice(["light", "moderate"], p=[0.7, 0.3])),
                    skills=frozenset(),
                    pay_type="monthly",
                    pay_cents=50_000,
                    is_flexible=bool(rng.random() < 0.5),
                    start_on=START_ON,
                    employer_id=None,
                    region_code=f"14{int(v_center[at[w]]) % 10_000:04d}",
                )
            )
    return Instance(laborers, targets, centers)


def make_placements(
    n_laborers: int = 3_000, random_state: int = 0, *, hidden_effect: float = 2.0, config: Config | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Simulated placements with 90-day outcomes: (features, hand scores, lasted).

    Outcomes follow the hand-weighted score plus a ``hidden_effect`` the hand score cannot see
    (older laborers leave batches far from home, women with flexible hours stay), so a learned
    model has something to find; ``hidden_effect=0`` leaves only the hand score and noise.
    """
    from matcher import plan
    from matcher.arrays import LaborerColumns, TargetColumns
    from matcher.learn import FEATURE_NAMES, placement_features
    from matcher.types import DEFAULT_CONFIG

    config = config or DEFAULT_CONFIG
    inst = make_instance(
        n_laborers,
        max(2, n_laborers // 100),
        max(1, n_laborers // 400),
        max(1, n_laborers // 300),
        0,
        centers=[SHANXI_POINTS[5]],
        random_state=random_state,
    )
    T = TargetColumns.from_targets(inst.targets)
    L = LaborerColumns.from_laborers(inst.laborers, T.skills, T.job_types)
    graph = plan.candidate_graph(L, T, "jobs", config)
    rng = np.random.default_rng(random_state)
    # Drawn from the pairs in a canonical order, not the radius search's listing order (as matcher.outcomes).
    canonical = np.lexsort((graph.tgt, graph.lab))
    pick = canonical[rng.choice(len(graph), min(len(graph), 4 * n_laborers), replace=False)]
    X = placement_features(L, graph.lab[pick], T, graph.tgt[pick], graph.distance_km[pick], config)
    hand = graph.score[pick]
    col = {name: X[:, i] for i, name in enumerate(FEATURE_NAMES)}
    older = (col["age_years"] > 50).astype(float)
    hidden = col["is_female"] * col["is_flexible"] - older * col["is_batch"] - older * (col["distance_km"] > 8)
    logit = 6.0 * (hand - 0.7) + hidden_effect * hidden
    lasted = (rng.random(len(pick)) < 1.0 / (1.0 + np.exp(-logit))).astype(int)
    return X, hand, lasted
