"""`jiuye bench`: generate synthetic instances in memory and print one table of speed and quality."""

from __future__ import annotations

import click


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:,.3f}" if abs(value) < 100 else f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def print_table(rows: list[dict]) -> None:
    """Print the benchmark rows as a Markdown table (ready to paste into the README)."""
    click.echo("| scale | step | figures |")
    click.echo("|---|---|---|")
    for row in rows:
        scale, name = row["scale"], row["name"]
        label = f"{name} ({row['mode']})" if "mode" in row else name
        if name == "compare":
            for figure, pair in row["table"].items():
                cells = ", ".join(f"{k} {_fmt(v)}" for k, v in pair.items())
                click.echo(f"| {scale} | optimal vs greedy: {figure} | {cells} |")
            continue
        figures = ", ".join(
            f"{k} {_fmt(v)}" for k, v in row.items()
            if k not in ("scale", "name", "mode", "memory_method", "rss_before_mib")
        )
        click.echo(f"| {scale} | {label} | {figures} |")


@click.command("bench")
@click.option("--scale", "scales", multiple=True, type=click.Choice(["county", "province"]),
              help="Repeat for several; default: county then province.")
@click.option("--random-seed", default=0, show_default=True, type=int)
@click.option("--mode", "modes", multiple=True, type=click.Choice(["greedy", "stable", "optimal"]),
              help="Plan modes to time (default: all three; with --db: optimal).")
@click.option("--db", "on_db", is_flag=True,
              help="Measure the real path on the configured, already seeded database instead (web.bench_db).")
@click.option("--region", "region_code", default="14", show_default=True, help="With --db: the plan's region.")
@click.option("--samples", default=500, show_default=True, type=int,
              help="With --db: laborers ranked (and 2/5 as many postings).")
@click.option("--no-plan", is_flag=True, help="With --db: skip the plan, time requests only.")
@click.option("--http", "over_http", is_flag=True,
              help="Matches over HTTP (gunicorn, wrk on 127.0.0.1) beside a Flask hello-world (web.bench_http).")
@click.option("--workers", default=2, show_default=True, type=int, help="With --http: server processes.")
@click.option("--threads", default=2, show_default=True, type=int, help="With --http: threads per process.")
@click.option("--connections", multiple=True, type=int, help="With --http: wrk connections (default 16 and 32).")
@click.option("--seconds", default=20, show_default=True, type=int, help="With --http: per wrk run.")
def bench(scales: tuple[str, ...], random_seed: int, modes: tuple[str, ...], on_db: bool, region_code: str,
          samples: int, no_plan: bool, over_http: bool, workers: int, threads: int, connections: tuple[int, ...],
          seconds: int) -> None:
    """Rank latency, plan time and memory per mode, quality figures, and an independent solver's time."""
    if over_http:
        from ..bench_http import http_table, run_http_bench

        rows = run_http_bench(workers, threads, connections or (16, 32), seconds, samples, random_seed)
        for line in http_table(rows):
            click.echo(line)
        return
    if on_db:
        from ..bench_db import db_table, run_db_bench

        rows = run_db_bench(region_code, (modes or ("optimal",))[0], samples, max(1, samples * 2 // 5),
                            random_seed, with_plan=not no_plan)
        for line in db_table(rows):
            click.echo(line)
        return
    from matcher.bench import run_bench
    from seed.gazetteer import load_shanxi

    seats = [(r.lat, r.lon) for r in load_shanxi() if r.level == "county" and r.lat is not None]
    daning = [(r.lat, r.lon) for r in load_shanxi() if r.code == "141030"]
    rows: list[dict] = []
    for scale in scales or ("county", "province"):
        click.echo(f"running {scale} scale …", err=True)
        centers = daning if scale == "county" else seats
        rows += run_bench(scale, random_seed, centers=centers, modes=modes or ("greedy", "stable", "optimal"))
    print_table(rows)
