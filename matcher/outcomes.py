"""Synthetic 90-day outcomes with a known truth: does the learned model find what is there to find?

*Why.* Real check-ins say whether a placement lasted, never why; a model judged on them alone
could be learning noise. Here the probability that a placement lasts 90 days is *given*, a
logistic function of factors a county office would name (``TRUTH``): distance from home, age,
physical fit, pay and flexible hours, with two effects the hand-weighted score cannot see (older
laborers leave transport batches, the laborer who needs flexible hours stays where she gets
them). Outcomes are drawn from it, so the true probability is the best any model can do on
held-out placements (the ceiling ``matcher.learn.evaluate`` reports beside the model and the
hand score).

*What it feeds.* ``retention_probability`` works on ``matcher.learn`` feature rows, so the same
truth labels placements generated here (``generated_placements``), in the demo seed and in the
scale seed (``seed.outcomes`` turns them into ``RetentionCheckin`` rows at 30, 90 and 180 days).
"""

from __future__ import annotations

import numpy as np

from matcher.learn import FEATURE_NAMES, placement_features
from matcher.types import DEFAULT_CONFIG, Config

TRUTH: dict[str, float] = {
    "intercept": 1.1,
    "per_km": -0.09,  # each km of commute (to the pickup point for batches)
    "per_year_over_45": -0.03,
    "exact_physical_fit": 0.6,  # the work is as hard as the laborer can do, no easier, no harder
    "per_thousand_yuan": 0.35,  # pay in thousands of yuan (cents / 100,000)
    "flexible_when_needed": 1.2,
    "flexible": 0.2,
    "older_on_batch": -1.4,  # over 50 and far from home with a transport batch
}
"""The true logit's coefficients, by factor (known to the generator, never to the model)."""


def _col(X: np.ndarray, name: str) -> np.ndarray:
    return X[:, FEATURE_NAMES.index(name)]


def retention_probability(X: np.ndarray) -> np.ndarray:
    """The true probability that each placement (a ``matcher.learn`` feature row) lasts 90 days."""
    t = TRUTH
    age = _col(X, "age_years")
    flexible = _col(X, "is_flexible")
    logit = (
        t["intercept"]
        + t["per_km"] * np.minimum(_col(X, "distance_km"), 60.0)
        + t["per_year_over_45"] * np.maximum(age - 45.0, 0.0)
        + t["exact_physical_fit"] * (_col(X, "ability_rank") == _col(X, "demand_rank"))
        + t["per_thousand_yuan"] * (_col(X, "pay_cents") / 100_000.0)
        + t["flexible_when_needed"] * flexible * _col(X, "needs_flexible_hours")
        + t["flexible"] * flexible
        + t["older_on_batch"] * _col(X, "is_batch") * (age > 50)
    )
    p: np.ndarray = 1.0 / (1.0 + np.exp(-logit))
    return p


def draw(probability: np.ndarray, random_state: int | np.random.Generator = 0) -> np.ndarray:
    """Outcomes (1 = still working at 90 days) drawn from the given probabilities."""
    rng = np.random.default_rng(random_state)
    drawn: np.ndarray = (rng.random(len(probability)) < probability).astype(int)
    return drawn


def generated_placements(
    n_placements: int = 6_000, random_state: int = 0, config: Config = DEFAULT_CONFIG
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Placements of a synthetic county with outcomes from the truth: (features, hand scores, true p, lasted).

    Placements are eligible candidate pairs of the county's jobs and welfare graphs, drawn at random
    (a laborer may appear in several: placements follow one another over the years).
    """
    from matcher import plan
    from matcher.arrays import LaborerColumns, TargetColumns
    from matcher.synthetic import SHANXI_POINTS, make_instance

    n_laborers = max(500, n_placements // 2)
    inst = make_instance(
        n_laborers,
        max(2, n_laborers // 100),
        max(1, n_laborers // 400),
        max(1, n_laborers // 300),
        max(1, n_laborers // 20),
        centers=[SHANXI_POINTS[5]],
        random_state=random_state,
    )
    T = TargetColumns.from_targets(inst.targets)
    L = LaborerColumns.from_laborers(inst.laborers, T.skills, T.job_types)
    graphs = [plan.candidate_graph(L, T, stage, config) for stage in plan.STAGES]
    lab = np.concatenate([g.lab for g in graphs])
    tgt = np.concatenate([g.tgt for g in graphs])
    # Pairs in a canonical order, so that the sample drawn does not hang on how the radius search lists them.
    order = np.lexsort((tgt, lab))
    lab, tgt = lab[order], tgt[order]
    dist = np.concatenate([g.distance_km for g in graphs])[order]
    hand = np.concatenate([g.score for g in graphs])[order]
    rng = np.random.default_rng(random_state)
    pick = rng.choice(len(lab), min(len(lab), n_placements), replace=False)
    X = placement_features(L, lab[pick], T, tgt[pick], dist[pick], config)
    p = retention_probability(X)
    return X, hand[pick], p, draw(p, rng)
