"""Each eligibility rule, its reason sentences, and the vectorised rules agreeing with ``check``."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matcher import rules
from matcher.arrays import LaborerColumns, TargetColumns
from matcher.rules import Reason, age_on, check
from matcher.synthetic import make_instance
from matcher.types import Config


def codes(reasons):
    return [r.code for r in reasons]


def test_default_pair_is_eligible(make_laborer, make_target, config):
    assert check(make_laborer(), make_target(), 2.0, config) == []


def test_age_is_taken_at_the_start_date():
    assert age_on(date(1956, 4, 2), date(2020, 4, 1)) == 63
    assert age_on(date(1956, 4, 1), date(2020, 4, 1)) == 64


def test_age_above_max(make_laborer, make_target, config):
    reasons = check(make_laborer(birth_on=date(1956, 1, 1)), make_target(max_age=60), 2.0, config)
    assert reasons == [Reason("age_above_max", "64 岁，超过该岗位上限 60 岁", "64, above this opening's limit of 60")]


def test_age_below_min(make_laborer, make_target, config):
    reasons = check(make_laborer(birth_on=date(2004, 5, 1)), make_target(min_age=18, kind="batch"), 2.0, config)
    assert reasons == [Reason("age_below_min", "15 岁，低于该批次下限 18 岁", "15, below this batch's minimum of 18")]


def test_ability_below_demand(make_laborer, make_target, config):
    reasons = check(make_laborer(ability="light"), make_target(demand="heavy"), 2.0, config)
    assert reasons == [
        Reason(
            "ability_below_demand",
            "只能干轻活，该岗位是重体力活",
            "can only do light work; this opening is heavy work",
        )
    ]


def test_ability_none_matches_nothing(make_laborer, make_target, config):
    reasons = check(make_laborer(ability="none"), make_target(demand="light"), 2.0, config)
    assert reasons == [Reason("ability_below_demand", "无劳动能力", "not able to work")]


@pytest.mark.parametrize(
    ("ability", "demand", "is_ok"),
    [
        ("full", "heavy", True),
        ("moderate", "heavy", False),
        ("moderate", "moderate", True),
        ("light", "moderate", False),
        ("light", "light", True),
    ],
)
def test_ability_ranks(make_laborer, make_target, config, ability, demand, is_ok):
    assert (check(make_laborer(ability=ability), make_target(demand=demand), 2.0, config) == []) is is_ok


def test_too_far_for_an_opening(make_laborer, make_target, config):
    reasons = check(make_laborer(max_commute_km=10.0), make_target(), 12.34, config)
    assert reasons == [
        Reason(
            "too_far",
            "离家 12.3 公里，超过本人上限 10 公里",
            "12.3 km from home, beyond the 10 km limit",
        )
    ]


def test_too_far_for_a_batch_uses_the_pickup_limit(make_laborer, make_target, config):
    batch = make_target(kind="batch", is_flexible=False)
    assert check(make_laborer(max_commute_km=5.0), batch, 59.0, config) == []
    reasons = check(make_laborer(), batch, 61.0, config)
    assert reasons == [
        Reason(
            "too_far",
            "最近的上车点离家 61.0 公里，超过 60 公里",
            "nearest pickup point 61.0 km away, beyond the 60 km limit",
        )
    ]
    assert check(make_laborer(), batch, 61.0, Config(max_pickup_km=80)) == []


def test_needs_flexible_hours(make_laborer, make_target, config):
    reasons = check(make_laborer(needs_flexible_hours=True), make_target(is_flexible=False), 2.0, config)
    assert reasons == [
        Reason(
            "needs_flexible_hours",
            "需要弹性工时，该岗位工时固定",
            "needs flexible hours; this opening has fixed hours",
        )
    ]


def test_local_laborer_is_not_sent_on_a_batch(make_laborer, make_target, config):
    reasons = check(make_laborer(work_area="local"), make_target(kind="batch"), 20.0, config)
    assert reasons == [
        Reason(
            "not_willing_to_migrate",
            "只愿在本地就业，不外出",
            "wants to work locally, not travel away",
        )
    ]
    assert check(make_laborer(work_area="migrant"), make_target(kind="batch"), 20.0, config) == []


def test_migrant_laborer_may_take_a_local_opening(make_laborer, make_target, config):
    assert check(make_laborer(work_area="migrant"), make_target(), 2.0, config) == []


def test_missing_skill(make_laborer, make_target, config):
    target = make_target(skills=frozenset({"welding", "driving"}))
    reasons = check(make_laborer(skills=frozenset({"welding"})), target, 2.0, config)
    assert reasons == [Reason("missing_skill", "缺少技能：driving", "lacks required skill: driving")]
    assert check(make_laborer(skills=frozenset({"welding", "driving", "sewing"})), target, 2.0, config) == []


def test_no_capacity(make_laborer, make_target, config):
    reasons = check(make_laborer(), make_target(capacity=0), 2.0, config)
    assert reasons == [Reason("no_capacity", "名额已满", "no free places left")]


def test_already_working_unless_rematching(make_laborer, make_target, config):
    laborer = make_laborer(is_working=True)
    assert check(laborer, make_target(), 2.0, config) == [Reason("already_working", "目前正在工作", "already working")]
    assert check(laborer, make_target(), 2.0, config, rematch=True) == []


def test_welfare_post_rules(make_laborer, make_target, config):
    post = make_target(kind="welfare_post", capacity=1)
    assert check(make_laborer(work_area="local"), post, 2.0, config) == []
    assert check(make_laborer(work_area="any"), post, 2.0, config) == [
        Reason(
            "not_local",
            "公益岗位只给不外出的本地劳动力",
            "welfare posts are for laborers who stay local",
        )
    ]
    assert check(make_laborer(work_area="local", poverty_status="non_poor"), post, 2.0, config) == [
        Reason(
            "not_poor",
            "公益岗位只给建档立卡户或监测户",
            "welfare posts are only for registered-poor or monitored households",
        )
    ]
    assert check(make_laborer(work_area="local", poverty_status="monitored"), post, 2.0, config) == []
    assert check(make_laborer(work_area="local", household_has_work=True), post, 2.0, config) == [
        Reason("household_has_work", "家中已有人就业", "someone in the household already has work")
    ]
    assert check(make_laborer(work_area="local", household_has_post=True), post, 2.0, config) == [
        Reason(
            "household_has_post",
            "家中已有公益岗位（一户一岗）",
            "the household already holds a welfare post (one per household)",
        )
    ]
    reasons = check(
        make_laborer(work_area="local", birth_on=date(1950, 1, 1)),
        make_target(kind="welfare_post", max_age=65),
        2.0,
        config,
    )
    assert reasons[0].zh == "70 岁，超过该公益岗位上限 65 岁"
    assert reasons[0].en == "70, above this post's limit of 65"


def test_every_failing_rule_is_listed(make_laborer, make_target, config):
    laborer = make_laborer(ability="light", needs_flexible_hours=True, is_working=True, birth_on=date(1950, 1, 1))
    target = make_target(demand="heavy", is_flexible=False, capacity=0, skills=frozenset({"driving"}))
    assert set(codes(check(laborer, target, 30.0, config))) == {
        "already_working",
        "no_capacity",
        "age_above_max",
        "ability_below_demand",
        "missing_skill",
        "needs_flexible_hours",
        "too_far",
    }


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), rematch=st.booleans())
def test_vectorised_rules_equal_check(seed, rematch):
    inst = make_instance(40, 3, 2, 3, 8, random_state=seed, spread_km=8.0)
    config = Config()
    T = TargetColumns.from_targets(inst.targets)
    L = LaborerColumns.from_laborers(inst.laborers, T.skills, T.job_types)
    li, ti = np.meshgrid(np.arange(len(L)), np.arange(len(T)), indexing="ij")
    li, ti = li.ravel(), ti.ravel()
    rng = np.random.default_rng(seed)
    dist = rng.uniform(0, 70, len(li))
    mask = rules.eligible(L, li, T, ti, dist, config, rematch=rematch)
    expected = [
        not check(inst.laborers[a], inst.targets[b], d, config, rematch=rematch)
        for a, b, d in zip(li, ti, dist, strict=True)
    ]
    assert mask.tolist() == expected
