"""Capacity prices read off the optimal flow are the LP's dual prices (checked by an independent LP)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import linprog
from scipy.sparse import coo_matrix

from matcher import plan, prices
from matcher.synthetic import make_instance
from matcher.types import Config

from .conftest import HOME

CONFIG = Config()


def small(seed: int):
    """A crowded small instance: few slots, many laborers, several members per household."""
    inst = make_instance(
        60,
        4,
        1,
        1,
        0,
        centers=[HOME],
        random_state=seed,
        spread_km=4.0,
        workshop_slots=3,
        enterprise_slots=5,
        batch_seats=3,
    )
    return plan.prepare(inst.laborers, inst.targets, CONFIG)


def lp_value(graph: plan.Graph, capacity: np.ndarray, config: Config) -> tuple[float, np.ndarray]:
    """The stage's LP optimum (objective units) by HiGHS on its own formulation, and the capacity marginals.

    Variables: one per edge, then one per household without work (its bonus, at most 1 and at most
    its members placed). Rows: each laborer at most once, each target at most its capacity, each
    bonus at most its household's placements.
    """
    m = len(graph)
    households = np.unique(graph.household[graph.lab])
    without = households[~graph.household_has_work[households]]
    n_b = len(without)
    b_col = {int(h): m + i for i, h in enumerate(without.tolist())}
    bonus = plan.household_bonus_units(config)
    c = -np.concatenate([graph.weight_units.astype(float), np.full(n_b, float(bonus))])
    labs, lab_row = np.unique(graph.lab, return_inverse=True)
    tgts, tgt_row = np.unique(graph.tgt, return_inverse=True)
    rows, cols, vals = [lab_row], [np.arange(m)], [np.ones(m)]
    r0 = len(labs)
    rows.append(r0 + tgt_row)
    cols.append(np.arange(m))
    vals.append(np.ones(m))
    r1 = r0 + len(tgts)
    bonus_row = {h: r1 + i for i, h in enumerate(b_col)}
    hh = graph.household[graph.lab]
    has = np.isin(hh, without)
    rows.append(np.array([bonus_row[int(h)] for h in hh[has]], np.int64))
    cols.append(np.flatnonzero(has))
    vals.append(-np.ones(int(has.sum())))
    rows.append(np.array(list(bonus_row.values()), np.int64))
    cols.append(np.array(list(b_col.values()), np.int64))
    vals.append(np.ones(n_b))
    a = coo_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(r1 + n_b, m + n_b))
    b = np.concatenate([np.ones(len(labs)), capacity[tgts].astype(float), np.zeros(n_b)])
    res = linprog(c, A_ub=a.tocsr(), b_ub=b, bounds=(0, 1), method="highs")
    assert res.status == 0
    marginal = np.zeros(graph.n_targets)
    marginal[tgts] = -res.ineqlin.marginals[r0:r1]
    return -res.fun, marginal


@pytest.mark.parametrize("seed", range(8))
def test_least_and_greatest_prices_are_the_lp_derivatives(seed):
    prepared = small(seed)
    graph = prepared.jobs
    chosen, units, _ = plan.solve_optimal(graph, CONFIG)
    found = prices.stage_prices(graph, chosen, CONFIG)
    value, marginal = lp_value(graph, graph.capacity, CONFIG)
    assert value == pytest.approx(units)  # the LP of a network is integral: same optimum as the flow
    priced = 0
    for t in np.unique(graph.tgt).tolist():
        more = graph.capacity.copy()
        more[t] += 1
        gain = lp_value(graph, more, CONFIG)[0] - value
        less = graph.capacity.copy()
        less[t] -= 1
        loss = value - lp_value(graph, less, CONFIG)[0]
        assert found.low_units[t] == pytest.approx(gain, abs=1e-6)
        assert found.high_units[t] == pytest.approx(loss, abs=1e-6)
        # HiGHS' own dual is one of the optimal ones: between the least and the greatest.
        assert found.low_units[t] - 1e-6 <= marginal[t] <= found.high_units[t] + 1e-6
        priced += found.high_units[t] > 0
    assert priced > 0  # crowded: some slots are contested


@pytest.mark.parametrize("seed", range(4))
def test_every_planned_laborer_ranks_their_planned_target_first_net_of_prices(seed):
    """Complementary slackness: with the kept prices, the plan's choice is each laborer's best."""
    prepared = small(seed)
    graph = prepared.jobs
    chosen, _, _ = plan.solve_optimal(graph, CONFIG)
    net = graph.weight_units - prices.stage_prices(graph, chosen, CONFIG).units[graph.tgt]
    best = np.full(graph.n_labs, -np.inf)
    np.maximum.at(best, graph.lab, net)
    assert np.allclose(net[chosen], best[graph.lab[chosen]])


def test_a_slot_left_free_costs_nothing():
    prepared = small(1)
    graph = prepared.jobs
    chosen, _, _ = plan.solve_optimal(graph, CONFIG)
    found = prices.stage_prices(graph, chosen, CONFIG)
    used = np.bincount(graph.tgt[chosen], minlength=graph.n_targets)
    free = np.flatnonzero(used < graph.capacity)
    assert (found.high_units[free] == 0).all() and (found.low_units[free] == 0).all()


def test_a_plan_that_is_not_optimal_is_refused():
    prepared = small(2)
    graph = prepared.jobs
    greedy = plan.greedy_pick(
        graph, np.arange(len(graph)), plan.laborer_preference_order(graph, prepared.targets), prepared.laborers
    )
    optimal, units, _ = plan.solve_optimal(graph, CONFIG)
    if plan.stage_objective_units(graph, greedy, CONFIG) < units:
        with pytest.raises(ValueError, match="not optimal"):
            prices.stage_prices(graph, greedy, CONFIG)


def test_plan_prices_are_keyed_by_target_with_the_capacity_priced():
    inst = make_instance(60, 4, 1, 1, 0, centers=[HOME], random_state=3, spread_km=4.0, workshop_slots=3)
    prepared = plan.prepare(inst.laborers, inst.targets, CONFIG)
    result = plan.run_prepared(prepared, "optimal", CONFIG, explain=False)
    pairs = [(a.laborer_id, a.kind, a.target_id) for a in result.assignments if a.stage == "jobs"]
    priced = prices.plan_prices(prepared, pairs, CONFIG)
    by_key = {t.key: t for t in inst.targets}
    assert priced and all(by_key[key].capacity == cap for key, (_, cap) in priced.items())
    assert any(price > 0 for price, _ in priced.values())
