"""`jiuye bench`: time plans as users wait for them, beside OR-tools called directly, and print one table.

Every figure comes from ``matcher.bench.run_bench`` on synthetic instances built in memory
(positions around Shanxi's county seats from the gazetteer). The table has one row per figure,
the target it is held to, and one column per scale, ready to paste into the README.
With ``--db`` it measures the real path on the configured database instead (``web.bench_db``), and
with ``--http`` the request over HTTP beside a Flask hello-world (``web.bench_http``).
"""

from __future__ import annotations

from collections.abc import Callable

import click

Row = tuple[str, str]  # (figure, target)

TARGETS: dict[str, str] = {
    "rank one laborer, p50 / p99": "≤ 2 ms p50",
    "optimal alone / OR-tools direct (best of repeats)": "≤ 1.0",
    "plan `optimal` end to end": "≤ 60 s, ≤ 4 GiB",
    "between plans: one at a time, top match net of prices": "≥ 95 % of hindsight",
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
    if "online" in result:
        o = result["online"]

        def moved(name: str) -> str:
            return f"{_n(o[name])} ({o[name + '_pct']:.1f} %)"

        runs = f"mean of {o['orders']:.0f} random orders"
        cells["between plans: households moved, hindsight `optimal`"] = _n(o["hindsight_optimal"])
        cells["between plans: `greedy` (registration order)"] = moved("greedy")
        cells["between plans: one at a time, top match, no prices"] = f"{moved('online_without_prices')}, {runs}"
        cells["between plans: one at a time, top match with prices (as ranked: held-for-others passed over)"] = (
            f"{moved('online_with_prices')}, {runs}"
        )
        cells["between plans: ablation, ordered net of prices but nothing passed over"] = (
            f"{moved('online_net_of_prices')}, {runs}"
        )
    return cells


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
@click.option(
    "--scale",
    "scales",
    multiple=True,
    type=click.Choice(["county", "province"]),
    help="Repeat for several; default: county then province.",
)
@click.option("--random-seed", default=0, show_default=True, type=int)
@click.option(
    "--mode",
    "modes",
    multiple=True,
    type=click.Choice(["greedy", "stable", "optimal"]),
    help="Plan modes to time end to end (default: all three; with --db: optimal).",
)
@click.option(
    "--repeats",
    default=2,
    show_default=True,
    type=click.IntRange(1, 10),
    help="Alternating runs of optimal and OR-tools direct; the best of each is kept.",
)
@click.option(
    "--db",
    "on_db",
    is_flag=True,
    help="Measure the real path on the configured, already seeded database instead (web.bench_db).",
)
@click.option("--region", "region_code", default="14", show_default=True, help="With --db: the plan's region.")
@click.option(
    "--samples", default=500, show_default=True, type=int, help="With --db: laborers ranked (and 2/5 as many postings)."
)
@click.option("--no-plan", is_flag=True, help="With --db: skip the plan, time requests only.")
@click.option(
    "--http",
    "over_http",
    is_flag=True,
    help="Matches over HTTP (gunicorn, wrk on 127.0.0.1) beside a Flask hello-world (web.bench_http).",
)
@click.option(
    "--rq",
    "on_workers",
    is_flag=True,
    help="Per-county plans of --region on 1…--workers RQ workers, on the configured seeded database and Redis "
    "(web.bench_workers): wall time, speed-up, identical results.",
)
@click.option(
    "--workers", default=2, show_default=True, type=int, help="With --http: server processes; --rq: up to this many."
)
@click.option(
    "--threads", default=1, show_default=True, type=int, help="With --http: threads per process (as `jiuye serve`)."
)
@click.option("--connections", multiple=True, type=int, help="With --http: wrk connections (default 16 and 32).")
@click.option("--seconds", default=20, show_default=True, type=int, help="With --http: per wrk run.")
def bench(
    scales: tuple[str, ...],
    random_seed: int,
    modes: tuple[str, ...],
    repeats: int,
    on_db: bool,
    region_code: str,
    samples: int,
    no_plan: bool,
    over_http: bool,
    on_workers: bool,
    workers: int,
    threads: int,
    connections: tuple[int, ...],
    seconds: int,
) -> None:
    """Plans end to end, OR-tools called directly on the same instance, ranking latency and quality;
    with --db the real path on the seeded database, with --http the request over HTTP, with --rq plans on workers."""
    if on_workers:
        from ..bench_workers import run_workers_bench, workers_table

        mode = (modes or ("optimal",))[0]
        rows = run_workers_bench(region_code, mode, range(1, workers + 1))
        for line in workers_table(rows, region_code, mode):
            click.echo(line)
        return
    if over_http:
        from ..bench_http import http_table, run_http_bench

        rows = run_http_bench(workers, threads, connections or (16, 32), seconds, samples, random_seed)
        for line in http_table(rows):
            click.echo(line)
        return
    if on_db:
        from ..bench_db import db_table, run_db_bench

        rows = run_db_bench(
            region_code,
            (modes or ("optimal",))[0],
            samples,
            max(1, samples * 2 // 5),
            random_seed,
            with_plan=not no_plan,
        )
        for line in db_table(rows):
            click.echo(line)
        return
    from matcher.bench import run_bench
    from seed.gazetteer import load_shanxi

    regions = load_shanxi()
    points = {r.code: (r.lat, r.lon) for r in regions if r.lat is not None and r.lon is not None}
    seats = [points[r.code] for r in regions if r.level == "county" and r.code in points]
    daning = [points["141030"]] if "141030" in points else []
    columns: dict[str, dict[str, str]] = {}
    for scale in scales or ("county", "province"):
        click.echo(f"running {scale} scale …", err=True)
        centers = daning if scale == "county" else seats
        result = run_bench(
            scale, random_seed, centers=centers, modes=modes or ("greedy", "stable", "optimal"), repeats=repeats
        )
        columns[scale] = memory_figures(result)
    print_table(columns)
    from matcher.bench import learning

    from .learn import learning_table

    click.echo("running learning on outcomes with a known truth …", err=True)
    click.echo("")
    for line in learning_table(learning(random_state=random_seed)):
        click.echo(line)
