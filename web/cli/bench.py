"""`jiuye bench`: time plans as users wait for them, beside OR-tools called directly, and print one table.

Every figure comes from ``matcher.bench.run_bench`` on synthetic instances built in memory
(positions around Shanxi's county seats from the gazetteer). The table has one row per figure,
the target it is held to, and one column per scale, ready to paste into the README.
``database_figures`` is where the database path (``--db``) plugs in.
"""

from __future__ import annotations

from collections.abc import Callable

import click

Row = tuple[str, str]  # (figure, target)

TARGETS: dict[str, str] = {
    "rank one laborer, p50 / p99": "≤ 2 ms p50",
    "optimal alone / OR-tools direct (best of repeats)": "≤ 1.0",
    "plan `optimal` end to end": "≤ 60 s, ≤ 4 GiB",
}
"""The bar each figure is held to, where DESIGN §7 or issue 12 sets one."""


def _n(value: float) -> str:
    return f"{value:,.0f}"


def _s(seconds: float) -> str:
    return f"{seconds:.2f} s" if seconds < 100 else f"{seconds:.0f} s"


def _mib(mib: float) -> str:
    return f"{mib:,.0f} MiB"


def memory_figures(result: dict) -> dict[str, str]:
    """The figures of one in-memory ``run_bench`` result, as table cells keyed by figure."""
    sizes, rank, plans = result["sizes"], result["rank"], result["plans"]
    cells = {
        "laborers seeking (households)": f"{_n(sizes['laborers'])} ({_n(sizes['households'])})",
        "workshops + enterprises: openings, slots": (
            f"{_n(sizes['workshops'])} + {_n(sizes['enterprises'])}: {_n(sizes['openings'])} openings, "
            f"{_n(sizes['opening_slots'])} slots"
        ),
        "transport batches: seats (pickup points)": (
            f"{_n(sizes['batches'])}: {_n(sizes['batch_seats'])} seats ({_n(sizes['pickup_points'])})"
        ),
        "welfare posts (slots)": f"{_n(sizes['welfare_posts'])} ({_n(sizes['welfare_post_slots'])})",
        "candidate arcs: jobs / welfare (all laborers)": (
            f"{_n(sizes['jobs_arcs'])} / {_n(sizes['welfare_arcs_all_laborers'])}"
        ),
        "rank one laborer, p50 / p99": f"{rank['laborer_p50_ms']:.2f} / {rank['laborer_p99_ms']:.2f} ms",
        "candidates for one posting, p50 / p99": (
            f"{rank['candidates_p50_ms']:.2f} / {rank['candidates_p99_ms']:.2f} ms"
        ),
    }
    for mode, figures in plans.items():
        what = "plan + explanations" if mode == "greedy" else "plan + explanations + greedy baseline"
        cells[f"plan `{mode}` end to end"] = (
            f"{_s(figures['seconds'])} (CPU {_s(figures['cpu_seconds'])}), peak {_mib(figures['peak_rss_mib'])}"
            f" [{what}]"
        )
    alone, direct, solver = result["optimal_alone"], result["direct"], result["jiuye_solver"]
    units = alone["objective_units_by_stage"]
    cells["`optimal` alone: candidates + both stages, no explanations"] = (
        f"{_s(alone['seconds'])} (CPU {_s(alone['cpu_seconds'])}), peak {_mib(alone['peak_rss_mib'])}"
    )
    cells["OR-tools direct: network + both stages, vectorised"] = (
        f"{_s(direct['seconds'])} (CPU {_s(direct['cpu_seconds'])})"
    )
    cells["optimal alone / OR-tools direct (best of repeats)"] = (
        f"{result['ratio']:.2f} (CPU {result['ratio_cpu']:.2f}), best of {result['repeats']}"
    )
    cells["of which jiuye's solver: network + both stages"] = (
        f"{_s(solver['seconds'])} (CPU {_s(solver['cpu_seconds'])})"
    )
    cells["objective units jobs / welfare: optimal vs direct"] = (
        f"{_n(units['jobs'])} / {_n(units['welfare'])} vs "
        f"{_n(direct['objective_units_by_stage']['jobs'])} / {_n(direct['objective_units_by_stage']['welfare'])}"
        + (" (jobs equal)" if result["jobs_objective_equal"] else " (JOBS DIFFER)")
    )
    order = [m for m in ("optimal", "greedy", "stable") if m in plans]
    if order:
        names = " / ".join(order)

        def each(show: Callable[[dict], str]) -> str:
            return " / ".join(show(plans[m]) for m in order)

        cells[f"placed: {names} (opening, batch, post)"] = each(
            lambda f: f"{_n(f['placed'])} ({', '.join(_n(v) for v in f['placed_by_kind'].values())})"
        )
        cells[f"households moved out of without-work: {names}"] = each(lambda f: _n(f["households_moved"]))
        cells[f"registered-poor placed: {names}"] = each(lambda f: _n(f["registered_poor_placed"]))
        cells[f"mean / p90 commute km: {names}"] = each(
            lambda f: f"{f['mean_commute_km']:.2f} / {f['p90_commute_km']:.1f}"
        )
    return cells


def database_figures(scale: str) -> dict[str, str]:
    """Hook for `jiuye bench --db`: figures of the real path on a seeded database, as table cells.

    To be filled by the database benchmark (seeding, plan end to end, matches and candidates
    through the service layer); its cells join the same table under their own figure names.
    """
    raise NotImplementedError("the database benchmark (jiuye bench --db) is not written yet")


def print_table(columns: dict[str, dict[str, str]]) -> None:
    """Print figures as one Markdown table: figure, target, then one column per scale."""
    scales = list(columns)
    figures: list[str] = []
    for cells in columns.values():
        figures += [f for f in cells if f not in figures]
    click.echo("| figure | target | " + " | ".join(scales) + " |")
    click.echo("|---|---|" + "---|" * len(scales))
    for figure in figures:
        row = [columns[s].get(figure, "") for s in scales]
        click.echo(f"| {figure} | {TARGETS.get(figure, '')} | " + " | ".join(row) + " |")


@click.command("bench")
@click.option("--scale", "scales", multiple=True, type=click.Choice(["county", "province"]),
              help="Repeat for several; default: county then province.")
@click.option("--random-seed", default=0, show_default=True, type=int)
@click.option("--mode", "modes", multiple=True, type=click.Choice(["greedy", "stable", "optimal"]),
              help="Plan modes to time end to end (default: all three).")
@click.option("--repeats", default=2, show_default=True, type=click.IntRange(1, 10),
              help="Alternating runs of optimal and OR-tools direct; the best of each is kept.")
def bench(scales: tuple[str, ...], random_seed: int, modes: tuple[str, ...], repeats: int) -> None:
    """Plans end to end, OR-tools called directly on the same instance, ranking latency and quality."""
    from matcher.bench import run_bench
    from seed.gazetteer import load_shanxi

    regions = load_shanxi()
    seats = [(r.lat, r.lon) for r in regions if r.level == "county" and r.lat is not None]
    daning = [(r.lat, r.lon) for r in regions if r.code == "141030"]
    columns: dict[str, dict[str, str]] = {}
    for scale in scales or ("county", "province"):
        click.echo(f"running {scale} scale …", err=True)
        centers = daning if scale == "county" else seats
        result = run_bench(scale, random_seed, centers=centers, modes=modes or ("greedy", "stable", "optimal"),
                           repeats=repeats)
        columns[scale] = memory_figures(result)
    print_table(columns)
