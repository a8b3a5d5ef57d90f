"""County and province plans: assign seeking laborers to openings, batches and welfare posts.

A plan climbs the policy ladder in two stages. Stage ``jobs`` fills openings and transport
batches; stage ``welfare`` then offers public welfare posts to the poor households still without
work, at most one post per household (一户一岗). Each stage works on a sparse candidate graph
(every eligible laborer–target pair, found with dual KD-tree radius joins and vectorised rules)
and is solved in one of three modes:

- ``optimal``: the exact maximum of the objective (placement scores, poverty priority, and a
  concave household term worth ``household_bonus`` once per household moved out of
  "without work") as an integer min-cost flow (OR-tools ``SimpleMinCostFlow``), solved per
  connected component of the graph; components are independent, so a plan can be split into
  ``prepare``, ``solve_part`` per ``job_parts`` (on workers: ``web.jobs.components``) and
  ``finish``, with exactly the result of ``run``.
- ``stable``: laborer-proposing deferred acceptance with capacities (laborers rank by their own
  score; targets rank by priority, then score).
- ``greedy``: laborers in registration order each take their best free target, as is done by
  hand today; the baseline every report compares against.

Every plan keeps: no capacity exceeded, no laborer twice, at most one welfare post per
household, no hard rule broken. An ``optimal`` plan may also carry quotas (caps and reserves per
group, ``matcher.quotas``), still solved exactly; the report says whether each was met.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from itertools import repeat
from typing import Any

import numpy as np
from ortools.graph.python import min_cost_flow
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from matcher import quotas as quota_rules
from matcher import rules, scoring
from matcher.arrays import KIND_CODE, POVERTY_CODE, LaborerColumns, TargetColumns
from matcher.geo import EARTH_RADIUS_KM, haversine_rad_km, pairs_within_km
from matcher.quotas import Bounds, Quota
from matcher.scoring import Factor, FactorCode
from matcher.types import (
    ABILITY_RANK,
    DEFAULT_CONFIG,
    JOB_KINDS,
    KINDS,
    Config,
    Laborer,
    Target,
)

MODES: tuple[str, ...] = ("optimal", "stable", "greedy")
STAGES: dict[str, tuple[str, ...]] = {"jobs": JOB_KINDS, "welfare": ("welfare_post",)}


@dataclass(frozen=True, slots=True)
class Assignment:
    """One proposed placement; ``distance_km`` is great-circle (to the nearest pickup point for batches)."""

    laborer_id: int
    kind: str
    target_id: int
    score: float
    distance_km: float
    stage: str  # 'jobs' | 'welfare'
    codes: tuple[FactorCode, ...]  # compact factor codes (``scoring.render_factor``); empty unexplained

    @property
    def factors(self) -> tuple[Factor, ...]:
        """The factors with their sentences, rendered from the codes."""
        return tuple(scoring.render_factor(code) for code in self.codes)


@dataclass(frozen=True)
class Report:
    """What a plan achieves, in the figures an office compares between modes.

    ``objective`` is the stage-1 plus stage-2 objective in score units (exactly
    ``objective_units / config.score_scale``); commute figures are over all assignments (for
    batches, the distance to the pickup point). ``households_without_work`` and ``households_moved``
    count every household of the plan's laborers; the ``poor_`` figures count, of those, the poor
    (registered poor or monitored) ones: the definition of *households without work* the offices'
    pages use, narrowed to the households that have a laborer in the plan.
    """

    mode: str
    laborers: int
    placed: int
    placed_by_kind: dict[str, int]
    households_without_work: int
    households_moved: int
    registered_poor_placed: int
    poor_households_without_work: int
    poor_households_moved: int
    mean_commute_km: float
    p90_commute_km: float
    mean_score: float
    objective: float
    objective_units: int
    objective_units_by_stage: dict[str, int]
    components: int
    quotas: list[dict[str, Any]] = field(default_factory=list)  # per quota: kept or not (quotas.outcome)


@dataclass(frozen=True, eq=False)
class AssignmentColumns:
    """A plan's assignments as columns, one row per assignment: what writing or counting them reads.

    A province plan makes about 90,000 assignments; building an ``Assignment`` for each costs more
    than the rest of the plan outside the solver, so they are built only when asked for
    (``objects``, ``PlanResult.assignments``). ``kind`` holds ``KIND_CODE`` codes; ``welfare`` is
    true for stage welfare's rows; ``codes`` is None for a plan run without explanations.
    """

    laborer_id: np.ndarray
    kind: np.ndarray
    target_id: np.ndarray
    score: np.ndarray
    distance_km: np.ndarray
    welfare: np.ndarray
    codes: Sequence[tuple[FactorCode, ...]] | None = None

    def __len__(self) -> int:
        return len(self.laborer_id)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, AssignmentColumns):
            return NotImplemented
        arrays = ("laborer_id", "kind", "target_id", "score", "distance_km", "welfare")
        same = all(np.array_equal(getattr(self, name), getattr(other, name)) for name in arrays)
        return same and list(self.codes or ()) == list(other.codes or ())

    __hash__ = None  # type: ignore[assignment]

    def kinds(self) -> list[str]:
        """Each row's kind by name."""
        return [KINDS[k] for k in self.kind.tolist()]

    def stages(self) -> list[str]:
        """Each row's stage by name."""
        return [STAGE_NAMES[w] for w in self.welfare.tolist()]

    def pairs(self) -> list[tuple[int, str, int]]:
        """``(laborer id, kind, target id)`` of every row."""
        return list(zip(self.laborer_id.tolist(), self.kinds(), self.target_id.tolist(), strict=True))

    def objects(self) -> list[Assignment]:
        """One ``Assignment`` per row, in row order."""
        codes = repeat((), len(self)) if self.codes is None else self.codes
        columns = (self.laborer_id, self.target_id, self.score, self.distance_km)
        lab, tgt, score, dist = (c.tolist() for c in columns)
        return list(map(Assignment, lab, self.kinds(), tgt, score, dist, self.stages(), codes))

    @classmethod
    def of(cls, assignments: Sequence[Assignment]) -> AssignmentColumns:
        """The columns of assignments held as objects."""
        explained = any(a.codes for a in assignments)
        return cls(
            np.array([a.laborer_id for a in assignments], np.int64),
            np.array([KIND_CODE[a.kind] for a in assignments], np.int8),
            np.array([a.target_id for a in assignments], np.int64),
            np.array([a.score for a in assignments], float),
            np.array([a.distance_km for a in assignments], float),
            np.array([a.stage == "welfare" for a in assignments], bool),
            [a.codes for a in assignments] if explained else None,
        )


