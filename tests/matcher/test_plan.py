"""Plans keep their invariants in every mode, and match independent solvers on small instances."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matching.games import HospitalResident
from scipy.optimize import Bounds, LinearConstraint, milp

from matcher import plan
from matcher.arrays import LaborerColumns, TargetColumns
from matcher.geo import haversine_km
from matcher.rules import check
from matcher.scoring import priority, score
from matcher.synthetic import make_instance
from matcher.types import JOB_KINDS, KINDS, Config

from .conftest import HOME

instances = st.builds(
    lambda seed, n_lab, n_ws, n_ent, n_bat, n_post: make_instance(
        n_lab,
        n_ws,
        n_ent,
        n_bat,
        n_post,
        centers=[HOME],
        random_state=seed,
        spread_km=4.0,
        workshop_slots=3,
        enterprise_slots=6,
        batch_seats=4,
    ),
    st.integers(0, 100_000),
    st.integers(1, 40),
    st.integers(0, 4),
    st.integers(0, 2),
    st.integers(0, 3),
    st.integers(0, 12),
)


def nearest(laborer, target):
    return min(float(haversine_km(laborer.lat, laborer.lon, lat, lon)) for lat, lon in target.points)


def assert_valid(inst, result, config):
    """Capacities, one placement per laborer, one post per household, the ladder and every hard rule."""
    laborers = {p.id: p for p in inst.laborers}
    targets = {t.key: t for t in inst.targets}
    used = Counter((a.kind, a.target_id) for a in result.assignments)
    assert all(n <= targets[key].capacity for key, n in used.items())
    assert len({a.laborer_id for a in result.assignments}) == len(result.assignments)
    jobs = [a for a in result.assignments if a.stage == "jobs"]
    posts = [a for a in result.assignments if a.stage == "welfare"]
    assert all(a.kind in JOB_KINDS for a in jobs) and all(a.kind == "welfare_post" for a in posts)
    post_households = Counter(laborers[a.laborer_id].household_id for a in posts)
    assert all(n == 1 for n in post_households.values())
    working_households = {laborers[a.laborer_id].household_id for a in jobs}
    working_households |= {p.household_id for p in inst.laborers if p.household_has_work}
    assert not working_households & set(post_households)
    for a in result.assignments:
        laborer, target = laborers[a.laborer_id], targets[(a.kind, a.target_id)]
        if a.stage == "welfare":
            laborer = replace(laborer, household_has_work=laborer.household_id in working_households)
        assert check(laborer, target, nearest(laborer, target), config) == []
        assert a.distance_km == pytest.approx(nearest(laborer, target))
        assert a.score == pytest.approx(score(laborer, target, a.distance_km, config).total)
    report = result.report
    assert report.placed == len(result.assignments) == sum(report.placed_by_kind.values())
    assert report.objective_units == sum(report.objective_units_by_stage.values())


@settings(max_examples=25, deadline=None)
@given(inst=instances, mode=st.sampled_from(plan.MODES))
def test_every_mode_keeps_the_invariants(inst, mode):
    config = Config()
    result = plan.run(inst.laborers, inst.targets, mode, config)
    assert_valid(inst, result, config)
    assert result == plan.run(inst.laborers, inst.targets, mode, config)


# -- independent exact solver ------------------------------------------------------------------


def brute_edges(laborers, targets, kinds, config):
    """Every eligible pair with its integer weight, computed pair by pair from the public rules."""
    edges = []
    for i, laborer in enumerate(laborers):
        for j, target in enumerate(targets):
            if target.kind not in kinds:
                continue
            d = nearest(laborer, target)
            if check(laborer, target, d, config):
                continue
            bonus = {
                "registered_poor": config.registered_poor_bonus,
                "monitored": config.monitored_bonus,
            }.get(laborer.poverty_status, 0.0)
            if target.kind == "welfare_post" and laborer.ability == "light":
                bonus += config.light_welfare_bonus
            edges.append(
                (
                    i,
                    j,
                    round((score(laborer, target, d, config).total + bonus) * config.score_scale),
                )
            )
    return edges


def milp_optimum(laborers, targets, edges, config, *, one_per_household):
    """Max of sum(weights) + bonus per household without work that gets anybody, by scipy's MILP."""
    if not edges:
        return 0
    bonus = round(config.household_bonus * config.score_scale)
    households = sorted({laborers[i].household_id for i, _, _ in edges if not laborers[i].household_has_work})
    n_e, n_h = len(edges), len(households)
    cost = -np.array([w for _, _, w in edges] + [bonus] * n_h, float)
    rows, uppers = [], []
    for i in sorted({i for i, _, _ in edges}):
        rows.append([1.0 if e[0] == i else 0.0 for e in edges] + [0.0] * n_h)
        uppers.append(1)
    for j in sorted({j for _, j, _ in edges}):
        rows.append([1.0 if e[1] == j else 0.0 for e in edges] + [0.0] * n_h)
        uppers.append(targets[j].capacity)
    for h_pos, h in enumerate(households):
        member = [1.0 if laborers[e[0]].household_id == h else 0.0 for e in edges]
        cover = [0.0] * n_h
        cover[h_pos] = 1.0
        rows.append([-m for m in member] + cover)  # covered only if some member is placed
        uppers.append(0)
        if one_per_household:
            rows.append(member + [0.0] * n_h)
            uppers.append(1)
    res = milp(
        cost,
        integrality=np.ones(n_e + n_h),
        bounds=Bounds(0, 1),
        constraints=LinearConstraint(np.array(rows), -np.inf, np.array(uppers, float)),
    )
    assert res.success
    return round(-res.fun)


