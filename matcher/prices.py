"""Capacity prices: what one slot of each target is worth to the last ``optimal`` plan, for ranking between plans.

*Why.* Between plans, cadres rank one laborer at a time, and every one of them sends their laborer
to the same best slots; the plan knew which of those slots others needed more. The dual price of
a target's capacity constraint says by how much the plan's objective would change with one slot
more or less there; deducting it from a laborer's score makes the ranking choose, laborer by
laborer, what the plan chose for everyone (Annie MOORE's dynamic placement does this for refugee
resettlement). A slot nobody else wants costs nothing; a contested one costs what the next best
use of it would have brought.

*How.* The prices are not taken from the solver (OR-tools' ``SimpleMinCostFlow`` shows no
potentials, and ``matcher.plan`` is left as it is): they are read off the solved stage's optimal
flow. On the stage's network (source → household → laborer → target → sink, a household
without work worth ``household_bonus`` for its first member, and a sink → source return arc so
that nobody has to be placed), an optimal circulation leaves a residual graph without negative
cycles. One slot more at target ``t`` gains minus the cheapest residual path sink → ``t`` (the
cycle that new arc ``t → sink`` would close); one slot less loses the cheapest residual path
``t → sink`` (the cycle that rerouting the freed unit closes). These are the least and greatest
optimal dual values of ``t``'s capacity constraint, and each comes from one potential function
(shortest distances from, respectively to, the sink), so each vector of them, and their midpoint,
is an optimal dual of the whole LP: with it, every planned laborer's own target maximises
``weight − price`` among theirs (complementary slackness). The least is kept: it is what the slot
would bring the best rival who did not get it, so "many others fit this post better" is true
whenever it is above 0 (the greatest also prices a slot nobody else wants, by what losing it
would cost its holder); the midpoint ranked no better in the simulation (``matcher.online``). Shortest
paths are found by a vectorised Bellman–Ford (the residual costs are negative), each round
relaxing only the arcs leaving nodes that changed. ``tests/matcher/test_prices.py`` checks both
extremes against ``scipy.optimize.linprog`` re-solved with one slot more and one less, and
HiGHS' own marginals lie between them.

*Units.* Prices are in objective units (``Config.score_scale`` per score point, as
``Graph.weight_units``); ``plan_prices`` divides by the scale for ranking.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from matcher.plan import (
    Graph,
    Prepared,
    candidate_graph,
    household_bonus_units,
    household_numbers,
    present,
    solve_optimal,
)
from matcher.types import Config

_INF = np.iinfo(np.int64).max // 4


@dataclass(frozen=True)
class Prices:
    """Per target row of a stage's graph: least and greatest optimal dual price, in objective units."""

    low_units: np.ndarray
    high_units: np.ndarray

    @property
    def units(self) -> np.ndarray:
        """The kept price: the least optimal dual value (what one more slot would bring a rival)."""
        return self.low_units.astype(float)


def _network(graph: Graph, chosen: np.ndarray, config: Config) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
    """The stage's residual network under the flow of ``chosen``: (nodes, tails, heads, costs); sink is node 1."""
    n_h, n_l, n_t = graph.n_households, graph.n_labs, graph.n_targets
    source, sink, h0 = 0, 1, 2
    l0 = h0 + n_h
    t0 = l0 + n_l
    labs = present(graph.lab, n_l)
    households = present(graph.household[labs], n_h)
    members = np.bincount(graph.household[labs], minlength=n_h)
    placed_l = np.zeros(n_l, np.int64)
    placed_l[graph.lab[chosen]] = 1
    placed_h = np.bincount(graph.household, weights=placed_l, minlength=n_h).astype(np.int64)
    used_t = np.bincount(graph.tgt[chosen], minlength=n_t).astype(np.int64)
    tgts = present(graph.tgt, n_t)
    without = ~graph.household_has_work[households]
    bonus = household_bonus_units(config)
    welfare = graph.stage == "welfare"
    # Source → household: a first arc carries the household bonus (for a household without work), a
    # second the other members for free (not in stage welfare: one post per household).
    first_cap = np.where(without | welfare, 1, members[households])
    first_flow = np.minimum(placed_h[households], first_cap)
    rest_cap = np.where(without & ~welfare, members[households] - 1, 0)
    arcs = [
        (np.full(len(households), source), h0 + households, first_cap, np.where(without, -bonus, 0), first_flow),
        (
            np.full(len(households), source),
            h0 + households,
            rest_cap,
            np.zeros(len(households), np.int64),
            placed_h[households] - first_flow,
        ),
        (
            h0 + graph.household[labs],
            l0 + labs,
            np.ones(len(labs), np.int64),
            np.zeros(len(labs), np.int64),
            placed_l[labs],
        ),
        (
            l0 + graph.lab,
            t0 + graph.tgt,
            np.ones(len(graph), np.int64),
            -graph.weight_units,
            np.isin(np.arange(len(graph)), chosen).astype(np.int64),
        ),
        (t0 + tgts, np.full(len(tgts), sink), graph.capacity[tgts], np.zeros(len(tgts), np.int64), used_t[tgts]),
        (
            np.array([sink]),
            np.array([source]),
            np.array([_INF]),
            np.zeros(1, np.int64),
            np.array([int(placed_l.sum())]),
        ),
    ]
    tails, heads, costs = [], [], []
    for tail, head, cap, cost, flow in arcs:
        tail, head, cap, cost, flow = (np.asarray(a, np.int64) for a in (tail, head, cap, cost, flow))
        if (flow > cap).any() or (flow < 0).any():
            raise ValueError("the chosen edges exceed a capacity: not a plan of this graph")
        forward, backward = flow < cap, flow > 0
        tails += [tail[forward], head[backward]]
        heads += [head[forward], tail[backward]]
        costs += [cost[forward], -cost[backward]]
    return t0 + n_t, np.concatenate(tails), np.concatenate(heads), np.concatenate(costs)