STAGE_NAMES = ("jobs", "welfare")
"""Stage names by ``AssignmentColumns.welfare``."""


@dataclass(frozen=True)
class PlanResult:
    """The assignments of a plan (as columns; as objects when first read) and its report."""

    columns: AssignmentColumns
    report: Report

    @cached_property
    def assignments(self) -> list[Assignment]:
        """One ``Assignment`` per row of ``columns``, built on first use."""
        return self.columns.objects()


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
    laborer_rank: np.ndarray | None = None  # per laborer row: the solver numbers laborers in this order
    quota_group: np.ndarray | None = None  # per edge: its cap's group node (-1: none); None: no caps
    quota_cap: np.ndarray | None = None  # per group node: how many of its edges may be chosen

    def __len__(self) -> int:
        return len(self.lab)


def present(rows: np.ndarray, size: int) -> np.ndarray:
    """The distinct values of ``rows`` (integers in ``range(size)``), ascending; linear, no sort."""
    seen = np.zeros(size, bool)
    seen[rows] = True
    return np.flatnonzero(seen)


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
    laborer_rank: np.ndarray | None = None,
) -> Graph:
    """Every eligible pair of a stage, found with batched radius queries and the vectorised rules.

    ``active`` limits the laborers considered (rows); ``capacity`` overrides targets' free slots;
    ``laborer_rank`` is the laborers' ``grid_rank``, when another graph of theirs has it already.
    Per kind, only laborers who pass the rules that look at them alone are searched
    (``rules.laborer_may_take``); ``near_pairs`` finds who lives within their limit of each
    target's nearest point, and ``rules.eligible`` judges every pair so found.
    """
    L, T = laborers, targets
    capacity = T.capacity if capacity is None else np.asarray(capacity, np.int64)
    active = np.ones(len(L), bool) if active is None else active
    household, has_work = household_numbers(L)
    labs, tgts, dists = [], [], []
    for kind in STAGES[stage]:
        rows = np.flatnonzero((T.kind == KIND_CODE[kind]) & (capacity > 0))
        who = np.flatnonzero(active & rules.laborer_may_take(L, kind, rematch=rematch))
        if len(rows) == 0 or len(who) == 0:
            continue
        limit_km = np.full(len(who), config.max_pickup_km) if kind == "batch" else L.max_commute_km[who]
        lab, tgt = near_pairs(L, who, limit_km, T, rows)
        # Distances are measured only for the pairs that pass every other rule.
        ok = rules.eligible(L, lab, T, tgt, None, config, rematch=rematch, capacity=capacity)
        lab, tgt = lab[ok], tgt[ok]
        dist = nearest_point_km(L, lab, T, tgt)
        ok = rules.within_reach(L, lab, T, tgt, dist, config)
        labs.append(lab[ok])
        tgts.append(tgt[ok])
        dists.append(dist[ok])
    lab = np.concatenate(labs) if labs else np.empty(0, np.int64)
    tgt = np.concatenate(tgts) if tgts else np.empty(0, np.int64)
    dist = np.concatenate(dists) if dists else np.empty(0, float)
    score = scoring.score_columns(L, lab, T, tgt, dist, config)
    bonus = scoring.bonus_columns(L.poverty[lab], L.ability[lab], T.kind[tgt], config, L.household_flagged[lab])
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
        laborer_rank=grid_rank(L.lat, L.lon) if laborer_rank is None else laborer_rank,
    )


MAX_RADIUS_BANDS = 6
"""Laborers are searched in at most this many bands of equal (or, beyond that, neighbouring) limits."""


