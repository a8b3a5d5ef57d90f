"""Ranking one laborer at a time, simulated: how close do cadres come to the plan, with and without prices?

*What it measures.* Between plans, laborers are placed as cadres rank them: one at a time, in
no order anybody chose. ``simulate`` lets the laborers of an instance arrive in a random order,
each taking their top match among the targets with a free slot, as the interactive ranking
(``matcher.rank``) orders them: by score, or with capacity prices by score minus price
(``matcher.prices``), the laborer passing over a slot the ranking marks *held for others*
(``matcher.rank.held_back``: priced above what placing them there is worth, so the card advises
against it). It follows the policy ladder as plans do: a job (opening or batch) if one is free
and not held for them, else a welfare post for a poor household still without work, one per
household. The
figure is households moved out of *without work*, compared with the hindsight ``optimal`` plan
on the same laborers (which knows everybody at once) and with ``greedy`` (registration order,
as by hand).

*What it assumes.* Everyone takes their top match (nobody declines, nobody waits), and the prices
are those of an ``optimal`` plan run on the same seeking laborers (the situation between a plan
and its confirmation, or when offices rank instead of confirming); prices of an older plan on
other laborers would do less well.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from matcher import plan, rank
from matcher.arrays import TargetColumns
from matcher.types import Config


@dataclass(frozen=True)
class Outcome:
    """One simulated arrival order: how many were placed and how many households without work moved."""

    placed: int
    households_moved: int


def _by_laborer(graph: plan.Graph, price: np.ndarray | None, targets: TargetColumns) -> tuple[np.ndarray, np.ndarray]:
    """Edges ordered per laborer as the ranking shows them (best first): (edge order, start per laborer row)."""
    key = graph.score if price is None else graph.score - price[graph.tgt]
    order = np.lexsort((targets.id[graph.tgt], targets.kind[graph.tgt], graph.distance_km, -key, graph.lab))
    start = np.searchsorted(graph.lab[order], np.arange(graph.n_labs + 1))
    return order, start


def simulate(
    prepared: plan.Prepared,
    config: Config,
    order: np.ndarray,
    price_units: np.ndarray | None = None,
    post_price_units: np.ndarray | None = None,
    *,
    hold_back: bool = False,
) -> Outcome:
    """Laborers (rows, in arrival ``order``) each take their top free job, else a welfare post if eligible.

    ``price_units`` and ``post_price_units`` (per target row, objective units) are deducted from the
    score before ranking jobs, respectively welfare posts. With ``hold_back`` a laborer passes over a
    target the ranking holds for others (``matcher.rank.held_back``, with their household's state in the
    simulation): the cadre leaves that slot to those who fit it better.
    """
    L, T, jobs = prepared.laborers, prepared.targets, prepared.jobs
    welfare = plan.candidate_graph(L, T, "welfare", config, rematch=prepared.rematch)
    scale = config.score_scale
    job_order, job_start = _by_laborer(jobs, None if price_units is None else price_units / scale, T)
    post_order, post_start = _by_laborer(welfare, None if post_price_units is None else post_price_units / scale, T)
    household, has_work = plan.household_numbers(L)
    moved = has_work.copy()  # households with work now (already, or by the simulation)
    free = T.capacity.astype(np.int64).tolist()
    moved_l, household_l = moved.tolist(), household.tolist()
    lists = []
    for graph, edges, start, units in (
        (jobs, job_order, job_start, price_units),
        (welfare, post_order, post_start, post_price_units),
    ):
        labs, tgt = graph.lab[edges], graph.tgt[edges]
        if units is None or not hold_back:
            idle = busy = np.zeros(len(edges), bool)
        else:  # held for others as the ranking says, for a household still without work and for one with work
            price = np.asarray(units, float)[tgt] / scale
            idle, busy = (
                rank.held_back(L, labs, T, tgt, graph.score[edges], price, config, np.full(len(edges), has))
                for has in (False, True)
            )
        lists.append((tgt.tolist(), start.tolist(), idle.tolist(), busy.tolist()))
    placed = 0
    for lab in np.asarray(order).tolist():
        h = household_l[lab]
        taken = -1
        for stage, (tgt, start, held_idle, held_busy) in enumerate(lists):
            if stage == 1 and moved_l[h]:
                break  # welfare posts only for households still without work
            held = held_busy if moved_l[h] else held_idle
            for i in range(start[lab], start[lab + 1]):
                if free[tgt[i]] > 0 and not held[i]:
                    taken = tgt[i]
                    break
            if taken >= 0:
                break
        if taken >= 0:
            free[taken] -= 1
            moved_l[h] = True
            placed += 1
    moved_now = np.array(moved_l)
    return Outcome(placed, int((moved_now & ~has_work).sum()))


def compare(prepared: plan.Prepared, config: Config, *, orders: int = 3, random_state: int = 0) -> dict[str, float]:
    """Households moved: hindsight ``optimal``, ``greedy``, and the simulation without prices, with
    them as the interactive ranking uses them (``online_with_prices``: ordered net of prices, and slots
    held for others passed over), and ordered net of prices only, nobody passing over a slot
    (``online_net_of_prices``, to show what holding back adds); simulated figures are means over
    ``orders`` random arrival orders, ``*_pct`` percentages of the hindsight optimum. Both stages are
    priced (jobs, then the welfare posts of the households the jobs left without work), as
    ``plan_prices`` does."""
    from matcher import prices

    chosen, _, _ = plan.solve_optimal(prepared.jobs, config)
    chosen = np.sort(chosen)
    best = plan.finish(prepared, "optimal", config, chosen, 0, explain=False).report
    job_units = prices.stage_prices(prepared.jobs, chosen, config).units
    welfare, welfare_chosen = prices.welfare_stage(prepared, chosen, config)
    post_units = prices.stage_prices(welfare, welfare_chosen, config).units
    greedy = plan.run_prepared(prepared, "greedy", config, explain=False).report
    rng = np.random.default_rng(random_state)
    runs: dict[str, list[int]] = {"online_without_prices": [], "online_net_of_prices": [], "online_with_prices": []}
    for _ in range(orders):
        order = rng.permutation(len(prepared.laborers))
        runs["online_without_prices"].append(simulate(prepared, config, order).households_moved)
        runs["online_net_of_prices"].append(simulate(prepared, config, order, job_units, post_units).households_moved)
        runs["online_with_prices"].append(
            simulate(prepared, config, order, job_units, post_units, hold_back=True).households_moved
        )
    hindsight = best.households_moved
    out = {"hindsight_optimal": float(hindsight), "greedy": float(greedy.households_moved), "orders": float(orders)}
    out.update({name: float(np.mean(moved)) for name, moved in runs.items()})
    out["priced_targets"] = float((job_units > 0).sum() + (post_units > 0).sum())
    for name in ("greedy", *runs):
        out[f"{name}_pct"] = 100.0 * out[name] / hindsight if hindsight else 100.0
    return out