@settings(max_examples=20, deadline=None)
@given(inst=instances, household_bonus=st.sampled_from([0.0, 0.5, 2.0]))
def test_optimal_equals_an_independent_milp(inst, household_bonus):
    config = Config(household_bonus=household_bonus)
    result = plan.run(inst.laborers, inst.targets, "optimal", config)
    laborers, targets = inst.laborers, inst.targets
    jobs_opt = milp_optimum(
        laborers,
        targets,
        brute_edges(laborers, targets, JOB_KINDS, config),
        config,
        one_per_household=False,
    )
    assert result.report.objective_units_by_stage["jobs"] == jobs_opt
    # Stage 2 on what stage 1 left: households with work now, and laborers already placed, are out.
    placed = {a.laborer_id for a in result.assignments if a.stage == "jobs"}
    working = {p.household_id for p in laborers if p.id in placed}
    rest = [
        replace(p, household_has_work=p.household_has_work or p.household_id in working)
        for p in laborers
        if p.id not in placed
    ]
    welfare_edges = brute_edges(rest, targets, ("welfare_post",), config)
    welfare_opt = milp_optimum(rest, targets, welfare_edges, config, one_per_household=True)
    assert result.report.objective_units_by_stage["welfare"] == welfare_opt


def test_household_term_covers_more_households(make_laborer, make_target):
    # Two members of household 1 fit the single slot slightly better than the only member of household 2.
    a = make_laborer(id=1, household_id=1, order=0)
    b = make_laborer(id=2, household_id=1, order=1)
    c = make_laborer(id=3, household_id=2, order=2, job_types=frozenset())
    opening = make_target(capacity=2)
    heads_only = plan.run([a, b, c], [opening], "optimal", Config(household_bonus=0.0))
    assert {x.laborer_id for x in heads_only.assignments} == {1, 2}
    households = plan.run([a, b, c], [opening], "optimal", Config(household_bonus=0.5))
    assert {x.laborer_id for x in households.assignments} in ({1, 3}, {2, 3})
    assert households.report.households_moved == 2


def test_decomposition_is_exact():
    inst = make_instance(
        300,
        6,
        2,
        3,
        30,
        random_state=3,
        spread_km=10.0,
        workshop_slots=8,
        enterprise_slots=12,
        batch_seats=6,
    )
    whole = plan.run(inst.laborers, inst.targets, "optimal", Config(max_part_arcs=10**9), explain=False)
    split = plan.run(inst.laborers, inst.targets, "optimal", Config(max_part_arcs=1), explain=False)
    assert split.report.components > whole.report.components
    assert split.report.objective_units == whole.report.objective_units


@settings(max_examples=20, deadline=None)
@given(inst=instances)
def test_optimal_never_scores_below_greedy_or_stable(inst):
    config = Config()
    results = {mode: plan.run(inst.laborers, inst.targets, mode, config, explain=False) for mode in plan.MODES}
    jobs = {mode: r.report.objective_units_by_stage["jobs"] for mode, r in results.items()}
    assert jobs["optimal"] >= jobs["greedy"] and jobs["optimal"] >= jobs["stable"]
    # Stage 2 compared on one and the same graph.
    T = TargetColumns.from_targets(inst.targets)
    L = LaborerColumns.from_laborers(inst.laborers, T.skills, T.job_types)
    graph = plan.candidate_graph(L, T, "welfare", config)
    units = {
        mode: plan.stage_objective_units(graph, plan.solve_stage(graph, mode, L, T, config)[0], config)
        for mode in plan.MODES
    }
    assert units["optimal"] >= units["greedy"] and units["optimal"] >= units["stable"]


