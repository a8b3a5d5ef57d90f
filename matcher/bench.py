"""Benchmark figures for ``jiuye bench``: what users wait for, beside OR-tools called directly.

*What is timed.* A plan as the web layer runs it (``run_plan``): the mode with its explanations,
plus the ``greedy`` baseline every report compares against (``end_to_end``). Beside it, on the
very same instance encoded as columns (``Columns``, built once and timed by neither side, as the
database path loads a plan's inputs straight into columns): ``optimal`` alone without explanations
(``optimal_alone``: candidate graphs, both stages, report), and the same two stages solved by OR-tools called
directly (``direct_plan``): ``SimpleMinCostFlow`` fed numpy arrays through
``add_arcs_with_capacity_and_unit_cost`` on the textbook network (source → household →
laborer → target → sink, nodes numbered as they come), jobs first, then welfare posts for
the households its own first stage left without work. The direct solver is handed jiuye's
candidate pairs and weights for free (eligibility is jiuye's to decide), so the ratio
``optimal_alone / direct_plan`` charges jiuye for its candidate generation and the direct
call for nothing but building its network and solving.

*How.* Each measurement runs in a forked child of the process that holds the instance, so its
peak resident set (``ru_maxrss``) is that of one plan on top of the instance, not a high-water
mark left by earlier steps; the parent's objects are frozen out of the child's collector
(``gc.freeze``), as a server does with its app before forking workers. The ratio pair runs
alternately ``repeats`` times and the best of each is kept, since the machine may be shared.
Only figures are returned; printing is the CLI's.

*Between plans* (``online``): laborers arriving one at a time in random order, each taking their
top match, without and with the capacity prices of the hindsight ``optimal`` plan
(``matcher.online``), beside ``greedy``. *Learning* (``learning``): held-out AUC and Brier of the
learned model, the hand score and the true probability on outcomes with a known truth.
"""

from __future__ import annotations

import gc
import multiprocessing
import resource
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from ortools.graph.python import min_cost_flow

from matcher import learn, online, outcomes, plan
from matcher.arrays import LaborerColumns, TargetColumns
from matcher.rank import CandidateRanker, Ranker
from matcher.synthetic import SHANXI_POINTS, Instance, make_instance, shanxi_grid_centers
from matcher.types import DEFAULT_CONFIG, Config, Laborer, Target

SCALES: dict[str, dict[str, int]] = {
    "county": dict(n_laborers=5_000, n_workshops=40, n_enterprises=15, n_batches=20, n_welfare_posts=700),
    "province": dict(
        n_laborers=150_000,
        n_workshops=968,
        n_enterprises=410,
        n_batches=500,
        n_welfare_posts=20_000,
    ),
}
"""Instance sizes: a county (≈5,000 seeking laborers) and Shanxi as in DESIGN §7 and the README."""


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


@dataclass(frozen=True)
class Measured:
    """A child's result, its wall and CPU seconds, and its peak resident set in MiB."""

    value: Any
    seconds: float
    cpu_seconds: float
    peak_rss_mib: float


def measured(fn: Callable[..., Any], *args: Any) -> Measured:
    """Run ``fn(*args)`` in a forked child and measure it; the child's result must pickle."""
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)

    def child() -> None:
        try:
            started, cpu = time.perf_counter(), time.process_time()
            value = fn(*args)
            send.send((None, Measured(value, time.perf_counter() - started, time.process_time() - cpu, _rss_mib())))
        except BaseException:  # the parent re-raises it with the child's traceback
            send.send((traceback.format_exc(), None))

    process = context.Process(target=child)
    # The instance and everything the parent holds stay out of the child's collector (the use gc.freeze
    # documents before a fork): a full collection in the child would otherwise walk them, at about 0.1 s
    # each at province scale, and copy the pages it touches, in the time and the memory of the step measured.
    frozen_already = gc.get_freeze_count() > 0  # frozen by the caller: left as it was
    gc.freeze()
    try:
        process.start()
    finally:
        if not frozen_already:
            gc.unfreeze()
    error: str | None
    result: Measured
    error, result = receive.recv()
    process.join()
    if error is not None:
        raise RuntimeError(f"benchmark step failed in its child process:\n{error}")
    return result


# -- what users wait for -----------------------------------------------------------------------


def end_to_end(laborers: Sequence[Laborer], targets: Sequence[Target], mode: str, config: Config) -> dict[str, Any]:
    """A plan as ``run_plan`` computes it: the mode with explanations, and the greedy baseline."""
    result = plan.run(laborers, targets, mode, config)
    if mode != "greedy":
        plan.run(laborers, targets, "greedy", config, explain=False)
    return _quality(result.report)


