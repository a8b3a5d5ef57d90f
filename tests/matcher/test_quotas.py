"""Quotas keep plans exact: caps and reserves against scipy's MILP on small random instances."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import Bounds, LinearConstraint, milp

from matcher import plan
from matcher.quotas import GROUPS, Quota, QuotaError, problems
from matcher.synthetic import make_instance
from matcher.types import JOB_KINDS, Config

from .conftest import HOME
from .test_plan import assert_valid, brute_edges, instances

# -- an independent statement of the quotas ----------------------------------------------------


def member(quota: Quota, laborer) -> bool:
    """Whether a laborer is in a quota's group, read from the laborer's fields."""
    facts = {
        "village": True,
        "women": laborer.sex == "F",
        "registered_poor": laborer.poverty_status == "registered_poor",
        "monitored": laborer.poverty_status == "monitored",
        "poor": laborer.poverty_status != "non_poor",
        "disability": laborer.has_disability,
    }
    return any(facts[g] for g in quota.groups)


def amount(quota: Quota, slots: int) -> int:
    n = quota.count if quota.count is not None else math.floor(slots * quota.percent / 100 + 1e-9)
    return max(n, 1) if quota.bound == "at_most" else min(n, slots)


def quota_rows(quotas, laborers, targets, edges):
    """(edge positions, low, high) of every bound instance, pair by pair."""
    rows = []
    for q in quotas:
        channel = [j for j, t in enumerate(targets) if t.kind == q.channel and t.capacity > 0]
        groups: dict[tuple, list[int]] = {}
        if q.bound == "at_least" and q.per == "posting":
            groups = {(j, None): [] for j in channel}
        elif q.bound == "at_least":
            groups = {(None, None): []}
        for pos, (i, j, _) in enumerate(edges):
            if targets[j].kind != q.channel or not member(q, laborers[i]):
                continue
            village = laborers[i].village_code if "village" in q.groups else None
            groups.setdefault((j if q.per == "posting" else None, village), []).append(pos)
        total = sum(targets[j].capacity for j in channel)
        for (j, _), positions in groups.items():
            n = amount(q, targets[j].capacity if j is not None else total)
            rows.append((positions, n, 10**9) if q.bound == "at_least" else (positions, 0, n))
    return rows


def milp_with_quotas(laborers, targets, edges, config, quotas, *, one_per_household):
    """The stage's optimum under the quotas on its channels by scipy's MILP, or None when it is infeasible."""
    kinds = ("welfare_post",) if one_per_household else JOB_KINDS
    quotas = [q for q in quotas if q.channel in kinds]
    bonus = round(config.household_bonus * config.score_scale)
    households = sorted({laborers[i].household_id for i, _, _ in edges if not laborers[i].household_has_work})
    n_e, n_h = len(edges), len(households)
    cost = -np.array([w for _, _, w in edges] + [bonus] * n_h, float)
    matrix, lower, upper = [], [], []

    def row(coefs, lo, hi):
        matrix.append(coefs)
        lower.append(lo)
        upper.append(hi)

    for i in {i for i, _, _ in edges}:
        row([1.0 if e[0] == i else 0.0 for e in edges] + [0.0] * n_h, -np.inf, 1)
    for j in {j for _, j, _ in edges}:
        row([1.0 if e[1] == j else 0.0 for e in edges] + [0.0] * n_h, -np.inf, targets[j].capacity)
    for h_pos, h in enumerate(households):
        mine = [1.0 if laborers[e[0]].household_id == h else 0.0 for e in edges]
        row([-m for m in mine] + [1.0 if k == h_pos else 0.0 for k in range(n_h)], -np.inf, 0)
    if one_per_household:
        for h in {laborers[i].household_id for i, _, _ in edges}:
            row([1.0 if laborers[e[0]].household_id == h else 0.0 for e in edges] + [0.0] * n_h, -np.inf, 1)
    for positions, low, high in quota_rows(quotas, laborers, targets, edges):
        if not positions:
            if low > 0:
                return None
            continue
        row([1.0 if p in positions else 0.0 for p in range(n_e)] + [0.0] * n_h, low, high)
    if n_e + n_h == 0:
        return 0
    res = milp(
        cost,
        integrality=np.ones(n_e + n_h),
        bounds=Bounds(0, 1),
        constraints=LinearConstraint(np.array(matrix).reshape(-1, n_e + n_h), lower, upper) if matrix else (),
    )
    if res.status == 2:
        return None
    assert res.success
    return round(-res.fun)


def kept(result, quotas, laborers, targets) -> bool:
    """Every bound instance holds on the plan's assignments, counted from the assignments themselves."""
    by_id = {p.id: p for p in laborers}
    index = {t.key: j for j, t in enumerate(targets)}
    picked = [(by_id[a.laborer_id], index[(a.kind, a.target_id)]) for a in result.assignments]
    laborer_at = {p.id: i for i, p in enumerate(laborers)}
    edges = [(laborer_at[p.id], j, 0) for p, j in picked]
    return all(low <= len(positions) <= high for positions, low, high in quota_rows(quotas, laborers, targets, edges))


