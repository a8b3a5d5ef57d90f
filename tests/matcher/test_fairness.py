"""The fairness breakdown: figures by group that add up, ratios to the overall rate, retention merged in."""

from __future__ import annotations

import numpy as np
import pytest

from matcher import fairness


def _small():
    """Six laborers in four households; households 1 and 2 without work."""
    groups = {
        "sex": np.array(["F", "F", "M", "F", "M", "M"]),
        "village": np.array(["v1", "v1", "v1", "v2", "v2", "v2"]),
    }
    household = np.array([1, 1, 2, 3, 4, 4])
    without_work = np.array([True, True, True, False, True, True])
    placed = np.array([True, False, True, False, False, False])
    commute = np.array([2.0, 99.0, 4.0, 99.0, 99.0, 99.0])  # unplaced distances are ignored
    return groups, household, without_work, placed, commute


def test_figures_of_a_small_placement_by_hand():
    result = fairness.breakdown(*_small())
    overall = result.overall
    assert (overall.laborers, overall.placed, overall.households_without_work, overall.households_moved) == (6, 2, 3, 2)
    assert overall.mean_commute_km == pytest.approx(3.0)
    women, men = result.dimensions["sex"]
    assert (women.group, women.laborers, women.placed, women.households_without_work, women.households_moved) == (
        "F",
        3,
        1,
        1,  # household 3 has work: only household 1 counts
        1,
    )
    assert women.placed_ratio == pytest.approx((1 / 3) / (2 / 6))
    v1, v2 = result.dimensions["village"]
    assert (v1.placed, v1.households_moved, v1.moved_rate) == (2, 2, 1.0)
    assert (v2.placed, v2.households_without_work, v2.moved_rate, v2.mean_commute_km) == (0, 1, 0.0, None)
    assert v2.placed_ratio == 0.0 and v2.below(0.8) == ("placed_rate", "moved_rate")
    assert v1.below(0.8) == ()
    assert "age_band" not in result.dimensions  # only the dimensions given


def test_household_level_groups_add_up_to_the_overall_figures():
    rng = np.random.default_rng(7)
    n = 2_000
    household = rng.integers(0, 600, n)
    village = (household % 13).astype(str)  # a household lives in one village
    groups = {
        "village": village,
        "sex": rng.choice(["F", "M"], n),
        "age_band": fairness.age_band(rng.integers(16, 80, n)),
    }
    without_work = (household % 3) != 0
    placed = rng.random(n) < 0.3
    result = fairness.breakdown(groups, household, without_work, placed, rng.random(n) * 10)
    for field in ("laborers", "placed", "households_without_work", "households_moved", "commute_km_total"):
        total = sum(getattr(g, field) for g in result.dimensions["village"])
        assert total == pytest.approx(getattr(result.overall, field)), field
    for name in ("sex", "age_band"):
        assert sum(g.laborers for g in result.dimensions[name]) == n
        assert sum(g.placed for g in result.dimensions[name]) == placed.sum()
    # Person-level groups: a household moved by a woman and by a man counts in both, never more.
    assert sum(g.households_moved for g in result.dimensions["sex"]) >= result.overall.households_moved


def test_age_bands_have_the_policy_limits():
    ages = np.array([16, 39, 40, 49, 50, 59, 60, 88, 15])
    assert fairness.age_band(ages).tolist() == [
        "16-39",
        "16-39",
        "40-49",
        "40-49",
        "50-59",
        "50-59",
        "60+",
        "60+",
        "16-39",
    ]


def test_retention_merges_and_round_trips_through_json():
    result = fairness.breakdown(*_small())
    kept = fairness.retention(
        {"sex": np.array(["F", "F", "M"]), "village": np.array(["v1", "v1", "v2"])},
        np.ones(3),
        np.array([1.0, 1.0, 0.0]),
    )
    merged = fairness.Breakdown.from_json(result.with_retention(kept).to_json())
    assert (merged.overall.checked, merged.overall.retained) == (3, 2)
    women, men = merged.dimensions["sex"]
    assert women.retention_rate == 1.0 and women.retention_ratio == pytest.approx(1.5)
    assert men.retention_rate == 0.0 and "retention_rate" in men.below(0.8)
    assert merged.dimensions["village"][1].checked == 1


def test_an_empty_population_has_no_rates():
    empty = np.array([], dtype=object)
    result = fairness.breakdown(
        {"sex": empty}, np.array([], np.int64), np.array([], bool), np.array([], bool), np.array([])
    )
    assert result.overall.laborers == 0 and result.overall.placed_rate is None and result.dimensions["sex"] == []