def _quality(report: plan.Report) -> dict[str, Any]:
    return {
        "placed": report.placed,
        "placed_by_kind": report.placed_by_kind,
        "households_moved": report.households_moved,
        "registered_poor_placed": report.registered_poor_placed,
        "mean_commute_km": report.mean_commute_km,
        "p90_commute_km": report.p90_commute_km,
        "objective_units_by_stage": report.objective_units_by_stage,
    }


@dataclass(frozen=True)
class Columns:
    """An instance encoded as the matcher's columns: where both sides of the ratio start."""

    laborers: LaborerColumns
    targets: TargetColumns

    @classmethod
    def of(cls, inst: Instance) -> Columns:
        targets = TargetColumns.from_targets(inst.targets)
        return cls(LaborerColumns.from_laborers(inst.laborers, targets.skills, targets.job_types), targets)


def optimal_alone(columns: Columns, config: Config) -> dict[str, int]:
    """``optimal`` from columns with no explanations nor baseline: the same work as ``direct_plan``, and more
    (finding the candidates under the rules, which the direct call is handed)."""
    prepared = plan.prepare_columns(columns.laborers, columns.targets, config)
    return plan.run_prepared(prepared, "optimal", config, explain=False).report.objective_units_by_stage


# -- OR-tools called directly ------------------------------------------------------------------


def textbook_flow(
    lab: np.ndarray,
    tgt: np.ndarray,
    weight_units: np.ndarray,
    household: np.ndarray,
    household_has_work: np.ndarray,
    capacity: np.ndarray,
    *,
    one_per_household: bool,
    bonus_units: int,
) -> tuple[np.ndarray, int]:
    """Chosen edges and objective units of one stage, by OR-tools on the textbook network.

    Nodes: source, sink, then every household, laborer and target that has an edge, numbered in
    ascending order; arcs built with numpy and added in one call. A household without work
    earns ``bonus_units`` for its first member placed (at most one member if
    ``one_per_household``); a free source → sink arc lets anybody stay unplaced.
    """
    labs, li = np.unique(lab, return_inverse=True)
    tgts, ti = np.unique(tgt, return_inverse=True)
    households, hi = np.unique(household[labs], return_inverse=True)
    n_h, n_l, n_t = len(households), len(labs), len(tgts)
    h0, l0 = 2, 2 + n_h
    t0 = l0 + n_l
    members = np.bincount(hi, minlength=n_h)
    without_work = ~household_has_work[households]
    if one_per_household:
        first_cap, rest_cap = np.ones(n_h, np.int64), np.zeros(n_h, np.int64)
    else:
        first_cap = np.where(without_work, 1, members)
        rest_cap = np.where(without_work, members - 1, 0)
    has_rest = rest_cap > 0
    h_nodes = h0 + np.arange(n_h)
    n_source_arcs = n_h + int(has_rest.sum())
    tails = np.concatenate([np.zeros(n_source_arcs, np.int64), h0 + hi, l0 + li, t0 + np.arange(n_t), [0]])
    heads = np.concatenate([h_nodes, h_nodes[has_rest], l0 + np.arange(n_l), t0 + ti, np.ones(n_t, np.int64), [1]])
    caps = np.concatenate([first_cap, rest_cap[has_rest], np.ones(n_l + len(lab), np.int64), capacity[tgts], [n_l]])
    costs = np.concatenate(
        [
            np.where(without_work, -bonus_units, 0),
            np.zeros(n_source_arcs - n_h + n_l, np.int64),
            -weight_units,
            np.zeros(n_t + 1, np.int64),
        ]
    )
    flow = min_cost_flow.SimpleMinCostFlow()
    arcs = flow.add_arcs_with_capacity_and_unit_cost(
        tails.astype(np.int32), heads.astype(np.int32), caps.astype(np.int64), costs.astype(np.int64)
    )
    supplies = np.zeros(t0 + n_t, np.int64)
    supplies[0], supplies[1] = n_l, -n_l
    flow.set_nodes_supplies(np.arange(t0 + n_t, dtype=np.int32), supplies)
    if flow.solve() != flow.OPTIMAL:
        raise RuntimeError("OR-tools did not reach an optimum")
    first_edge = n_source_arcs + n_l
    chosen = np.flatnonzero(flow.flows(arcs[first_edge : first_edge + len(lab)]) > 0)
    return chosen, -int(flow.optimal_cost())


