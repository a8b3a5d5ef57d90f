"""County and province plans: assign seeking laborers to openings, batches and welfare posts.

A plan climbs the policy ladder in two stages. Stage ``jobs`` fills openings and transport
batches; stage ``welfare`` then offers public welfare posts to the poor households still without
work, at most one post per household (一户一岗). Each stage works on a sparse candidate graph
(every eligible laborer–target pair, found with BallTree radius queries and vectorised rules)
and is solved in one of three modes:

- ``optimal``: the exact maximum of the objective (placement scores, poverty priority, and a
  concave household term worth ``household_bonus`` once per household moved out of
  "without work") as an integer min-cost flow (OR-tools ``SimpleMinCostFlow``), solved per
  connected component of the graph; components are independent, so ``parts`` and
  ``solve_part`` can be farmed out to workers unchanged.
- ``stable``: laborer-proposing deferred acceptance with capacities (laborers rank by their own
  score; targets rank by priority, then score).
- ``greedy``: laborers in registration order each take their best free target, as is done by
  hand today; the baseline every report compares against.

Every plan keeps: no capacity exceeded, no laborer twice, at most one welfare post per
household, no hard rule broken.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
from ortools.graph.python import min_cost_flow
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from matcher import rules, scoring
from matcher.arrays import AREA_CODE, KIND_CODE, POVERTY_CODE, LaborerColumns, TargetColumns
from matcher.geo import PointIndex, haversine_km
from matcher.rank import nearest_per_target
from matcher.scoring import Factor
from matcher.types import DEFAULT_CONFIG, JOB_KINDS, KINDS, Config, Laborer, Target

MODES: tuple[str, ...] = ("optimal", "stable", "greedy")
STAGES: dict[str, tuple[str, ...]] = {"jobs": JOB_KINDS, "welfare": ("welfare_post",)}
_RADIUS_SLACK = 1.0 + 1e-9


@dataclass(frozen=True, slots=True)
class Assignment:
    """One proposed placement; ``distance_km`` is great-circle (to the nearest pickup point for batches)."""

    laborer_id: int
    kind: str
    target_id: int
    score: float
    distance_km: float
    stage: str  # 'jobs' | 'welfare'
    codes: tuple[tuple, ...]  # compact factor codes (``scoring.render_factor``); empty unexplained

    @property
    def factors(self) -> tuple[Factor, ...]:
        """The factors with their sentences, rendered from the codes."""
        return tuple(scoring.render_factor(code) for code in self.codes)


@dataclass(frozen=True)
class Report:
    """What a plan achieves, in the figures an office compares between modes.

    ``objective`` is the stage-1 plus stage-2 objective in score units (exactly
    ``objective_units / config.score_scale``); commute figures are over all assignments (for
    batches, the distance to the pickup point).
    """

    mode: str
    laborers: int
    placed: int
    placed_by_kind: dict[str, int]
    households_without_work: int
    households_moved: int
    registered_poor_placed: int
    mean_commute_km: float
    p90_commute_km: float
    mean_score: float
    objective: float
    objective_units: int
    objective_units_by_stage: dict[str, int]
    components: int


@dataclass(frozen=True)
class PlanResult:
    """The assignments of a plan and its report."""

    assignments: list[Assignment]
    report: Report


@dataclass(frozen=True)
class Graph:
    """A stage's candidate graph: one row per eligible laborer–target pair.

    ``weight_units`` is the integer objective of taking the edge (score plus priority bonus,
    times ``score_scale``); ``household`` maps laborer rows to dense household numbers.
    """

    stage: str
    lab: np.ndarray
    tgt: np.ndarray
    distance_km: np.ndarray
    score: np.ndarray
    weight_units: np.ndarray
    household: np.ndarray  # per laborer row
    household_has_work: np.ndarray  # per dense household
    capacity: np.ndarray  # per target row
    n_labs: int
    n_targets: int
    n_households: int
    extra: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.lab)


def household_numbers(laborers: LaborerColumns) -> tuple[np.ndarray, np.ndarray]:
    """Dense household number per laborer row, and whether each household has work."""
    ids, household = np.unique(laborers.household_id, return_inverse=True)
    has_work = np.zeros(len(ids), bool)
    np.logical_or.at(has_work, household, laborers.household_has_work)
    return household, has_work


def candidate_graph(
    laborers: LaborerColumns,
    targets: TargetColumns,
    stage: str,
    config: Config,
    *,
    capacity: np.ndarray | None = None,
    active: np.ndarray | None = None,
    rematch: bool = False,
) -> Graph:
    """Every eligible pair of a stage, found with radius queries and the vectorised rules.

    ``active`` limits the laborers considered (rows); ``capacity`` overrides targets' free slots.
    """
    L, T = laborers, targets
    capacity = T.capacity if capacity is None else capacity
    active = np.ones(len(L), bool) if active is None else active
    household, has_work = household_numbers(L)
    able = active & (L.ability > 0) & (rematch | ~L.is_working)
    labs, tgts, dists = [], [], []
    for kind in STAGES[stage]:
        rows = np.flatnonzero((T.kind == KIND_CODE[kind]) & (capacity > 0))
        if kind == "batch":
            who = np.flatnonzero(able & (L.area != AREA_CODE["local"]))
            radius = np.full(len(who), config.max_pickup_km)
        elif kind == "welfare_post":
            who = np.flatnonzero(
                able
                & (L.area == AREA_CODE["local"])
                & (L.poverty != POVERTY_CODE["non_poor"])
                & ~L.household_has_work
                & ~L.household_has_post
            )
            radius = L.max_commute_km[who]
        else:
            who = np.flatnonzero(able)
            radius = L.max_commute_km[who]
        if len(rows) == 0 or len(who) == 0:
            continue
        point_row = np.repeat(rows, [len(T.targets[r].points) for r in rows])
        pts = np.array([p for r in rows for p in T.targets[r].points], float)
        lab, point = _pairs_within(L, who, radius, PointIndex(pts[:, 0], pts[:, 1]))
        tgt = point_row[point]
        # Cheap rules first (all but distance), so the expensive steps below see fewer pairs.
        keep = rules.eligible(
            L, lab, T, tgt, np.zeros(len(lab)), config, rematch=rematch, capacity=capacity
        )
        lab, tgt, point = lab[keep], tgt[keep], point[keep]
        dist = haversine_km(L.lat[lab], L.lon[lab], pts[point, 0], pts[point, 1])
        if len(pts) > len(rows):  # several pickup points per batch: keep the nearest per pair
            pair, _, dist = nearest_per_target(lab * len(T) + tgt, point, dist)
            lab, tgt = pair // len(T), pair % len(T)
        labs.append(lab)
        tgts.append(tgt)
        dists.append(dist)
    lab = np.concatenate(labs) if labs else np.empty(0, np.int64)
    tgt = np.concatenate(tgts) if tgts else np.empty(0, np.int64)
    dist = np.concatenate(dists) if dists else np.empty(0, float)
    ok = rules.eligible(L, lab, T, tgt, dist, config, rematch=rematch, capacity=capacity)
    lab, tgt, dist = lab[ok], tgt[ok], dist[ok]
    score = scoring.score_columns(L, lab, T, tgt, dist, config)
    bonus = scoring.bonus_columns(L.poverty[lab], L.ability[lab], T.kind[tgt], config)
    weight_units = np.rint((score + bonus) * config.score_scale).astype(np.int64)
    return Graph(
        stage,
        lab,
        tgt,
        dist,
        score,
        weight_units,
        household,
        has_work,
        np.asarray(capacity, np.int64),
        len(L),
        len(T),
        len(has_work),
    )


def _pairs_within(L: LaborerColumns, who: np.ndarray, radius_km: np.ndarray, index: PointIndex):
    """(laborer row, point) pairs within each laborer's radius; one query per distinct home position."""
    if len(who) == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    positions, home = np.unique(
        np.column_stack([L.lat[who], L.lon[who]]), axis=0, return_inverse=True
    )
    home = home.ravel()
    radius = np.zeros(len(positions))
    np.maximum.at(radius, home, radius_km)
    q, point, _ = index.within_km(positions[:, 0], positions[:, 1], radius * _RADIUS_SLACK)
    members = np.argsort(home, kind="stable")
    count = np.bincount(home, minlength=len(positions))
    start = np.cumsum(count) - count
    per_pair = count[q]
    pair = np.repeat(np.arange(len(q)), per_pair)
    offset = np.arange(len(pair)) - np.repeat(np.cumsum(per_pair) - per_pair, per_pair)
    return who[members[start[q][pair] + offset]], point[pair]