# -- stable equals the hospital-resident game --------------------------------------------------


@settings(max_examples=20, deadline=None)
@given(inst=instances)
def test_stable_equals_resident_optimal_hospital_resident(inst):
    config = Config()
    laborers = [replace(p, household_has_post=True) for p in inst.laborers]  # no stage 2: compare the game itself
    targets = inst.targets
    resident_prefs, hospital_lists = {}, {}
    for laborer in laborers:
        ranked = []
        for t in targets:
            if t.kind not in JOB_KINDS:
                continue
            d = nearest(laborer, t)
            if check(laborer, t, d, config):
                continue
            s = score(laborer, t, d, config).total
            ranked.append((-s, d, KINDS.index(t.kind), t.id))
            prio = round(priority(laborer, config, t.kind) * config.score_scale)
            hospital_lists.setdefault(f"{t.kind}:{t.id}", []).append((-prio, -s, laborer.order, laborer.id))
        if ranked:
            resident_prefs[str(laborer.id)] = [f"{KINDS[r[2]]}:{r[3]}" for r in sorted(ranked)]
    hospital_prefs = {h: [str(x[3]) for x in sorted(v)] for h, v in hospital_lists.items()}
    capacities = {f"{t.kind}:{t.id}": t.capacity for t in targets if f"{t.kind}:{t.id}" in hospital_prefs}
    expected = set()
    if resident_prefs:
        game = HospitalResident.create_from_dictionaries(resident_prefs, hospital_prefs, capacities)
        expected = {(int(r.name), h.name) for h, rs in game.solve(optimal="resident").items() for r in rs}
    result = plan.run(laborers, targets, "stable", config)
    assert {(a.laborer_id, f"{a.kind}:{a.target_id}") for a in result.assignments} == expected


# -- greedy and the ladder ---------------------------------------------------------------------


def test_greedy_serves_laborers_in_registration_order(make_laborer, make_target):
    first = make_laborer(id=1, household_id=1, order=1, lat=HOME[0] + 0.05)
    second = make_laborer(id=2, household_id=2, order=0)
    result = plan.run([first, second], [make_target(capacity=1)], "greedy", Config())
    assert [a.laborer_id for a in result.assignments] == [2]


def test_welfare_posts_go_to_households_still_without_work(make_laborer, make_target):
    config = Config()
    placed = make_laborer(id=1, household_id=1, work_area="local")
    sibling = make_laborer(id=2, household_id=1, work_area="local", ability="light", order=1)
    other = make_laborer(id=3, household_id=2, work_area="local", order=2)
    other_sibling = make_laborer(id=4, household_id=2, work_area="local", order=3)
    opening = make_target(capacity=1, demand="moderate")
    posts = [make_target(kind="welfare_post", id=i, capacity=1, job_type="cleaner") for i in (1, 2, 3)]
    for mode in plan.MODES:
        result = plan.run([placed, sibling, other, other_sibling], [opening, *posts], mode, config)
        by_stage = {a.stage: [] for a in result.assignments}
        for a in result.assignments:
            by_stage[a.stage].append(a.laborer_id)
        job_holder = by_stage["jobs"][0]
        post_holders = by_stage["welfare"]
        assert len(post_holders) == 1, mode  # one post, for the one household still without work
        holder_household = 1 if job_holder in (1, 2) else 2
        assert {1: {1, 2}, 2: {3, 4}}[3 - holder_household] >= set(post_holders), mode
        assert result.report.households_moved == 2
        assert result.report.placed_by_kind == {"opening": 1, "batch": 0, "welfare_post": 1}


def test_unknown_mode_is_refused():
    with pytest.raises(ValueError, match="unknown plan mode"):
        plan.run([], [], "random", Config())


def test_empty_plan_reports_zeros():
    result = plan.run([], [], "optimal", Config())
    assert result.assignments == [] and result.report.placed == 0 and result.report.objective == 0