# -- strategies --------------------------------------------------------------------------------

caps = st.builds(
    Quota,
    bound=st.just("at_most"),
    groups=st.sampled_from([("village",), ("women",), ("poor",), ("monitored", "disability")]),
    channel=st.sampled_from(["opening", "batch", "welfare_post"]),
    per=st.sampled_from(["posting", "plan"]),
    percent=st.sampled_from([None, 25.0, 50.0]),
).map(lambda q: q if q.percent is not None else replace(q, count=1 if q.per == "posting" else 3))

reserves = st.builds(
    Quota,
    bound=st.just("at_least"),
    groups=st.sampled_from([("women",), ("registered_poor",), ("monitored", "disability"), ("poor", "women")]),
    channel=st.sampled_from(["opening", "batch", "welfare_post"]),
    per=st.sampled_from(["posting", "plan"]),
    count=st.integers(1, 3),
)

quota_lists = st.lists(st.one_of(caps, reserves), min_size=1, max_size=3)


def with_facts(inst, seed: int):
    """The instance's laborers with villages (three per instance) and a few disabilities."""
    rng = np.random.default_rng(seed)
    return [
        replace(p, village_code=str(141030100200 + p.household_id % 3), has_disability=bool(rng.random() < 0.2))
        for p in inst.laborers
    ]


@settings(max_examples=40, deadline=None)
@given(inst=instances, quotas=quota_lists, seed=st.integers(0, 1000))
def test_optimal_with_quotas_equals_an_independent_milp(inst, quotas, seed):
    config = Config()
    laborers, targets = with_facts(inst, seed), inst.targets
    jobs_edges = brute_edges(laborers, targets, JOB_KINDS, config)
    jobs_opt = milp_with_quotas(laborers, targets, jobs_edges, config, quotas, one_per_household=False)
    try:
        result = plan.run(laborers, targets, "optimal", config, quotas=quotas)
    except QuotaError:
        if jobs_opt is None:
            return
        # Stage jobs was feasible: then stage welfare must be the infeasible one (checked below).
        result = None
    assert jobs_opt is not None or result is None, "the plan met quotas the MILP finds infeasible"
    if result is None:
        # Re-solve stage jobs alone (its quotas only) to find what stage welfare got.
        job_quotas = [q for q in quotas if q.channel in JOB_KINDS]
        result_jobs = plan.run(laborers, targets, "optimal", config, quotas=job_quotas)
        assert result_jobs.report.objective_units_by_stage["jobs"] == jobs_opt
        rest = stage_two_laborers(laborers, result_jobs)
        welfare_edges = brute_edges(rest, targets, ("welfare_post",), config)
        assert milp_with_quotas(rest, targets, welfare_edges, config, quotas, one_per_household=True) is None
        return
    assert result.report.objective_units_by_stage["jobs"] == jobs_opt
    rest = stage_two_laborers(laborers, result)
    welfare_edges = brute_edges(rest, targets, ("welfare_post",), config)
    welfare_opt = milp_with_quotas(rest, targets, welfare_edges, config, quotas, one_per_household=True)
    assert result.report.objective_units_by_stage["welfare"] == welfare_opt
    assert_valid(inst, result, config)
    assert kept(result, quotas, laborers, targets)
    assert all(row["met"] for row in result.report.quotas)
    assert [row["number"] for row in result.report.quotas] == list(range(1, len(quotas) + 1))


