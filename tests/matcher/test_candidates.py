"""Candidate graphs hold exactly the pairs a brute-force reference finds, and the solver's network is exact."""

from __future__ import annotations

from dataclasses import replace
from unittest import mock

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matcher import bench, plan
from matcher.arrays import LaborerColumns, TargetColumns, Vocabulary
from matcher.geo import haversine_km, pairs_within_km
from matcher.rules import check
from matcher.scoring import score
from matcher.synthetic import make_instance
from matcher.types import Config

from .conftest import HOME


def nearest(laborer, target):
    return min(float(haversine_km(laborer.lat, laborer.lon, lat, lon)) for lat, lon in target.points)


def reference_edges(laborers, targets, stage, config, *, capacity, active, rematch):
    """Every eligible (laborer row, target row) of a stage with its distance, pair by pair."""
    edges = {}
    for i, laborer in enumerate(laborers):
        if not active[i]:
            continue
        for j, target in enumerate(targets):
            if target.kind not in plan.STAGES[stage]:
                continue
            target = replace(target, capacity=int(capacity[j]))
            d = nearest(laborer, target)
            if not check(laborer, target, d, config, rematch=rematch):
                edges[(i, j)] = d
    return edges


@st.composite
def problems(draw):
    seed = draw(st.integers(0, 100_000))
    inst = make_instance(
        draw(st.integers(0, 60)),
        draw(st.integers(0, 12)),
        draw(st.integers(0, 3)),
        draw(st.integers(0, 4)),
        draw(st.integers(0, 12)),
        centers=[HOME, (HOME[0] + 0.3, HOME[1] + 0.4)],
        random_state=seed,
        spread_km=draw(st.sampled_from([3.0, 12.0, 40.0])),
        workshop_slots=3,
        enterprise_slots=5,
        batch_seats=3,
        max_pickup_points=4,
    )
    rng = np.random.default_rng(seed)
    laborers = inst.laborers
    if draw(st.booleans()):  # many distinct limits: laborers share bands searched to their widest
        laborers = [replace(p, max_commute_km=float(rng.uniform(0.5, 30.0))) for p in laborers]
    capacity = np.array([t.capacity for t in inst.targets], np.int64)
    capacity[rng.random(len(capacity)) < 0.2] = 0
    active = rng.random(len(laborers)) < 0.85
    return laborers, inst.targets, capacity, active


@settings(max_examples=40, deadline=None)
@given(
    problem=problems(),
    stage=st.sampled_from(list(plan.STAGES)),
    rematch=st.booleans(),
    split=st.booleans(),
    pickup_km=st.sampled_from([15.0, 60.0]),
)
def test_candidate_graph_equals_brute_force(problem, stage, rematch, split, pickup_km):
    laborers, targets, capacity, active = problem
    config = Config(max_pickup_km=pickup_km)
    T = TargetColumns.from_targets(targets)
    L = LaborerColumns.from_laborers(laborers, T.skills, T.job_types)
    # ``split``: every band searched per profile, the path wide radii take at province scale.
    with mock.patch.object(plan, "SPLIT_HOMES_PER_QUERY", 0 if split else 10**9):
        graph = plan.candidate_graph(L, T, stage, config, capacity=capacity, active=active, rematch=rematch)
    expected = reference_edges(laborers, targets, stage, config, capacity=capacity, active=active, rematch=rematch)
    found = list(zip(graph.lab.tolist(), graph.tgt.tolist(), strict=True))
    assert len(found) == len(set(found))  # each pair once, whatever the stops of a batch
    assert set(found) == set(expected)
    for (i, j), d, s in zip(found, graph.distance_km.tolist(), graph.score.tolist(), strict=True):
        assert d == pytest.approx(expected[(i, j)], rel=1e-12, abs=1e-12)
        assert s == pytest.approx(score(laborers[i], targets[j], d, config).total, rel=1e-12)


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n_a=st.integers(0, 80),
    n_b=st.integers(0, 80),
    radius_km=st.floats(0.5, 80.0),
)
def test_pairs_within_km_finds_every_close_pair_from_either_side(seed, n_a, n_b, radius_km):
    rng = np.random.default_rng(seed)
    a_lat, a_lon = rng.uniform(35, 38, n_a), rng.uniform(110, 113, n_a)
    b_lat, b_lon = rng.uniform(35, 38, n_b), rng.uniform(110, 113, n_b)
    i, j = pairs_within_km(a_lat, a_lon, b_lat, b_lon, radius_km)
    found = set(zip(i.tolist(), j.tolist(), strict=True))
    assert len(found) == len(i)
    exact = haversine_km(a_lat[:, None], a_lon[:, None], b_lat[None, :], b_lon[None, :])
    assert {tuple(p) for p in np.argwhere(exact <= radius_km * (1 - 1e-9)).tolist()} <= found
    assert all(exact[p] <= radius_km * (1 + 1e-9) for p in found)