def near_pairs(
    laborers: LaborerColumns,
    who: np.ndarray,
    limit_km: np.ndarray,
    targets: TargetColumns,
    rows: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """``(laborer row, target row)`` for laborers ``who`` and targets ``rows`` that may be within reach.

    A superset of the pairs with some target point within the laborer's limit (``limit_km``):
    laborers are searched in bands of limits (``radius_bands``), each with one dual KD-tree join
    (``geo.pairs_within_km``) between the band's distinct home positions and every target point, so
    the work is two trees per band and the pairs found, never a query per laborer. Where one query finds many
    homes (a wide radius, as for transport batches), a band is searched once per profile of
    ability and need for flexible hours, against the targets that suit it (``rules.suits``).
    Each pair appears once; ``rules.eligible`` and ``rules.within_reach`` have the last word.
    """
    point_row, point_lat, point_lon = targets.points
    wanted = np.zeros(len(targets), bool)
    wanted[rows] = True
    points = np.flatnonzero(wanted[point_row])
    profile = laborers.ability.astype(np.int64) * 2 + laborers.needs_flexible
    labs, tgts = [], []
    for band, radius_km in radius_bands(who, limit_km):
        groups = [(band, points)]
        if _homes_per_query(laborers, band, radius_km) >= SPLIT_HOMES_PER_QUERY:
            groups = []
            for code in present(profile[band], 2 * (ABILITY_RANK["full"] + 1)).tolist():
                row = point_row[points]
                fits = rules.suits(code // 2, bool(code % 2), targets.demand[row], targets.is_flexible[row])
                groups.append((band[profile[band] == code], points[fits]))
        for members, near in groups:
            if len(members) and len(near):
                lab, tgt = _pairs_near_points(laborers, members, targets, near, radius_km)
                labs.append(lab)
                tgts.append(tgt)
    if not labs:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    return np.concatenate(labs), np.concatenate(tgts)


SPLIT_HOMES_PER_QUERY = 500
"""A band is searched per profile when one query is expected to find about this many homes."""


def _homes_per_query(laborers: LaborerColumns, rows: np.ndarray, radius_km: float) -> float:
    """Homes one query of this radius finds, were the laborers' homes spread evenly over their extent."""
    lat, lon = laborers.lat[rows], laborers.lon[rows]
    if len(lat) == 0:
        return 0.0
    km_per_deg = np.pi * EARTH_RADIUS_KM / 180
    height = np.ptp(lat) * km_per_deg + 2 * radius_km
    width = np.ptp(lon) * km_per_deg * np.cos(np.radians(np.median(lat))) + 2 * radius_km
    share = min(1.0, np.pi * radius_km**2 / (height * width))
    position = laborers.positions[0]
    return len(present(position[rows], len(position))) * float(share)


def _pairs_near_points(
    laborers: LaborerColumns,
    members: np.ndarray,
    targets: TargetColumns,
    points: np.ndarray,
    radius_km: float,
) -> tuple[np.ndarray, np.ndarray]:
    """``(laborer row, target row)``, each once, for laborers living within about ``radius_km`` of a point."""
    position, pos_lat, pos_lon = laborers.positions
    point_row, point_lat, point_lon = targets.points
    at = position[members]
    order = np.argsort(at, kind="stable")
    members, at = members[order], at[order]
    homes, start, count = np.unique(at, return_index=True, return_counts=True)
    home, near = pairs_within_km(pos_lat[homes], pos_lon[homes], point_lat[points], point_lon[points], radius_km)
    tgt = point_row[points[near]]
    several = np.bincount(point_row[points], minlength=len(targets))[tgt] > 1
    if several.any():  # a home near several stops of one batch is paired with it once
        rows, local = _dense(tgt[several], len(targets))
        key = _distinct(local * len(homes) + home[several], len(rows) * len(homes))
        home = np.concatenate([home[~several], key % len(homes)])
        tgt = np.concatenate([tgt[~several], rows[key // len(homes)]])
    # Every laborer living at a home takes its pairs.
    n = count[home]
    return members[np.repeat(start[home], n) + _ranks_within(n)], np.repeat(tgt, n)


DISTINCT_BY_FLAGS_MAX = 1 << 26
"""``_distinct`` marks keys in a flag array up to this many possible keys (64 MiB), and sorts beyond."""


def _distinct(keys: np.ndarray, size: int) -> np.ndarray:
    """The distinct values of ``keys`` (integers in ``range(size)``), ascending: by flags (linear) when
    ``size`` is small enough, else by sorting."""
    if size <= DISTINCT_BY_FLAGS_MAX:
        return present(keys, size)
    return np.unique(keys)


def nearest_point_km(laborers: LaborerColumns, li: np.ndarray, targets: TargetColumns, ti: np.ndarray) -> np.ndarray:
    """Haversine km from each laborer's home to the nearest point of the paired target."""
    point_row, point_lat, point_lon = targets.points
    count = np.bincount(point_row, minlength=len(targets))
    first = np.cumsum(count) - count
    n = count[ti]
    if not (n == 1).all():  # one row per (pair, point), reduced to the nearest below
        li = np.repeat(li, n)
        p = np.repeat(first[ti], n) + _ranks_within(n)
    else:
        p = first[ti]
    lab_phi, pt_phi = np.radians(laborers.lat), np.radians(point_lat)
    dist = haversine_rad_km(
        lab_phi[li],
        np.radians(laborers.lon)[li],
        np.cos(lab_phi)[li],
        pt_phi[p],
        np.radians(point_lon)[p],
        np.cos(pt_phi)[p],
    )
    if (n == 1).all() or len(dist) == 0:
        return dist
    return np.minimum.reduceat(dist, np.cumsum(n) - n)


def radius_bands(who: np.ndarray, limit_km: np.ndarray) -> Iterator[tuple[np.ndarray, float]]:
    """Laborers grouped by search radius: ``(rows, radius)``, exact when there are few distinct limits."""
    values, band = np.unique(limit_km, return_inverse=True)
    band = band.ravel()
    if len(values) > MAX_RADIUS_BANDS:
        # Neighbouring limits share a band of about equal size, searched to its largest limit.
        count = np.bincount(band, minlength=len(values))
        group = np.minimum((np.cumsum(count) - count) * MAX_RADIUS_BANDS // len(who), MAX_RADIUS_BANDS - 1)
        band = group[band]
        radius = np.zeros(MAX_RADIUS_BANDS)
        np.maximum.at(radius, group, values)
        values = radius
    for b in present(band, len(values)).tolist():
        yield who[band == b], float(values[b])


def _ranks_within(counts: np.ndarray) -> np.ndarray:
    """0, 1, …, c-1 for each count c, concatenated."""
    ranks: np.ndarray = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
    return ranks


def grid_rank(lat: np.ndarray, lon: np.ndarray, cell_deg: float = 0.1) -> np.ndarray:
    """Each point's place in a walk over a grid of ``cell_deg`` cells (row by row, then by latitude).

    The solver numbers laborers in this order: neighbours in the graph become neighbours in
    memory, which makes the min-cost flow markedly faster than numbering them at random.
    """
    order = np.lexsort((lat, np.floor(lon / cell_deg), np.floor(lat / cell_deg)))
    rank = np.empty(len(order), np.int64)
    rank[order] = np.arange(len(order))
    return rank


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
    if len(graph) == 0:
        return
    if len(graph) <= max_arcs:  # one part holds everything: no need to find the components
        yield np.arange(len(graph))
        return
    n, label = component_labels(graph)
    order = np.argsort(label, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(np.bincount(label, minlength=n))])
    start = 0
    for c in range(1, n + 1):
        if bounds[c] - bounds[start] >= max_arcs or c == n:
            yield order[bounds[start] : bounds[c]]
            start = c


# -- optimal -----------------------------------------------------------------------------------


def _dense(rows: np.ndarray, size: int, rank: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The distinct values of ``rows`` (in ``rank`` order if given) and each row's place among them."""
    distinct = present(rows, size)
    if rank is not None:
        distinct = distinct[np.argsort(rank[distinct], kind="stable")]
    place = np.empty(size, np.int64)
    place[distinct] = np.arange(len(distinct))
    return distinct, place[rows]


def solve_part(graph: Graph, edges: np.ndarray, config: Config) -> tuple[np.ndarray, int]:
    """Exact optimum over some whole components: (chosen edge indices, objective units).

    Network: source → household → laborer (1) → target (weight) → sink (capacity), plus a free
    source → sink bypass so nobody has to be placed. A household without work is worth
    ``household_bonus`` for its first member placed (a concave reward: a first arc of capacity
    1 carries it, a second one the other members for free); in stage ``welfare`` the household
    arc has capacity 1 (one post per household). Households that need no node of their own
    (a single member, or, for jobs, a household already with work) are folded into their
    members' arcs from the source, and laborers are numbered in ``graph.laborer_rank`` order:
    neither changes the optimum, and both make the solver faster than on the textbook network.
    Caps of quotas (``graph.quota_group``) put a node between their edges and the target, whose
    arc to the target carries the cap (``matcher.quotas``); a graph without them has no such node.
    """
    if len(edges) == 0:
        return edges, 0
    lab_rows, lab = _dense(graph.lab[edges], graph.n_labs, graph.laborer_rank)
    tgt_rows, tgt = _dense(graph.tgt[edges], graph.n_targets)
    n_l, n_t = len(lab_rows), len(tgt_rows)
    household = graph.household[lab_rows]  # per laborer node
    members = np.bincount(household, minlength=graph.n_households)
    without_work = ~graph.household_has_work
    welfare = graph.stage == "welfare"
    grouped = (members > 1) if welfare else (members > 1) & without_work
    in_group = np.flatnonzero(grouped[household])
    alone = np.flatnonzero(~grouped[household])
    # Group nodes follow their first member's laborer node.
    first = np.full(graph.n_households, n_l, np.int64)
    np.minimum.at(first, household[in_group], in_group)
    groups, group_of = _dense(household[in_group], graph.n_households, first)
    n_g = len(groups)
    source, sink, g0 = 0, 1, 2
    l0 = g0 + n_g
    t0 = l0 + n_l
    bonus = household_bonus_units(config)
    rest = np.arange(0 if welfare else n_g)  # jobs: a group's other members, without the bonus
    tails = np.concatenate(
        [
            np.full(n_g + len(rest) + len(alone), source),
            g0 + group_of,
            l0 + lab,
            t0 + np.arange(n_t),
            [source],
        ]
    )
    heads = np.concatenate(
        [
            g0 + np.arange(n_g),
            g0 + rest,
            l0 + alone,
            l0 + in_group,
            t0 + tgt,
            np.full(n_t, sink),
            [sink],
        ]
    )
    caps = np.concatenate(
        [
            np.ones(n_g, np.int64),
            members[groups[rest]] - 1,
            np.ones(len(alone) + len(in_group) + len(edges), np.int64),
            graph.capacity[tgt_rows],
            [n_l],
        ]
    )
    costs = np.concatenate(
        [
            np.where(without_work[groups], -bonus, 0),
            np.zeros(len(rest), np.int64),
            np.where(without_work[household[alone]], -bonus, 0),
            np.zeros(len(in_group), np.int64),
            -graph.weight_units[edges],
            np.zeros(n_t + 1, np.int64),
        ]
    )
    n_nodes = t0 + n_t
    if graph.quota_group is not None:  # caps of quotas: their edges end at a cap node instead
        capped, capped_heads, cap_tails, cap_heads, cap_caps = _cap_nodes(graph, edges, tgt, t0, n_t)
        heads[n_g + len(rest) + len(alone) + len(in_group) + capped] = capped_heads
        tails = np.concatenate([tails, cap_tails])
        heads = np.concatenate([heads, cap_heads])
        caps = np.concatenate([caps, cap_caps])
        costs = np.concatenate([costs, np.zeros(len(cap_tails), np.int64)])
        n_nodes += len(cap_tails)
    flow = min_cost_flow.SimpleMinCostFlow()
    arcs = flow.add_arcs_with_capacity_and_unit_cost(
        tails.astype(np.int32), heads.astype(np.int32), caps.astype(np.int64), costs.astype(np.int64)
    )
    supplies = np.zeros(n_nodes, np.int64)
    supplies[source], supplies[sink] = n_l, -n_l
    flow.set_nodes_supplies(np.arange(n_nodes, dtype=np.int32), supplies)
    status = flow.solve()
    if status != flow.OPTIMAL:
        raise RuntimeError(f"min-cost flow failed with status {status}")
    first_edge_arc = n_g + len(rest) + len(alone) + len(in_group)
    chosen = flow.flows(arcs[first_edge_arc : first_edge_arc + len(edges)]) > 0
    return edges[chosen], -int(flow.optimal_cost())


def _cap_nodes(graph: Graph, edges: np.ndarray, tgt: np.ndarray, t0: int, n_t: int) -> tuple[np.ndarray, ...]:
    """The capped edges' new heads (one node per cap, after the target nodes) and the caps' arcs.

    Returns (positions among ``edges``, their heads, then tails, heads, capacities of the arcs
    from each cap node to its target).
    """
    assert graph.quota_group is not None and graph.quota_cap is not None
    group = graph.quota_group[edges]
    capped = np.flatnonzero(group >= 0)
    rows, node = _dense(group[capped], len(graph.quota_cap))
    q0 = t0 + n_t
    target_of = np.empty(len(rows), np.int64)
    target_of[node] = tgt[capped]
    return capped, q0 + node, q0 + np.arange(len(rows)), t0 + target_of, graph.quota_cap[rows]


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


def lexsort_ties(keys: Sequence[np.ndarray], leading: int) -> np.ndarray:
    """``np.lexsort(keys)`` (the last key first), sorting by the ``leading`` last keys and only ties by the rest.

    Ties on the leading keys are rare (two targets scoring the same for one laborer), so the
    full comparison runs on a few rows instead of all of them; the order is the same.
    """
    head = keys[-leading:]
    order = np.lexsort(head)
    if len(order) < 2:
        return order
    same = np.ones(len(order) - 1, bool)
    for key in head:
        sorted_key = key[order]
        same &= sorted_key[1:] == sorted_key[:-1]
    if not same.any():
        return order
    tied = np.zeros(len(order), bool)
    tied[1:] |= same
    tied[:-1] |= same
    at = np.flatnonzero(tied)
    rows = order[at]
    order[at] = rows[np.lexsort([key[rows] for key in keys])]
    return order


def laborer_preference_order(graph: Graph, targets: TargetColumns) -> np.ndarray:
    """Edges grouped by laborer, each laborer's best first (score, then distance, kind, id)."""
    return lexsort_ties(
        (targets.id[graph.tgt], targets.kind[graph.tgt], graph.distance_km, -graph.score, graph.lab),
        leading=2,
    )


def target_rank(graph: Graph, laborers: LaborerColumns, targets: TargetColumns, config: Config) -> np.ndarray:
    """Per edge, the laborer's place in its target's list (0 = most wanted): priority, score, order, id."""
    prio = scoring.priority_columns(
        laborers.poverty[graph.lab],
        laborers.ability[graph.lab],
        laborers.household_has_work[graph.lab],
        targets.kind[graph.tgt],
        config,
        laborers.household_flagged[graph.lab],
    )
    prio_units = np.rint(prio * config.score_scale)
    order = lexsort_ties(
        (laborers.id[graph.lab], laborers.order[graph.lab], -graph.score, -prio_units, graph.tgt),
        leading=3,
    )
    rank = np.empty(len(graph), np.int64)
    rank[order] = np.arange(len(graph))
    return rank


def _grouped(keys: np.ndarray, order: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    counts = np.bincount(keys[order], minlength=size)
    end = np.cumsum(counts)
    return end - counts, end


def deferred_acceptance(graph: Graph, edges: np.ndarray, pref_order: np.ndarray, rank: np.ndarray) -> np.ndarray:
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
    free = present(graph.lab[edges], graph.n_labs)[::-1].tolist()
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


def greedy_pick(graph: Graph, edges: np.ndarray, pref_order: np.ndarray, laborers: LaborerColumns) -> np.ndarray:
    """Laborers in registration order each take their best free target; one per household in stage welfare."""
    allowed = np.zeros(len(graph), bool)
    allowed[edges] = True
    pref = pref_order[allowed[pref_order]]
    start, end = _grouped(graph.lab, pref, graph.n_labs)
    who = present(graph.lab[edges], graph.n_labs)
    who = who[np.lexsort((laborers.id[who], laborers.order[who]))]
    free = graph.capacity.copy().tolist()
    # Plain lists: the loop below is inherently sequential, and list indexing is cheap.
    tgt_of_pref = graph.tgt[pref].tolist()
    pref_l, start_l, end_l = pref.tolist(), start.tolist(), end.tolist()
    household = graph.household.tolist()
    covered: set[int] = set()
    one_per_household = graph.stage == "welfare"
    chosen = []
    for lab in who.tolist():
        if one_per_household and household[lab] in covered:
            continue
        for i in range(start_l[lab], end_l[lab]):
            t = tgt_of_pref[i]
            if free[t] > 0:
                free[t] -= 1
                chosen.append(pref_l[i])
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
    labs = present(graph.lab, graph.n_labs)
    prio = scoring.priority_columns(
        laborers.poverty[labs],
        laborers.ability[labs],
        laborers.household_has_work[labs],
        np.full(len(labs), KIND_CODE["welfare_post"]),
        config,
        laborers.household_flagged[labs],
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
    households = present(graph.household[graph.lab[chosen]], graph.n_households)
    moved = int((~graph.household_has_work[households]).sum())
    return int(graph.weight_units[chosen].sum()) + household_bonus_units(config) * moved


def solve_stage(
    graph: Graph,
    mode: str,
    laborers: LaborerColumns,
    targets: TargetColumns,
    config: Config,
    quotas: Sequence[Quota] = (),
    found: Bounds | None = None,
) -> tuple[np.ndarray, int]:
    """Chosen edges of one stage in one mode, and the number of independent parts solved.

    ``found`` are the bound instances of ``quotas`` on this graph (``with_quotas``); caps the flow
    takes ride on the graph, anything else is solved as one integer program (``matcher.quotas``).
    """
    if mode == "optimal" and found is not None and quota_rules.needs_program(quotas, STAGES[graph.stage]):
        return np.sort(solve_program(graph, found, config)[0]), 1
    if mode == "optimal":
        chosen, _, n_parts = solve_optimal(graph, config)
        return np.sort(chosen), n_parts
    everything = np.arange(len(graph))
    pref = laborer_preference_order(graph, targets)
    if mode == "stable":
        # One post per household: each household proposes through its best-suited member.
        edges = welfare_representatives(graph, laborers, targets, config) if graph.stage == "welfare" else everything
        rank = target_rank(graph, laborers, targets, config)
        return deferred_acceptance(graph, edges, pref, rank), 0
    if mode == "greedy":  # one post per household is enforced while serving, as by hand
        return greedy_pick(graph, everything, pref, laborers), 0
    raise ValueError(f"unknown plan mode {mode!r}; expected one of {', '.join(MODES)}")


def with_quotas(
    graph: Graph, quotas: Sequence[Quota], laborers: LaborerColumns, targets: TargetColumns
) -> tuple[Graph, Bounds | None]:
    """A stage graph carrying its quotas' caps as group nodes when the flow can take them, and the
    quotas' bound instances on it (None: no quota on this stage)."""
    kinds = STAGES[graph.stage]
    if not quota_rules.stage_quotas(quotas, kinds):
        return graph, None
    found = quota_rules.bounds(quotas, kinds, graph.lab, graph.tgt, laborers, targets, graph.capacity)
    if not quota_rules.needs_program(quotas, kinds):
        group, cap = quota_rules.flow_groups(found, len(graph))
        graph = replace(graph, quota_group=group, quota_cap=cap)
    return graph, found


def solve_program(graph: Graph, found: Bounds, config: Config) -> tuple[np.ndarray, int]:
    """The stage's exact optimum under its quotas as an integer program: (chosen edges, objective units)."""
    return quota_rules.solve_program(
        graph.lab,
        graph.tgt,
        graph.weight_units,
        graph.household,
        graph.household_has_work,
        graph.capacity,
        graph.stage == "welfare",
        found,
        household_bonus_units(config),
    )


@dataclass(frozen=True)
class Prepared:
    """A plan's inputs as columns and its stage-1 (jobs) graph: what every mode starts from.

    The jobs graph does not depend on the mode, so one ``Prepared`` serves a plan and its greedy
    baseline; its parts (``job_parts``) can be solved apart (``solve_part``, on workers) and the
    plan finished from their chosen edges (``finish``), exactly as ``run`` does in one process.
    """

    laborers: LaborerColumns
    targets: TargetColumns
    jobs: Graph
    rematch: bool = False
    quotas: tuple[Quota, ...] = ()
    jobs_bounds: Bounds | None = None  # the quotas' bound instances on the jobs graph


def prepare(
    laborers: Sequence[Laborer] | Mapping[str, Sequence[Any]],
    targets: Sequence[Target],
    config: Config = DEFAULT_CONFIG,
    *,
    rematch: bool = False,
    quotas: Sequence[Quota | Mapping[str, Any]] = (),
) -> Prepared:
    """Columns of the inputs and the jobs candidate graph (``laborers`` may be columns, as a query gives them),
    with the plan's quotas (``matcher.quotas``) on it."""
    T = TargetColumns.from_targets(targets)
    if isinstance(laborers, Mapping):
        L = LaborerColumns.from_columns(laborers, T.skills, T.job_types)
    else:
        L = LaborerColumns.from_laborers(laborers, T.skills, T.job_types)
    return prepare_columns(L, T, config, rematch=rematch, quotas=quotas)


def prepare_columns(
    laborers: LaborerColumns,
    targets: TargetColumns,
    config: Config = DEFAULT_CONFIG,
    *,
    rematch: bool = False,
    quotas: Sequence[Quota | Mapping[str, Any]] = (),
) -> Prepared:
    """``prepare`` from inputs already encoded as columns (the laborers' against the targets' vocabularies)."""
    parsed = quota_rules.parse(quotas)
    jobs, found = with_quotas(
        candidate_graph(laborers, targets, "jobs", config, rematch=rematch), parsed, laborers, targets
    )
    return Prepared(laborers, targets, jobs, rematch, parsed, found)


def job_parts(prepared: Prepared, mode: str, config: Config) -> list[np.ndarray]:
    """The independent parts ``solve_stage`` solves stage jobs in, for a mode that has them (optimal).

    Their chosen edges, concatenated in this order and sorted, are the stage's chosen edges; an
    empty list means the mode solves the stage in one piece (stable, greedy, or quotas that need
    the integer program).
    """
    if mode != "optimal" or quota_rules.needs_program(prepared.quotas, JOB_KINDS):
        return []
    return list(parts(prepared.jobs, config.max_part_arcs))


def part_graph(graph: Graph, edges: np.ndarray) -> Graph:
    """The graph of ``edges`` alone, with every node array of ``graph``: what ``solve_part`` reads.

    ``solve_part(part_graph(g, e), np.arange(len(e)))`` chooses, as local indices into ``e``,
    exactly the edges ``solve_part(g, e)`` chooses (same network, same order).
    """
    empty = np.empty(0)
    return Graph(
        graph.stage,
        graph.lab[edges],
        graph.tgt[edges],
        empty,
        empty,
        graph.weight_units[edges],
        graph.household,
        graph.household_has_work,
        graph.capacity,
        graph.n_labs,
        graph.n_targets,
        graph.n_households,
        laborer_rank=graph.laborer_rank,
        quota_group=None if graph.quota_group is None else graph.quota_group[edges],
        quota_cap=graph.quota_cap,
    )


def run(
    laborers: Sequence[Laborer] | Mapping[str, Sequence[Any]],
    targets: Sequence[Target],
    mode: str,
    config: Config = DEFAULT_CONFIG,
    *,
    rematch: bool = False,
    explain: bool = True,
    quotas: Sequence[Quota | Mapping[str, Any]] = (),
) -> PlanResult:
    """Plan the two-stage ladder (jobs, then welfare posts for households still without work) in one mode.

    ``laborers`` may also be columns (``LaborerColumns.from_columns``), as a database query gives
    them. ``explain=False`` skips the per-assignment factor codes (faster for benchmarks).
    ``quotas`` (``matcher.quotas``; optimal only) may raise ``QuotaError`` naming one that cannot be met.
    """
    if mode not in MODES:
        raise ValueError(f"unknown plan mode {mode!r}; expected one of {', '.join(MODES)}")
    if quotas and mode != "optimal":
        raise ValueError(QUOTAS_NEED_OPTIMAL)
    prepared = prepare(laborers, targets, config, rematch=rematch, quotas=quotas)
    return run_prepared(prepared, mode, config, explain=explain)


QUOTAS_NEED_OPTIMAL = "quotas need the optimal mode"
"""Why greedy and stable plans take no quotas (``matcher.quotas``, *Modes*)."""


def run_prepared(prepared: Prepared, mode: str, config: Config = DEFAULT_CONFIG, *, explain: bool = True) -> PlanResult:
    """``run`` from prepared inputs (a plan and its baseline share one ``Prepared``)."""
    if mode not in MODES:
        raise ValueError(f"unknown plan mode {mode!r}; expected one of {', '.join(MODES)}")
    if prepared.quotas and mode != "optimal":  # the greedy baseline of a plan with quotas: today's practice
        prepared = replace(prepared, quotas=(), jobs=replace(prepared.jobs, quota_group=None, quota_cap=None))
    chosen_jobs, parts_jobs = solve_stage(
        prepared.jobs, mode, prepared.laborers, prepared.targets, config, prepared.quotas, prepared.jobs_bounds
    )
    return finish(prepared, mode, config, chosen_jobs, parts_jobs, explain=explain)


def finish(
    prepared: Prepared,
    mode: str,
    config: Config,
    chosen_jobs: np.ndarray,
    parts_jobs: int,
    *,
    explain: bool = True,
) -> PlanResult:
    """The plan from stage jobs' chosen edges (sorted) and its number of parts: stage welfare for the
    households still without work, the assignments (explained) and the report."""
    L, T, jobs, rematch = prepared.laborers, prepared.targets, prepared.jobs, prepared.rematch
    placed = np.zeros(len(L), bool)
    placed[jobs.lab[chosen_jobs]] = True
    household, has_work = household_numbers(L)
    has_work_now = has_work.copy()
    has_work_now[household[placed]] = True
    L2 = replace(L, household_has_work=has_work_now[household])
    welfare = candidate_graph(L2, T, "welfare", config, active=~placed, rematch=rematch, laborer_rank=jobs.laborer_rank)
    quotas = prepared.quotas if mode == "optimal" else ()
    welfare, welfare_bounds = with_quotas(welfare, quotas, L2, T)
    chosen_welfare, parts_welfare = solve_stage(welfare, mode, L2, T, config, quotas, welfare_bounds)

    columns = _assignment_columns((jobs, chosen_jobs, L), (welfare, chosen_welfare, L2), T, config, explain)
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
    if quotas:
        stages = [
            (found or Bounds(), chosen, len(graph))
            for found, chosen, graph in [
                (prepared.jobs_bounds, chosen_jobs, jobs),
                (welfare_bounds, chosen_welfare, welfare),
            ]
        ]
        report = replace(report, quotas=quota_rules.outcome(quotas, stages))
    return PlanResult(columns, report)


def _assignment_columns(
    jobs: tuple[Graph, np.ndarray, LaborerColumns],
    welfare: tuple[Graph, np.ndarray, LaborerColumns],
    T: TargetColumns,
    config: Config,
    explain: bool,
) -> AssignmentColumns:
    """The chosen edges of both stages (each with the laborers' columns it was built on), jobs first."""
    stages = (jobs, welfare)
    lab = [graph.lab[chosen] for graph, chosen, _ in stages]
    tgt = [graph.tgt[chosen] for graph, chosen, _ in stages]
    dist = [graph.distance_km[chosen] for graph, chosen, _ in stages]
    codes = None
    if explain:
        codes = [
            code
            for (_, _, L), li, ti, km in zip(stages, lab, tgt, dist, strict=True)
            for code in scoring.factor_code_columns(L, li, T, ti, km, config)
        ]
    labs, tgts = np.concatenate(lab), np.concatenate(tgt)
    return AssignmentColumns(
        jobs[2].id[labs],
        T.kind[tgts],
        T.id[tgts],
        np.concatenate([graph.score[chosen] for graph, chosen, _ in stages]),
        np.concatenate(dist),
        np.repeat([False, True], [len(lab[0]), len(lab[1])]),
        codes,
    )


def _report(
    mode: str,
    L: LaborerColumns,
    T: TargetColumns,
    jobs: Graph,
    chosen_jobs: np.ndarray,
    welfare: Graph,
    chosen_welfare: np.ndarray,
    units: Mapping[str, int],
    n_parts: int,
    config: Config,
) -> Report:
    labs = np.concatenate([jobs.lab[chosen_jobs], welfare.lab[chosen_welfare]])
    tgts = np.concatenate([jobs.tgt[chosen_jobs], welfare.tgt[chosen_welfare]])
    dist = np.concatenate([jobs.distance_km[chosen_jobs], welfare.distance_km[chosen_welfare]])
    score = np.concatenate([jobs.score[chosen_jobs], welfare.score[chosen_welfare]])
    household, has_work = household_numbers(L)
    moved = present(household[labs], len(has_work))
    poor = np.zeros(len(has_work), bool)
    poor[household] = L.poverty != POVERTY_CODE["non_poor"]
    objective_units = units["jobs"] + units["welfare"]
    return Report(
        mode=mode,
        laborers=len(L),
        placed=len(labs),
        placed_by_kind={kind: int((T.kind[tgts] == KIND_CODE[kind]).sum()) for kind in KINDS},
        households_without_work=int((~has_work).sum()),
        households_moved=int((~has_work[moved]).sum()),
        registered_poor_placed=int((L.poverty[labs] == POVERTY_CODE["registered_poor"]).sum()),
        poor_households_without_work=int((~has_work & poor).sum()),
        poor_households_moved=int((~has_work[moved] & poor[moved]).sum()),
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
        {f"placed_{kind}": (report.placed_by_kind[kind], greedy_report.placed_by_kind[kind]) for kind in KINDS}
    )
    return {name: {report.mode: a, "greedy": b, "difference": a - b} for name, (a, b) in figures.items()}