def stage_two_laborers(laborers, result):
    """Stage welfare's laborers: those stage jobs left, their households with work now if it placed one."""
    placed = {a.laborer_id for a in result.assignments if a.stage == "jobs"}
    working = {p.household_id for p in laborers if p.id in placed}
    return [
        replace(p, household_has_work=p.household_has_work or p.household_id in working)
        for p in laborers
        if p.id not in placed
    ]


@settings(max_examples=25, deadline=None)
@given(inst=instances, quotas=st.lists(caps, min_size=1, max_size=1), seed=st.integers(0, 1000))
def test_caps_as_group_nodes_equal_the_integer_program(inst, quotas, seed):
    """One per-posting cap rides on the min-cost flow; the same bounds through CP-SAT give the same optimum."""
    quotas = [replace(q, per="posting") for q in quotas]
    laborers, config = with_facts(inst, seed), Config()
    prepared = plan.prepare(laborers, inst.targets, config, quotas=quotas)
    if prepared.jobs_bounds is None:
        return
    assert prepared.jobs.quota_group is not None
    chosen, units = plan.solve_optimal(prepared.jobs, config)[:2]
    _, program_units = plan.solve_program(prepared.jobs, prepared.jobs_bounds, config)
    assert units == program_units
    achieved = prepared.jobs_bounds.achieved(chosen, len(prepared.jobs))
    assert (achieved <= prepared.jobs_bounds.high).all()


# -- the examples of the issue -----------------------------------------------------------------


def county(seed: int = 3):
    inst = make_instance(
        120, 6, 2, 1, 12, centers=[HOME], random_state=seed, spread_km=5.0, workshop_slots=5, enterprise_slots=8
    )
    return with_facts(inst, seed), inst.targets


def test_a_village_cap_spreads_each_workshop_over_villages():
    laborers, targets = county()
    quota = Quota("at_most", ("village",), "opening", "posting", percent=40.0)
    result = plan.run(laborers, targets, "optimal", quotas=[quota])
    village = {p.id: p.village_code for p in laborers}
    slots = {t.id: t.capacity for t in targets if t.kind == "opening"}
    per = Counter((a.target_id, village[a.laborer_id]) for a in result.assignments if a.kind == "opening")
    assert per and all(n <= max(1, math.floor(slots[t] * 0.4)) for (t, _), n in per.items())
    free = plan.run(laborers, targets, "optimal")
    jobs = result.report.objective_units_by_stage["jobs"]
    assert jobs <= free.report.objective_units_by_stage["jobs"]  # a cap never helps the stage it binds
    assert result.report.quotas[0]["met"] and result.report.quotas[0]["instances"] > 0


def test_a_reserve_of_welfare_posts_goes_to_monitored_or_disabled():
    laborers, targets = county()
    quota = Quota("at_least", ("monitored", "disability"), "welfare_post", "plan", percent=20.0)
    result = plan.run(laborers, targets, "optimal", quotas=[quota])
    by_id = {p.id: p for p in laborers}
    posts = [a for a in result.assignments if a.kind == "welfare_post"]
    group = [
        a for a in posts if by_id[a.laborer_id].poverty_status == "monitored" or by_id[a.laborer_id].has_disability
    ]
    needed = math.floor(sum(t.capacity for t in targets if t.kind == "welfare_post") * 0.2)
    assert needed > 0 and len(group) >= needed
    row = result.report.quotas[0]
    assert row == {**row, "met": True, "needed": needed, "placed": len(group), "unmet": 0}