def household_bonus_units(config: Config) -> int:
    """The household term in objective units."""
    return int(round(config.household_bonus * config.score_scale))


# -- components --------------------------------------------------------------------------------


def component_labels(graph: Graph) -> tuple[int, np.ndarray]:
    """Connected components of laborers, targets and households; returns (count, label per edge)."""
    if len(graph) == 0:
        return 0, np.empty(0, np.int64)
    n_l, n_t = graph.n_labs, graph.n_targets
    size = n_l + n_t + graph.n_households
    rows = np.concatenate([graph.lab, graph.lab])
    cols = np.concatenate([n_l + graph.tgt, n_l + n_t + graph.household[graph.lab]])
    adjacency = coo_matrix((np.ones(len(rows), np.int8), (rows, cols)), shape=(size, size)).tocsr()
    _, labels = connected_components(adjacency, directed=False)
    edge_label = labels[graph.lab]
    _, edge_label = np.unique(edge_label, return_inverse=True)
    return int(edge_label.max()) + 1, edge_label


def parts(graph: Graph, max_arcs: int) -> Iterator[np.ndarray]:
    """Edge indices of independent parts: whole components packed up to ``max_arcs`` edges each."""
    n, label = component_labels(graph)
    if n == 0:
        return
    order = np.argsort(label, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(np.bincount(label, minlength=n))])
    start = 0
    for c in range(1, n + 1):
        if bounds[c] - bounds[start] >= max_arcs or c == n:
            yield order[bounds[start] : bounds[c]]
            start = c


