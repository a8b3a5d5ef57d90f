"""Each score factor, its sentences, priority, and the vectorised score agreeing with ``score``."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matcher import scoring
from matcher.arrays import LaborerColumns, TargetColumns
from matcher.rules import check
from matcher.scoring import priority, score
from matcher.synthetic import make_instance
from matcher.types import Config


def factor(result, name):
    return next(f for f in result.factors if f.name == name)


def test_total_is_the_weighted_mean_of_factors(make_laborer, make_target, config):
    result = score(make_laborer(), make_target(), 2.3, config)
    weights = sum(f.weight for f in result.factors)
    assert result.total == pytest.approx(sum(f.value * f.weight for f in result.factors) / weights)
    assert 0.0 <= result.total <= 1.0
    assert [f.name for f in result.factors] == ["distance", "preference", "physical", "age"]


def test_distance_factor(make_laborer, make_target, config):
    result = factor(score(make_laborer(max_commute_km=10.0), make_target(), 2.3, config), "distance")
    assert result.value == pytest.approx(0.77)
    assert (result.zh, result.en) == ("离家 2.3 公里", "2.3 km from home")
    assert factor(score(make_laborer(), make_target(), 10.0, config), "distance").value == 0.0


def test_distance_factor_for_a_batch(make_laborer, make_target, config):
    result = factor(score(make_laborer(), make_target(kind="batch"), 12.0, config), "distance")
    assert result.value == pytest.approx(1 - 12 / 60)
    assert (result.zh, result.en) == ("上车点离家 12 公里", "pickup point 12 km away")


def test_display_distance_is_what_the_sentence_quotes(make_laborer, make_target, config):
    result = factor(score(make_laborer(), make_target(), 2.3, config, display_km=2.31), "distance")
    assert result.en == "2.3 km from home"
    assert result.value == pytest.approx(0.77)


def test_physical_factor_uses_her_or_him(make_laborer, make_target, config):
    light = make_target(demand="light")
    her = factor(score(make_laborer(ability="light", sex="F"), light, 2.0, config), "physical")
    assert (her.value, her.zh, her.en) == (1.0, "轻活，适合她", "light work, suits her")
    him = factor(score(make_laborer(ability="full", sex="M"), light, 2.0, config), "physical")
    assert (him.zh, him.en) == ("轻活，对他来说轻松", "light work, easy for him")
    assert him.value == pytest.approx(1 - 2 * config.overqualified_step)


def test_preference_factor(make_laborer, make_target, config):
    wished = factor(score(make_laborer(work_area="local"), make_target(), 2.0, config), "preference")
    assert wished.value == 1.0
    assert wished.en == "sewing work, piece-rate pay and local work, as she wished"
    assert wished.zh == "做缝纫、计件、在本地，都合她心意"
    other = make_laborer(work_area="migrant", job_types=frozenset({"construction"}), pay_type="monthly", sex="M")
    mismatch = factor(score(other, make_target(), 2.0, config), "preference")
    assert mismatch.value == 0.0
    assert (
        mismatch.en
        == "not the work he asked for; piece-rate pay, he prefers monthly; local work, though he wants to go out"
    )
    assert mismatch.zh == "不是他想做的工种；按计件算，他想要月薪；本地岗位，但他想外出务工"
    none = factor(
        score(make_laborer(job_types=frozenset(), pay_type=None), make_target(), 2.0, config),
        "preference",
    )
    assert none.value == pytest.approx((0.5 + 0.5 + 1.0) / 3)
    assert none.en == "no job-type preference; local work"


def test_preference_factor_for_a_batch(make_laborer, make_target, config):
    result = factor(
        score(make_laborer(work_area="migrant"), make_target(kind="batch"), 20.0, config),
        "preference",
    )
    assert result.value == 1.0
    assert result.en == "sewing work, piece-rate pay and work away from home, as she wished"
    assert result.zh == "做缝纫、计件、外出务工，都合她心意"


def test_age_factor(make_laborer, make_target, config):
    middle = factor(
        score(
            make_laborer(birth_on=date(1975, 1, 1)),
            make_target(min_age=18, max_age=60),
            2.0,
            config,
        ),
        "age",
    )
    assert (middle.value, middle.zh, middle.en) == (
        1.0,
        "45 岁，在 18–60 岁之间",
        "age 45, well within 18–60",
    )
    near = factor(score(make_laborer(birth_on=date(1962, 1, 1)), make_target(max_age=60), 2.0, config), "age")
    assert near.value == pytest.approx(2 / 5)
    assert (near.zh, near.en) == ("58 岁，接近上限 60 岁", "age 58, close to the limit of 60")
    young = factor(score(make_laborer(birth_on=date(2001, 1, 1)), make_target(min_age=18), 2.0, config), "age")
    assert (young.value, young.en) == (pytest.approx(1 / 5), "age 19, close to the minimum of 18")
    unlimited = factor(
        score(make_laborer(birth_on=date(1950, 1, 1)), make_target(max_age=None), 2.0, config),
        "age",
    )
    assert (unlimited.value, unlimited.en) == (0.0, "age 70, outside the usual 18–65")


def test_learned_factor_counts_only_with_weight(make_laborer, make_target):
    plain = score(make_laborer(), make_target(), 2.0, Config(), learned=0.9)
    assert [f.name for f in plain.factors] == ["distance", "preference", "physical", "age"]
    weighted = score(make_laborer(), make_target(), 2.0, Config(weight_learned=0.5), learned=1.0)
    learned = factor(weighted, "learned")
    assert (learned.zh, learned.en) == (
        "90 天后仍在岗的可能性 100%",
        "100% likely to still be working after 90 days",
    )
    assert weighted.total > plain.total


def test_weights_are_configuration(make_laborer, make_target):
    only_distance = Config(weight_preference=0, weight_physical=0, weight_age=0)
    assert score(make_laborer(), make_target(), 2.5, only_distance).total == pytest.approx(0.75)


def test_priority_orders_poor_then_without_work_then_light_for_posts(make_laborer, config):
    poor = make_laborer(poverty_status="registered_poor", household_has_work=True)
    monitored = make_laborer(poverty_status="monitored", household_has_work=True)
    non_poor = make_laborer(poverty_status="non_poor", household_has_work=True)
    assert priority(poor, config) > priority(monitored, config) > priority(non_poor, config)
    assert priority(make_laborer(household_has_work=False), config) > priority(poor, config)
    light, full = make_laborer(ability="light"), make_laborer(ability="full")
    assert priority(light, config, "welfare_post") > priority(full, config, "welfare_post")
    assert priority(light, config, "opening") == priority(full, config, "opening")


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_vectorised_score_equals_score(seed):
    inst = make_instance(30, 3, 2, 3, 8, random_state=seed, spread_km=8.0)
    config = Config()
    T = TargetColumns.from_targets(inst.targets)
    L = LaborerColumns.from_laborers(inst.laborers, T.skills, T.job_types)
    li, ti = np.meshgrid(np.arange(len(L)), np.arange(len(T)), indexing="ij")
    li, ti = li.ravel(), ti.ravel()
    dist = np.random.default_rng(seed).uniform(0, 30, len(li))
    totals = scoring.score_columns(L, li, T, ti, dist, config)
    for a, b, d, total in zip(li, ti, dist, totals, strict=True):
        laborer, target = inst.laborers[a], inst.targets[b]
        if not check(laborer, target, d, config):
            assert score(laborer, target, d, config).total == total


def test_job_types_are_named_in_the_readers_language():
    from matcher.types import job_label

    assert job_label("packaging", "zh") == "包装" and job_label("packaging", "en") == "packaging"
    assert job_label("food_processing", "en") == "food processing"
    # A type typed in by a cadre in Chinese is shown as typed, in both languages.
    assert job_label("剪纸", "zh") == job_label("剪纸", "en") == "剪纸"