def test_compare_lines_up_a_plan_with_greedy():
    inst = make_instance(200, 4, 1, 2, 20, centers=[HOME], random_state=5, workshop_slots=6, batch_seats=5)
    optimal = plan.run(inst.laborers, inst.targets, "optimal", Config(), explain=False).report
    greedy = plan.run(inst.laborers, inst.targets, "greedy", Config(), explain=False).report
    table = plan.compare(optimal, greedy)
    assert table["placed"] == {
        "optimal": optimal.placed,
        "greedy": greedy.placed,
        "difference": optimal.placed - greedy.placed,
    }
    assert table["households_moved"]["difference"] == optimal.households_moved - greedy.households_moved
    assert {"mean_commute_km", "objective", "placed_welfare_post"} <= set(table)


def _columns(laborers) -> dict:
    """The laborers as columns, the way the web layer loads them from the database."""
    names = [
        "id",
        "household_id",
        "lat",
        "lon",
        "birth_on",
        "sex",
        "ability",
        "skills",
        "work_area",
        "max_commute_km",
        "job_types",
        "pay_type",
        "needs_flexible_hours",
        "poverty_status",
        "household_has_work",
        "household_has_post",
        "is_working",
        "order",
    ]
    return {name: [getattr(p, name) for p in laborers] for name in names}


@settings(max_examples=15, deadline=None)
@given(inst=instances, mode=st.sampled_from(plan.MODES))
def test_compact_codes_render_the_sentences_of_the_scored_pair(inst, mode):
    config = Config()
    result = plan.run(inst.laborers, inst.targets, mode, config)
    laborers = {p.id: p for p in inst.laborers}
    targets = {t.key: t for t in inst.targets}
    for a in result.assignments:
        expected = score(laborers[a.laborer_id], targets[(a.kind, a.target_id)], a.distance_km, config)
        assert a.factors == expected.factors
        assert sum(f.value * f.weight for f in a.factors) / sum(f.weight for f in a.factors) == pytest.approx(
            expected.total
        )


@settings(max_examples=15, deadline=None)
@given(inst=instances, mode=st.sampled_from(plan.MODES))
def test_laborers_given_as_columns_plan_the_same(inst, mode):
    config = Config()
    assert plan.run(_columns(inst.laborers), inst.targets, mode, config) == plan.run(
        inst.laborers, inst.targets, mode, config
    )


@settings(max_examples=15, deadline=None)
@given(inst=instances)
def test_a_plan_keeps_its_assignments_as_columns_and_builds_the_objects_when_read(inst):
    result = plan.run(inst.laborers, inst.targets, "optimal", Config())
    assert "assignments" not in vars(result)  # nothing built until asked for
    built = result.assignments
    assert result.assignments is built
    assert plan.AssignmentColumns.of(built) == result.columns
    assert [a.stage for a in built] == sorted(a.stage for a in built)  # stage jobs first
    assert all(a.codes for a in built)
    bare = plan.run(inst.laborers, inst.targets, "optimal", Config(), explain=False)
    assert bare.columns.codes is None and all(a.codes == () for a in bare.assignments)
    assert [(a.laborer_id, a.kind, a.target_id) for a in bare.assignments] == result.columns.pairs()


@pytest.mark.parametrize("mode", ["optimal", "stable"])
def test_a_household_under_watch_wins_a_contested_slot(make_laborer, make_target, mode):
    # Two poor laborers of households without work want one slot; the one under watch (issue 13, part 5)
    # lives a little further away, so without the flag the nearer one would take it.
    near = make_laborer(id=1, household_id=1, order=0)
    watched = make_laborer(id=2, household_id=2, order=1, lat=HOME[0] - 0.01, household_flagged=True)
    opening = make_target(capacity=1)
    unflagged = plan.run([near, replace(watched, household_flagged=False)], [opening], mode)
    assert [x.laborer_id for x in unflagged.assignments] == [1]
    flagged = plan.run([near, watched], [opening], mode)
    assert [x.laborer_id for x in flagged.assignments] == [2]
    # Read as columns (the web layer's way) the flag counts the same.
    columns = plan.run(_columns([near, watched]) | {"household_flagged": [False, True]}, [opening], mode)
    assert [x.laborer_id for x in columns.assignments] == [2]


def test_the_watch_bonus_is_only_for_the_poor(make_laborer):
    poor = make_laborer(household_flagged=True)
    non_poor = make_laborer(poverty_status="non_poor")
    assert priority(poor) > priority(replace(poor, household_flagged=False))
    assert priority(replace(non_poor, household_flagged=True)) == priority(non_poor)