def direct_plan(jobs: plan.Graph, welfare_all: plan.Graph, config: Config) -> dict[str, int]:
    """Both stages by ``textbook_flow``: jobs, then posts for the households its jobs left without work.

    ``welfare_all`` holds the welfare candidates of every laborer; the second stage keeps those of
    laborers its own first stage left unplaced, in households still without work, exactly the
    graph jiuye builds for that placement.
    """
    bonus = plan.household_bonus_units(config)
    chosen, jobs_units = textbook_flow(
        jobs.lab,
        jobs.tgt,
        jobs.weight_units,
        jobs.household,
        jobs.household_has_work,
        jobs.capacity,
        one_per_household=False,
        bonus_units=bonus,
    )
    placed = np.zeros(jobs.n_labs, bool)
    placed[jobs.lab[chosen]] = True
    has_work = jobs.household_has_work.copy()
    has_work[jobs.household[placed]] = True
    w = welfare_all
    keep = ~placed[w.lab] & ~has_work[w.household[w.lab]]
    _, welfare_units = textbook_flow(
        w.lab[keep],
        w.tgt[keep],
        w.weight_units[keep],
        w.household,
        has_work,
        w.capacity,
        one_per_household=True,
        bonus_units=bonus,
    )
    return {"jobs": jobs_units, "welfare": welfare_units}


def stage_graphs(columns: Columns, config: Config) -> tuple[plan.Graph, plan.Graph]:
    """The jobs graph and the welfare candidates of every laborer, as handed to ``direct_plan``."""
    L, T = columns.laborers, columns.targets
    return plan.candidate_graph(L, T, "jobs", config), plan.candidate_graph(L, T, "welfare", config)


def _direct_timed(columns: Columns, config: Config) -> tuple[dict[str, int], float, float]:
    jobs, welfare_all = stage_graphs(columns, config)  # jiuye's work, not the direct call's
    started, cpu = time.perf_counter(), time.process_time()
    units = direct_plan(jobs, welfare_all, config)
    return units, time.perf_counter() - started, time.process_time() - cpu


def jiuye_solver(columns: Columns, config: Config) -> tuple[float, float]:
    """Wall and CPU seconds of jiuye's own solver on both stages, candidate graphs given."""
    L, T = columns.laborers, columns.targets
    jobs = plan.candidate_graph(L, T, "jobs", config)
    started, cpu = time.perf_counter(), time.process_time()
    chosen, _ = plan.solve_stage(jobs, "optimal", L, T, config)
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu
    placed = np.zeros(len(L), bool)
    placed[jobs.lab[chosen]] = True
    household, has_work = plan.household_numbers(L)
    has_work[household[placed]] = True
    L2 = replace(L, household_has_work=has_work[household])
    welfare = plan.candidate_graph(L2, T, "welfare", config, active=~placed)
    started, cpu = time.perf_counter(), time.process_time()
    plan.solve_stage(welfare, "optimal", L2, T, config)
    return seconds + time.perf_counter() - started, cpu_seconds + time.process_time() - cpu


# -- the instance and ranking ------------------------------------------------------------------


def bench_instance(scale: str, random_state: int = 0, centers: list[tuple[float, float]] | None = None) -> Instance:
    """The instance of a scale; ``centers`` default to Daning (county) or 117 synthetic Shanxi seats."""
    if centers is None:
        centers = [SHANXI_POINTS[5]] if scale == "county" else shanxi_grid_centers(117, random_state)
    return make_instance(**SCALES[scale], centers=centers, random_state=random_state)


def instance_sizes(inst: Instance, jobs: plan.Graph, welfare_all: plan.Graph) -> dict[str, int]:
    """What the instance holds: laborers, households, slots per kind, employers and candidate arcs."""

    def total(kind: str) -> int:
        return sum(t.capacity for t in inst.targets if t.kind == kind)

    def count(kind: str) -> int:
        return sum(1 for t in inst.targets if t.kind == kind)

    openings = [t for t in inst.targets if t.kind == "opening"]
    workshops = {t.employer_id for t in openings if t.title.startswith("workshop")}
    return {
        "laborers": len(inst.laborers),
        "households": len({p.household_id for p in inst.laborers}),
        "workshops": len(workshops),
        "enterprises": len({t.employer_id for t in openings}) - len(workshops),
        "openings": len(openings),
        "opening_slots": total("opening"),
        "batches": count("batch"),
        "batch_seats": total("batch"),
        "pickup_points": sum(len(t.points) for t in inst.targets if t.kind == "batch"),
        "welfare_posts": count("welfare_post"),
        "welfare_post_slots": total("welfare_post"),
        "jobs_arcs": len(jobs),
        "welfare_arcs_all_laborers": len(welfare_all),
    }