# -- optimal -----------------------------------------------------------------------------------


def solve_part(graph: Graph, edges: np.ndarray, config: Config) -> tuple[np.ndarray, int]:
    """Exact optimum over some whole components: (chosen edge indices, objective units).

    Network: source → household (first member worth ``household_bonus`` if the household has no
    work — a concave reward; at most one member in stage ``welfare``) → laborer (1) → target
    (weight) → sink (capacity), plus a free source → sink bypass so nobody has to be placed.
    """
    if len(edges) == 0:
        return edges, 0
    lab_g, tgt_g = graph.lab[edges], graph.tgt[edges]
    labs, lab = np.unique(lab_g, return_inverse=True)
    tgts, tgt = np.unique(tgt_g, return_inverse=True)
    households, hh_of_lab = np.unique(graph.household[labs], return_inverse=True)
    n_h, n_l, n_t = len(households), len(labs), len(tgts)
    source, sink = 0, 1
    h0, l0 = 2, 2 + n_h
    t0 = l0 + n_l
    members = np.bincount(hh_of_lab, minlength=n_h)
    without_work = ~graph.household_has_work[households]
    bonus = household_bonus_units(config)
    h_nodes = h0 + np.arange(n_h)
    if graph.stage == "welfare":
        first_cap, rest_cap = np.ones(n_h, np.int64), np.zeros(n_h, np.int64)
    else:
        first_cap = np.where(without_work, 1, members)
        rest_cap = np.where(without_work, members - 1, 0)
    first_cost = np.where(without_work, -bonus, 0)
    has_rest = rest_cap > 0
    tails = np.concatenate(
        [
            np.full(n_h, source),
            np.full(int(has_rest.sum()), source),
            h0 + hh_of_lab,
            l0 + lab,
            t0 + np.arange(n_t),
            [source],
        ]
    )
    heads = np.concatenate(
        [h_nodes, h_nodes[has_rest], l0 + np.arange(n_l), t0 + tgt, np.full(n_t, sink), [sink]]
    )
    caps = np.concatenate(
        [
            first_cap,
            rest_cap[has_rest],
            np.ones(n_l, np.int64),
            np.ones(len(edges), np.int64),
            graph.capacity[tgts],
            [n_l],
        ]
    )
    costs = np.concatenate(
        [
            first_cost,
            np.zeros(int(has_rest.sum()), np.int64),
            np.zeros(n_l, np.int64),
            -graph.weight_units[edges],
            np.zeros(n_t, np.int64),
            [0],
        ]
    )
    flow = min_cost_flow.SimpleMinCostFlow()
    arcs = flow.add_arcs_with_capacity_and_unit_cost(
        tails.astype(np.int32),
        heads.astype(np.int32),
        caps.astype(np.int64),
        costs.astype(np.int64),
    )
    supplies = np.zeros(t0 + n_t, np.int64)
    supplies[source], supplies[sink] = n_l, -n_l
    flow.set_nodes_supplies(np.arange(t0 + n_t, dtype=np.int32), supplies)
    status = flow.solve()
    if status != flow.OPTIMAL:
        raise RuntimeError(f"min-cost flow failed with status {status}")
    first_edge_arc = n_h + int(has_rest.sum()) + n_l
    chosen = flow.flows(arcs[first_edge_arc : first_edge_arc + len(edges)]) > 0
    return edges[chosen], -int(flow.optimal_cost())