def shortest_from(n: int, tails: np.ndarray, heads: np.ndarray, costs: np.ndarray, start: int) -> np.ndarray:
    """Shortest path lengths from ``start`` over arcs with any integer costs (``_INF`` where unreachable).

    Bellman–Ford, vectorised: each round relaxes, at once, the arcs leaving the nodes whose distance
    fell in the round before. Raises ``ValueError`` on a negative cycle (the flow was not optimal).
    """
    order = np.argsort(tails, kind="stable")
    tails, heads, costs = tails[order], heads[order], costs[order]
    first = np.searchsorted(tails, np.arange(n + 1))
    dist = np.full(n, _INF, np.int64)
    dist[start] = 0
    changed = np.array([start])
    for _ in range(n + 1):
        count = first[changed + 1] - first[changed]
        if count.sum() == 0:
            return dist
        arc = np.repeat(first[changed], count) + (
            np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count, count)
        )
        best = dist.copy()
        np.minimum.at(best, heads[arc], dist[tails[arc]] + costs[arc])
        changed = np.flatnonzero(best < dist)
        dist = best
        if len(changed) == 0:
            return dist
    raise ValueError("a negative cycle in the residual graph: the chosen edges are not optimal")


def stage_prices(graph: Graph, chosen: np.ndarray, config: Config) -> Prices:
    """Least and greatest optimal dual prices of every target's capacity, for an optimal ``chosen`` (edge indices).

    Targets without edges, or with a free slot left, cost 0.
    """
    n, tails, heads, costs = _network(graph, np.asarray(chosen, np.int64), config)
    t0 = 2 + graph.n_households + graph.n_labs
    from_sink = shortest_from(n, tails, heads, costs, 1)[t0:]
    to_sink = shortest_from(n, heads, tails, costs, 1)[t0:]  # reversed arcs: distances to the sink
    low = np.where(from_sink >= _INF, 0, np.maximum(0, -from_sink))
    high = np.where(to_sink >= _INF, 0, np.maximum(0, to_sink))
    return Prices(low.astype(np.int64), high.astype(np.int64))


def chosen_edges(graph: Graph, prepared: Prepared, pairs: Sequence[tuple[int, str, int]]) -> np.ndarray:
    """Edge indices of ``graph`` for (laborer id, kind, target id) pairs; pairs not in the graph are skipped."""
    L, T = prepared.laborers, prepared.targets
    lab_row = {int(i): r for r, i in enumerate(L.id.tolist())}
    tgt_row = {(t.kind, t.id): r for r, t in enumerate(T.targets)}
    keys = {
        lab_row[lab] * graph.n_targets + tgt_row[(kind, tid)]
        for lab, kind, tid in pairs
        if lab in lab_row and (kind, tid) in tgt_row
    }
    edge_key = graph.lab * graph.n_targets + graph.tgt
    return np.flatnonzero(np.isin(edge_key, np.fromiter(keys, np.int64, len(keys))))


def welfare_graph(prepared: Prepared, chosen_jobs: np.ndarray, config: Config) -> Graph:
    """Stage welfare's graph after stage jobs chose ``chosen_jobs``, built as ``matcher.plan.finish`` builds it."""
    L, T, jobs = prepared.laborers, prepared.targets, prepared.jobs
    placed = np.zeros(len(L), bool)
    placed[jobs.lab[chosen_jobs]] = True
    household, has_work = household_numbers(L)
    has_work[household[placed]] = True
    after = replace(L, household_has_work=has_work[household])
    return candidate_graph(after, T, "welfare", config, active=~placed, rematch=prepared.rematch)


def welfare_stage(prepared: Prepared, chosen_jobs: np.ndarray, config: Config) -> tuple[Graph, np.ndarray]:
    """Stage welfare's graph and its optimal chosen edges, after stage jobs chose ``chosen_jobs``."""
    graph = welfare_graph(prepared, chosen_jobs, config)
    chosen, _, _ = solve_optimal(graph, config)
    return graph, np.sort(chosen)


def plan_prices(
    prepared: Prepared, pairs: Sequence[tuple[int, str, int]], config: Config
) -> dict[tuple[str, int], tuple[float, int]]:
    """The kept price (score units) and the capacity it was priced at, per target of an ``optimal`` plan.

    ``pairs`` are the plan's (laborer id, kind, target id) assignments. Stage jobs is priced on its
    graph with the plan's job assignments; stage welfare on the graph those leave, with its posts.
    Every target of either graph is priced, at 0 where a slot is left.
    """
    out: dict[tuple[str, int], tuple[float, int]] = {}
    chosen_jobs = chosen_edges(prepared.jobs, prepared, pairs)
    welfare = welfare_graph(prepared, chosen_jobs, config)
    T = prepared.targets
    for graph in (prepared.jobs, welfare):
        chosen = chosen_jobs if graph is prepared.jobs else chosen_edges(graph, prepared, pairs)
        units = stage_prices(graph, chosen, config).units
        for r in present(graph.tgt, graph.n_targets).tolist():
            target = T.targets[r]
            out[target.key] = (float(units[r]) / config.score_scale, int(graph.capacity[r]))
    return out
