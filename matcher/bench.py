"""Benchmark figures for ``jiuye bench``: ranking latency, plan time, memory and quality per mode.

``run_bench`` only measures and returns rows (dicts); printing is the CLI's job. Memory is the
process's peak resident set size (``resource.getrusage(...).ru_maxrss``, a high-water mark that
includes the instance in memory and every earlier step, so each mode's figure is an upper bound
for that mode; modes run greedy → stable → optimal to keep the bound tight for the cheap ones).
"""

from __future__ import annotations

import resource
import time

import numpy as np
from ortools.graph.python import min_cost_flow

from matcher import plan
from matcher.arrays import LaborerColumns, TargetColumns
from matcher.rank import CandidateRanker, Ranker
from matcher.synthetic import SHANXI_POINTS, make_instance, shanxi_grid_centers
from matcher.types import DEFAULT_CONFIG, Config

SCALES: dict[str, dict[str, int]] = {
    "county": dict(
        n_laborers=5_000, n_workshops=40, n_enterprises=15, n_batches=20, n_welfare_posts=700
    ),
    "province": dict(
        n_laborers=150_000,
        n_workshops=968,
        n_enterprises=410,
        n_batches=500,
        n_welfare_posts=20_000,
    ),
}
"""Instance sizes: a county (≈5,000 seeking laborers) and Shanxi as in DESIGN §7."""


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def independent_optimum(graph: plan.Graph, config: Config) -> int:
    """Stage optimum by one OR-tools min-cost flow over the whole graph, built pair by pair without components."""
    bonus = round(config.household_bonus * config.score_scale)
    flow = min_cost_flow.SimpleMinCostFlow()
    source, sink = 0, 1
    node: dict[tuple[str, int], int] = {}

    def _node(kind: str, key: int) -> int:
        return node.setdefault((kind, key), len(node) + 2)

    members: dict[int, set[int]] = {}
    for lab in set(graph.lab.tolist()):
        members.setdefault(int(graph.household[lab]), set()).add(lab)
    for household, labs in members.items():
        h = _node("household", household)
        if graph.stage == "welfare":
            flow.add_arc_with_capacity_and_unit_cost(source, h, 1, -bonus)
        elif graph.household_has_work[household]:
            flow.add_arc_with_capacity_and_unit_cost(source, h, len(labs), 0)
        else:
            flow.add_arc_with_capacity_and_unit_cost(source, h, 1, -bonus)
            flow.add_arc_with_capacity_and_unit_cost(source, h, len(labs) - 1, 0)
        for lab in labs:
            flow.add_arc_with_capacity_and_unit_cost(h, _node("laborer", lab), 1, 0)
    for lab, tgt, weight in zip(
        graph.lab.tolist(), graph.tgt.tolist(), graph.weight_units.tolist(), strict=True
    ):
        flow.add_arc_with_capacity_and_unit_cost(
            _node("laborer", lab), _node("target", tgt), 1, -weight
        )
    for tgt in set(graph.tgt.tolist()):
        flow.add_arc_with_capacity_and_unit_cost(
            _node("target", tgt), sink, int(graph.capacity[tgt]), 0
        )
    n_labs = sum(len(v) for v in members.values())
    flow.add_arc_with_capacity_and_unit_cost(source, sink, n_labs, 0)
    flow.set_node_supply(source, n_labs)
    flow.set_node_supply(sink, -n_labs)
    if flow.solve() != flow.OPTIMAL:
        raise RuntimeError("independent min-cost flow did not reach an optimum")
    return -flow.optimal_cost()