def solve_optimal(graph: Graph, config: Config) -> tuple[np.ndarray, int, int]:
    """Solve every part of a graph exactly: (chosen edges, objective units, number of parts)."""
    chosen, total, n_parts = [], 0, 0
    for edges in parts(graph, config.max_part_arcs):
        picked, units = solve_part(graph, edges, config)
        chosen.append(picked)
        total += units
        n_parts += 1
    return (np.concatenate(chosen) if chosen else np.empty(0, np.int64)), total, n_parts


# -- stable and greedy -------------------------------------------------------------------------


def laborer_preference_order(graph: Graph, targets: TargetColumns) -> np.ndarray:
    """Edges grouped by laborer, each laborer's best first (score, then distance, kind, id)."""
    return np.lexsort(
        (targets.id[graph.tgt], targets.kind[graph.tgt], graph.distance_km, -graph.score, graph.lab)
    )


def target_rank(
    graph: Graph, laborers: LaborerColumns, targets: TargetColumns, config: Config
) -> np.ndarray:
    """Per edge, the laborer's place in its target's list (0 = most wanted): priority, score, order, id."""
    prio = scoring.priority_columns(
        laborers.poverty[graph.lab],
        laborers.ability[graph.lab],
        laborers.household_has_work[graph.lab],
        targets.kind[graph.tgt],
        config,
    )
    prio_units = np.rint(prio * config.score_scale)
    order = np.lexsort(
        (laborers.id[graph.lab], laborers.order[graph.lab], -graph.score, -prio_units, graph.tgt)
    )
    rank = np.empty(len(graph), np.int64)
    rank[order] = np.arange(len(graph))
    return rank