def test_a_reserve_nobody_can_fill_names_its_quota():
    laborers, targets = county()
    cap = Quota("at_most", ("village",), "opening", "posting", percent=50.0)
    impossible = Quota("at_least", ("disability",), "batch", "plan", count=10_000)
    with pytest.raises(QuotaError) as caught:
        plan.run(laborers, targets, "optimal", quotas=[cap, impossible])
    assert caught.value.number == 2 and caught.value.reason == "too_few"
    seats = sum(t.capacity for t in targets if t.kind == "batch")  # a reserve asks for no more than there are
    assert caught.value.need == seats and caught.value.possible < seats
    assert str(caught.value).startswith("quota 2 cannot be met")


def test_reserves_that_clash_are_named_together():
    # One slot, two candidates: a woman and a man with a disability; each reserve alone is possible.
    laborers, targets = county()
    woman = replace(laborers[0], id=1, household_id=1, sex="F", has_disability=False, ability="full")
    man = replace(laborers[0], id=2, household_id=2, sex="M", has_disability=True, ability="full")
    (opening,) = [replace(t, capacity=1, min_age=None, max_age=None) for t in targets if t.kind == "opening"][:1]
    quotas = [
        Quota("at_least", ("women",), "opening", "plan", count=1),
        Quota("at_least", ("disability",), "opening", "plan", count=1),
    ]
    alone = plan.run([woman, man], [opening], "optimal", quotas=quotas[:1])
    assert [a.laborer_id for a in alone.assignments] == [1]
    with pytest.raises(QuotaError) as caught:
        plan.run([woman, man], [opening], "optimal", quotas=quotas)
    assert caught.value.reason == "together" and caught.value.number == 1


def test_greedy_and_stable_refuse_quotas():
    laborers, targets = county()
    quota = Quota("at_most", ("village",), "opening", "posting", percent=40.0)
    for mode in ("greedy", "stable"):
        with pytest.raises(ValueError, match="quotas need the optimal mode"):
            plan.run(laborers, targets, mode, quotas=[quota])


def test_without_quotas_the_flow_is_untouched():
    laborers, targets = county()
    prepared = plan.prepare(laborers, targets)
    assert prepared.jobs.quota_group is None and prepared.jobs_bounds is None
    assert plan.run(laborers, targets, "optimal").report.quotas == []


@pytest.mark.parametrize(
    ("quota", "field"),
    [
        ({"bound": "exactly", "groups": ["women"], "channel": "opening", "percent": 10}, "bound"),
        ({"bound": "at_least", "groups": ["village"], "channel": "opening", "percent": 10}, "groups"),
        ({"bound": "at_most", "groups": ["aliens"], "channel": "opening", "percent": 10}, "groups"),
        ({"bound": "at_most", "groups": ["women"], "channel": "bus", "percent": 10}, "channel"),
        ({"bound": "at_most", "groups": ["women"], "channel": "opening", "per": "day", "count": 1}, "per"),
        ({"bound": "at_most", "groups": ["women"], "channel": "opening", "percent": 120}, "percent"),
        ({"bound": "at_most", "groups": ["women"], "channel": "opening", "percent": 5, "count": 1}, "percent"),
        ({"bound": "at_most", "groups": ["women"], "channel": "opening", "count": 0}, "count"),
    ],
)
def test_malformed_quotas_are_named_by_field(quota, field):
    assert field in problems(quota)
    with pytest.raises(ValueError, match="quota 1"):
        plan.run([], [], "optimal", quotas=[quota])


def test_every_group_is_understood():
    laborers, targets = county()
    for group in GROUPS:
        bound = "at_most" if group == "village" else "at_least"
        quota = Quota(bound, (group,), "opening", "plan", count=1)
        result = plan.run(laborers, targets, "optimal", quotas=[quota])
        assert result.report.quotas[0]["met"]