def run_bench(
    scale: str = "county",
    random_state: int = 0,
    *,
    centers: list[tuple[float, float]] | None = None,
    config: Config = DEFAULT_CONFIG,
    rank_samples: int = 1_000,
    modes: tuple[str, ...] = ("greedy", "stable", "optimal"),
) -> list[dict]:
    """Measure one scale; ``centers`` default to Daning (county) or 117 synthetic Shanxi seats (province)."""
    sizes = SCALES[scale]
    if centers is None:
        centers = (
            [SHANXI_POINTS[5]] if scale == "county" else shanxi_grid_centers(117, random_state)
        )
    rows: list[dict] = []

    def _row(name: str, **fields) -> None:
        rows.append({"scale": scale, "name": name, **fields})

    started = time.perf_counter()
    inst = make_instance(**sizes, centers=centers, random_state=random_state)
    slots = {
        k: sum(t.capacity for t in inst.targets if t.kind == k)
        for k in ("opening", "batch", "welfare_post")
    }
    _row(
        "instance",
        seconds=time.perf_counter() - started,
        laborers=len(inst.laborers),
        targets=len(inst.targets),
        slots=slots,
        centers=len(centers),
    )

    started = time.perf_counter()
    ranker = Ranker(inst.targets, config)
    _row("ranker_build", seconds=time.perf_counter() - started)
    rng = np.random.default_rng(random_state)
    sample = rng.choice(len(inst.laborers), min(rank_samples, len(inst.laborers)), replace=False)
    ranker.for_laborer(inst.laborers[int(sample[0])])  # warm caches
    latencies = []
    for i in sample.tolist():
        t0 = time.perf_counter()
        ranker.for_laborer(inst.laborers[i], k=10, ineligible=5)
        latencies.append(time.perf_counter() - t0)
    ms = np.array(latencies) * 1e3
    _row(
        "rank_laborer",
        p50_ms=float(np.percentile(ms, 50)),
        p99_ms=float(np.percentile(ms, 99)),
        samples=len(ms),
    )

    started = time.perf_counter()
    candidates = CandidateRanker(inst.laborers, config)
    build_s = time.perf_counter() - started
    picks = rng.choice(len(inst.targets), min(200, len(inst.targets)), replace=False)
    latencies = []
    for i in picks.tolist():
        t0 = time.perf_counter()
        candidates.for_target(inst.targets[i], k=10)
        latencies.append(time.perf_counter() - t0)
    ms = np.array(latencies) * 1e3
    _row(
        "rank_target",
        build_seconds=build_s,
        p50_ms=float(np.percentile(ms, 50)),
        p99_ms=float(np.percentile(ms, 99)),
        samples=len(ms),
    )

    reports = {}
    for mode in modes:
        rss_before = _rss_mib()
        t0 = time.perf_counter()
        result = plan.run(inst.laborers, inst.targets, mode, config, explain=False)
        seconds = time.perf_counter() - t0
        report = result.report
        reports[mode] = report
        _row(
            "plan",
            mode=mode,
            seconds=seconds,
            peak_rss_mib=_rss_mib(),
            rss_before_mib=rss_before,
            memory_method="ru_maxrss high-water mark (whole process)",
            placed=report.placed,
            placed_by_kind=report.placed_by_kind,
            households_without_work=report.households_without_work,
            households_moved=report.households_moved,
            registered_poor_placed=report.registered_poor_placed,
            mean_commute_km=report.mean_commute_km,
            p90_commute_km=report.p90_commute_km,
            mean_score=report.mean_score,
            objective=report.objective,
            objective_jobs=report.objective_units_by_stage["jobs"] / config.score_scale,
            objective_welfare=report.objective_units_by_stage["welfare"] / config.score_scale,
            components=report.components,
        )
    if "optimal" in reports and "greedy" in reports:
        _row("compare", table=plan.compare(reports["optimal"], reports["greedy"]))

    if "optimal" in reports:
        T = TargetColumns.from_targets(inst.targets)
        L = LaborerColumns.from_laborers(inst.laborers, T.skills, T.job_types)
        graph = plan.candidate_graph(L, T, "jobs", config)
        t0 = time.perf_counter()
        units = independent_optimum(graph, config)
        _row(
            "independent_solver",
            solver="OR-tools SimpleMinCostFlow, whole jobs graph, no components",
            seconds=time.perf_counter() - t0,
            arcs=len(graph),
            objective_jobs=units / config.score_scale,
            equals_optimal=units == reports["optimal"].objective_units_by_stage["jobs"],
        )
    return rows