def _grouped(keys: np.ndarray, order: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    counts = np.bincount(keys[order], minlength=size)
    end = np.cumsum(counts)
    return end - counts, end


def deferred_acceptance(
    graph: Graph, edges: np.ndarray, pref_order: np.ndarray, rank: np.ndarray
) -> np.ndarray:
    """Laborer-proposing deferred acceptance with capacities over the given edges; returns chosen edges."""
    allowed = np.zeros(len(graph), bool)
    allowed[edges] = True
    pref = pref_order[allowed[pref_order]]
    start, end = _grouped(graph.lab, pref, graph.n_labs)
    pref_l, tgt_l, rank_l = pref.tolist(), graph.tgt.tolist(), rank.tolist()
    cap = graph.capacity.tolist()
    pointer = start.tolist()
    end_l = end.tolist()
    held: dict[int, list[tuple[int, int]]] = {}
    free = [int(x) for x in np.unique(graph.lab[edges])[::-1]]
    lab_of = graph.lab.tolist()
    while free:
        lab = free.pop()
        i = pointer[lab]
        while i < end_l[lab]:
            e = pref_l[i]
            i += 1
            t = tgt_l[e]
            heap = held.setdefault(t, [])
            if len(heap) < cap[t]:
                heapq.heappush(heap, (-rank_l[e], e))
                break
            if -heap[0][0] > rank_l[e]:
                _, bumped = heapq.heapreplace(heap, (-rank_l[e], e))
                free.append(lab_of[bumped])
                break
        pointer[lab] = i
    chosen = [e for heap in held.values() for _, e in heap]
    return np.array(sorted(chosen), np.int64)


def greedy_pick(
    graph: Graph, edges: np.ndarray, pref_order: np.ndarray, laborers: LaborerColumns
) -> np.ndarray:
    """Laborers in registration order each take their best free target; one per household in stage welfare."""
    allowed = np.zeros(len(graph), bool)
    allowed[edges] = True
    pref = pref_order[allowed[pref_order]]
    start, end = _grouped(graph.lab, pref, graph.n_labs)
    who = np.unique(graph.lab[edges])
    who = who[np.lexsort((laborers.id[who], laborers.order[who]))]
    free = graph.capacity.copy().tolist()
    tgt_l, pref_l = graph.tgt.tolist(), pref.tolist()
    household = graph.household.tolist()
    covered: set[int] = set()
    one_per_household = graph.stage == "welfare"
    chosen = []
    for lab in who.tolist():
        if one_per_household and household[lab] in covered:
            continue
        for i in range(start[lab], end[lab]):
            e = pref_l[i]
            if free[tgt_l[e]] > 0:
                free[tgt_l[e]] -= 1
                chosen.append(e)
                covered.add(household[lab])
                break
    return np.array(sorted(chosen), np.int64)


def welfare_representatives(
    graph: Graph, laborers: LaborerColumns, targets: TargetColumns, config: Config
) -> np.ndarray:
    """Edges of one laborer per household: the best suited (priority for posts, best score, order, id)."""
    if len(graph) == 0:
        return np.empty(0, np.int64)
    best = np.full(graph.n_labs, -np.inf)
    np.maximum.at(best, graph.lab, graph.score)
    labs = np.unique(graph.lab)
    prio = scoring.priority_columns(
        laborers.poverty[labs],
        laborers.ability[labs],
        laborers.household_has_work[labs],
        np.full(len(labs), KIND_CODE["welfare_post"]),
        config,
    )
    order = np.lexsort(
        (
            laborers.id[labs],
            laborers.order[labs],
            -best[labs],
            -np.rint(prio * config.score_scale),
            graph.household[labs],
        )
    )
    labs = labs[order]
    hh = graph.household[labs]
    first = np.ones(len(labs), bool)
    first[1:] = hh[1:] != hh[:-1]
    chosen_lab = np.zeros(graph.n_labs, bool)
    chosen_lab[labs[first]] = True
    return np.flatnonzero(chosen_lab[graph.lab])


# -- the plan ----------------------------------------------------------------------------------


def stage_objective_units(graph: Graph, chosen: np.ndarray, config: Config) -> int:
    """Objective of chosen edges in units: weights plus the household term once per household moved."""
    households = np.unique(graph.household[graph.lab[chosen]])
    moved = int((~graph.household_has_work[households]).sum())
    return int(graph.weight_units[chosen].sum()) + household_bonus_units(config) * moved


def solve_stage(
    graph: Graph, mode: str, laborers: LaborerColumns, targets: TargetColumns, config: Config
):
    """Chosen edges of one stage in one mode, and the number of independent parts solved."""
    if mode == "optimal":
        chosen, _, n_parts = solve_optimal(graph, config)
        return np.sort(chosen), n_parts
    everything = np.arange(len(graph))
    pref = laborer_preference_order(graph, targets)
    if mode == "stable":
        # One post per household: each household proposes through its best-suited member.
        edges = (
            welfare_representatives(graph, laborers, targets, config)
            if graph.stage == "welfare"
            else everything
        )
        rank = target_rank(graph, laborers, targets, config)
        return deferred_acceptance(graph, edges, pref, rank), 0
    if mode == "greedy":  # one post per household is enforced while serving, as by hand
        return greedy_pick(graph, everything, pref, laborers), 0
    raise ValueError(f"unknown plan mode {mode!r}; expected one of {', '.join(MODES)}")


def run(
    laborers: Sequence[Laborer] | Mapping[str, Sequence],
    targets: Sequence[Target],
    mode: str,
    config: Config = DEFAULT_CONFIG,
    *,
    rematch: bool = False,
    explain: bool = True,
) -> PlanResult:
    """Plan the two-stage ladder (jobs, then welfare posts for households still without work) in one mode.

    ``laborers`` may also be columns (``LaborerColumns.from_columns``), as a database query gives
    them. ``explain=False`` skips the per-assignment factor codes (faster for benchmarks).
    """
    if mode not in MODES:
        raise ValueError(f"unknown plan mode {mode!r}; expected one of {', '.join(MODES)}")
    T = TargetColumns.from_targets(targets)
    if isinstance(laborers, Mapping):
        L = LaborerColumns.from_columns(laborers, T.skills, T.job_types)
    else:
        L = LaborerColumns.from_laborers(laborers, T.skills, T.job_types)
    jobs = candidate_graph(L, T, "jobs", config, rematch=rematch)
    chosen_jobs, parts_jobs = solve_stage(jobs, mode, L, T, config)

    placed = np.zeros(len(L), bool)
    placed[jobs.lab[chosen_jobs]] = True
    household, has_work = household_numbers(L)
    has_work_now = has_work.copy()
    has_work_now[household[placed]] = True
    L2 = replace(L, household_has_work=has_work_now[household])
    welfare = candidate_graph(L2, T, "welfare", config, active=~placed, rematch=rematch)
    chosen_welfare, parts_welfare = solve_stage(welfare, mode, L2, T, config)

    assignments = _assignments(jobs, chosen_jobs, L, T, config, explain) + _assignments(
        welfare, chosen_welfare, L2, T, config, explain
    )
    units = {
        "jobs": stage_objective_units(jobs, chosen_jobs, config),
        "welfare": stage_objective_units(welfare, chosen_welfare, config),
    }
    report = _report(
        mode,
        L,
        T,
        jobs,
        chosen_jobs,
        welfare,
        chosen_welfare,
        units,
        parts_jobs + parts_welfare,
        config,
    )
    return PlanResult(assignments, report)


def _assignments(
    graph: Graph,
    chosen: np.ndarray,
    L: LaborerColumns,
    T: TargetColumns,
    config: Config,
    explain: bool,
):
    lab, tgt, dist = graph.lab[chosen], graph.tgt[chosen], graph.distance_km[chosen]
    codes = (
        scoring.factor_code_columns(L, lab, T, tgt, dist, config) if explain else [()] * len(lab)
    )
    kinds = [KINDS[k] for k in T.kind[tgt].tolist()]
    return [
        Assignment(laborer_id, kind, target_id, s, d, graph.stage, code)
        for laborer_id, kind, target_id, s, d, code in zip(
            L.id[lab].tolist(), kinds, T.id[tgt].tolist(), graph.score[chosen].tolist(),
            dist.tolist(), codes, strict=True,
        )
    ]


def _report(
    mode, L, T, jobs, chosen_jobs, welfare, chosen_welfare, units, n_parts, config
) -> Report:
    labs = np.concatenate([jobs.lab[chosen_jobs], welfare.lab[chosen_welfare]])
    tgts = np.concatenate([jobs.tgt[chosen_jobs], welfare.tgt[chosen_welfare]])
    dist = np.concatenate([jobs.distance_km[chosen_jobs], welfare.distance_km[chosen_welfare]])
    score = np.concatenate([jobs.score[chosen_jobs], welfare.score[chosen_welfare]])
    household, has_work = household_numbers(L)
    moved = np.unique(household[labs])
    objective_units = units["jobs"] + units["welfare"]
    return Report(
        mode=mode,
        laborers=len(L),
        placed=len(labs),
        placed_by_kind={kind: int((T.kind[tgts] == KIND_CODE[kind]).sum()) for kind in KINDS},
        households_without_work=int((~has_work).sum()),
        households_moved=int((~has_work[moved]).sum()),
        registered_poor_placed=int((L.poverty[labs] == POVERTY_CODE["registered_poor"]).sum()),
        mean_commute_km=float(dist.mean()) if len(dist) else 0.0,
        p90_commute_km=float(np.percentile(dist, 90)) if len(dist) else 0.0,
        mean_score=float(score.mean()) if len(score) else 0.0,
        objective=objective_units / config.score_scale,
        objective_units=objective_units,
        objective_units_by_stage=dict(units),
        components=n_parts,
    )


def compare(report: Report, greedy_report: Report) -> dict[str, dict[str, float]]:
    """Side-by-side figures of a plan and the greedy baseline: {figure: {mode, greedy, difference}}."""
    figures = {
        "placed": (report.placed, greedy_report.placed),
        "households_moved": (report.households_moved, greedy_report.households_moved),
        "registered_poor_placed": (
            report.registered_poor_placed,
            greedy_report.registered_poor_placed,
        ),
        "mean_commute_km": (report.mean_commute_km, greedy_report.mean_commute_km),
        "p90_commute_km": (report.p90_commute_km, greedy_report.p90_commute_km),
        "mean_score": (report.mean_score, greedy_report.mean_score),
        "objective": (report.objective, greedy_report.objective),
    }
    figures.update(
        {
            f"placed_{kind}": (report.placed_by_kind[kind], greedy_report.placed_by_kind[kind])
            for kind in KINDS
        }
    )
    return {
        name: {report.mode: a, "greedy": b, "difference": a - b} for name, (a, b) in figures.items()
    }