def rank_latency(inst: Instance, config: Config, samples: int, random_state: int) -> dict[str, float]:
    """p50/p99 ms of ranking one laborer's targets and one posting's candidates, with build seconds."""
    rng = np.random.default_rng(random_state)
    started = time.perf_counter()
    ranker = Ranker(inst.targets, config)
    ranker_build = time.perf_counter() - started
    sample = rng.choice(len(inst.laborers), min(samples, len(inst.laborers)), replace=False)
    ranker.for_laborer(inst.laborers[int(sample[0])])  # warm caches
    laborer_ms = []
    for i in sample.tolist():
        t0 = time.perf_counter()
        ranker.for_laborer(inst.laborers[i], k=10, ineligible=5)
        laborer_ms.append((time.perf_counter() - t0) * 1e3)
    started = time.perf_counter()
    candidates = CandidateRanker(inst.laborers, config)
    candidates_build = time.perf_counter() - started
    picks = rng.choice(len(inst.targets), min(200, len(inst.targets)), replace=False)
    target_ms = []
    for i in picks.tolist():
        t0 = time.perf_counter()
        candidates.for_target(inst.targets[i], k=10)
        target_ms.append((time.perf_counter() - t0) * 1e3)
    return {
        "laborer_p50_ms": float(np.percentile(laborer_ms, 50)),
        "laborer_p99_ms": float(np.percentile(laborer_ms, 99)),
        "laborer_samples": len(laborer_ms),
        "ranker_build_seconds": ranker_build,
        "candidates_p50_ms": float(np.percentile(target_ms, 50)),
        "candidates_p99_ms": float(np.percentile(target_ms, 99)),
        "candidates_samples": len(target_ms),
        "candidates_build_seconds": candidates_build,
    }


# -- the whole benchmark -----------------------------------------------------------------------


def run_bench(
    scale: str = "county",
    random_state: int = 0,
    *,
    centers: list[tuple[float, float]] | None = None,
    config: Config = DEFAULT_CONFIG,
    rank_samples: int = 1_000,
    modes: tuple[str, ...] = plan.MODES,
    repeats: int = 2,
    online_orders: int = 3,
) -> dict[str, Any]:
    """Every figure of one scale (see the module docstring): a dict of plain values."""
    started = time.perf_counter()
    inst = bench_instance(scale, random_state, centers)
    out: dict[str, Any] = {
        "scale": scale,
        "instance_seconds": time.perf_counter() - started,
        "centers": len(inst.centers),
        "instance_rss_mib": _rss_mib(),
    }
    columns = Columns.of(inst)
    sizes = measured(lambda: instance_sizes(inst, *stage_graphs(columns, config)))
    out["sizes"] = sizes.value
    out["plans"] = {}
    for mode in modes:
        run = measured(end_to_end, inst.laborers, inst.targets, mode, config)
        out["plans"][mode] = {
            "seconds": run.seconds,
            "cpu_seconds": run.cpu_seconds,
            "peak_rss_mib": run.peak_rss_mib,
            **run.value,
        }
    alone, direct, solver = [], [], []
    for _ in range(repeats):  # alternate, so that both see the same share of a shared machine
        alone.append(measured(optimal_alone, columns, config))
        direct.append(measured(_direct_timed, columns, config))
        solver.append(measured(jiuye_solver, columns, config))
    best_alone = min(alone, key=lambda m: m.seconds)
    best_direct = min(direct, key=lambda m: m.value[1])
    best_solver = min(solver, key=lambda m: m.value[0])
    direct_units, direct_seconds, direct_cpu = best_direct.value
    out["optimal_alone"] = {
        "seconds": best_alone.seconds,
        "cpu_seconds": best_alone.cpu_seconds,
        "peak_rss_mib": best_alone.peak_rss_mib,
        "objective_units_by_stage": best_alone.value,
    }
    out["direct"] = {
        "seconds": direct_seconds,
        "cpu_seconds": direct_cpu,
        "objective_units_by_stage": direct_units,
        "solver": "OR-tools SimpleMinCostFlow, textbook network via add_arcs_with_capacity_and_unit_cost",
    }
    out["jiuye_solver"] = {"seconds": best_solver.value[0], "cpu_seconds": best_solver.value[1]}
    out["ratio"] = best_alone.seconds / direct_seconds
    out["ratio_cpu"] = best_alone.cpu_seconds / direct_cpu
    out["repeats"] = repeats
    out["jobs_objective_equal"] = best_alone.value["jobs"] == direct_units["jobs"]
    out["rank"] = rank_latency(inst, config, rank_samples, random_state)
    started = time.perf_counter()
    prepared = plan.prepare(inst.laborers, inst.targets, config)
    out["online"] = online.compare(prepared, config, orders=online_orders, random_state=random_state)
    out["online"]["seconds"] = time.perf_counter() - started
    return out


def learning(n_placements: int = 6_000, random_state: int = 0) -> learn.Evaluation:
    """The learned model, the hand score and the truth on outcomes drawn from a known truth (matcher.outcomes)."""
    X, hand, truth, lasted = outcomes.generated_placements(n_placements, random_state)
    return learn.evaluate(X, hand, lasted, truth, random_state=random_state)