@pytest.mark.parametrize("by", ["flags", "sorting"])
def test_a_home_is_found_once_per_batch_whatever_its_stops(make_laborer, make_target, by):
    batch = make_target(kind="batch", is_flexible=False, points=(HOME, HOME, (HOME[0] + 0.01, HOME[1])))
    laborers = [make_laborer(id=1, work_area="migrant"), make_laborer(id=2, household_id=2, work_area="any")]
    T = TargetColumns.from_targets([batch])
    L = LaborerColumns.from_laborers(laborers, T.skills, T.job_types)
    with mock.patch.object(plan, "DISTINCT_BY_FLAGS_MAX", 1 << 26 if by == "flags" else 0):
        graph = plan.candidate_graph(L, T, "jobs", Config())
    assert sorted(graph.lab.tolist()) == [0, 1] and graph.distance_km.tolist() == [0.0, 0.0]


@settings(max_examples=50, deadline=None)
@given(keys=st.lists(st.integers(0, 999), max_size=300))
def test_distinct_keys_by_flags_and_by_sorting_agree(keys):
    keys = np.array(keys, np.int64)
    expected = sorted(set(keys.tolist()))
    assert plan._distinct(keys, 1_000).tolist() == expected
    with mock.patch.object(plan, "DISTINCT_BY_FLAGS_MAX", 999):
        assert plan._distinct(keys, 1_000).tolist() == expected


@settings(max_examples=50, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n=st.integers(0, 400),
    spread=st.integers(1, 6),
    leading=st.integers(1, 5),
)
def test_lexsort_ties_is_lexsort(seed, n, spread, leading):
    rng = np.random.default_rng(seed)
    keys = [rng.integers(0, spread, n) for _ in range(4)] + [rng.integers(0, spread, n) * 0.5]
    assert plan.lexsort_ties(keys, leading).tolist() == np.lexsort(keys).tolist()


def test_masks_encode_repeated_sets_once_and_alike():
    vocabulary = Vocabulary(["sewing", "cooking", "driving"])
    sets = [frozenset({"sewing"}), frozenset(), frozenset({"sewing", "driving"}), frozenset({"sewing"})]
    masks = vocabulary.masks(sets)
    assert masks[0].tolist() == masks[3].tolist() != masks[2].tolist()
    assert not masks[1].any()
    assert vocabulary.masks([("welding",)], mark_unknown=True)[0, 0] == 1  # unknown word: bit 0


def test_household_members_share_one_home_position():
    inst = make_instance(200, 3, 1, 1, 5, centers=[HOME], random_state=4)
    T = TargetColumns.from_targets(inst.targets)
    L = LaborerColumns.from_laborers(inst.laborers, T.skills, T.job_types)
    position, lat, lon = L.positions
    assert lat[position].tolist() == L.lat.tolist() and lon[position].tolist() == L.lon.tolist()
    for household in np.unique(L.household_id):
        assert len(set(position[L.household_id == household].tolist())) == 1


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 100_000), bonus=st.sampled_from([0.0, 0.5, 2.0]), n_lab=st.integers(1, 120))
def test_solver_network_equals_the_textbook_network(seed, bonus, n_lab):
    config = Config(household_bonus=bonus)
    inst = make_instance(
        n_lab,
        5,
        1,
        2,
        15,
        centers=[HOME],
        random_state=seed,
        spread_km=5.0,
        workshop_slots=4,
        enterprise_slots=6,
        batch_seats=4,
    )
    T = TargetColumns.from_targets(inst.targets)
    L = LaborerColumns.from_laborers(inst.laborers, T.skills, T.job_types)
    for stage in plan.STAGES:
        graph = plan.candidate_graph(L, T, stage, config)
        chosen, units = plan.solve_part(graph, np.arange(len(graph)), config)
        _, textbook = bench.textbook_flow(
            graph.lab,
            graph.tgt,
            graph.weight_units,
            graph.household,
            graph.household_has_work,
            graph.capacity,
            one_per_household=stage == "welfare",
            bonus_units=plan.household_bonus_units(config),
        )
        assert units == textbook == plan.stage_objective_units(graph, chosen, config)


def test_direct_plan_reaches_the_plans_jobs_optimum():
    inst = make_instance(400, 8, 2, 3, 40, centers=[HOME], random_state=7, workshop_slots=6)
    config = Config()
    columns = bench.Columns.of(inst)
    jobs, welfare_all = bench.stage_graphs(columns, config)
    direct = bench.direct_plan(jobs, welfare_all, config)
    result = plan.run(inst.laborers, inst.targets, "optimal", config, explain=False)
    assert direct["jobs"] == result.report.objective_units_by_stage["jobs"]
    assert direct["welfare"] > 0
    # The benchmark's side of the ratio starts from the same columns and plans what plan.run plans.
    assert bench.optimal_alone(columns, config) == result.report.objective_units_by_stage
