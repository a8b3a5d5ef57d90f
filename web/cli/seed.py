"""`jiuye seed ...`: load the demo, the Shanxi 2020 scenario or scale data."""

from __future__ import annotations

import time

import click
from flask.cli import AppGroup

from ..errors import AlreadySeededError
from ..unit_of_work import unit_of_work

seed = AppGroup("seed", help="Load demo, scenario or scale data.")


@seed.command("demo")
@click.option("--random-seed", default=2020, show_default=True, type=int, help="Same seed, same demo.")
def demo(random_seed: int) -> None:
    """Build the Daning County demo (all or nothing); says so if it is already there."""
    from seed.demo import DEMO_LOGINS, seed_demo

    started = time.perf_counter()
    try:
        with unit_of_work() as session:
            counts = seed_demo(session, random_seed=random_seed)
    except AlreadySeededError as error:
        click.echo(f"Already seeded: {error.english()}. Nothing was changed.")
        return
    summary = ", ".join(f"{n} {name}" for name, n in counts.items())
    click.echo(f"Seeded Daning County (大宁县) in {time.perf_counter() - started:.1f} s: {summary}.")
    for login in DEMO_LOGINS:
        click.echo(f"  {login.role:<9} {login.username:<10} password: {login.password}")


@seed.command("shanxi-2020")
@click.option(
    "--scale",
    default=1.0,
    show_default=True,
    type=float,
    help="Fraction of the article's figures (0 < scale ≤ 1); each target is rounded.",
)
@click.option("--random-seed", default=2020, show_default=True, type=int, help="Same seed, same data.")
def shanxi_2020(scale: float, random_seed: int) -> None:
    """Build the province-wide Shanxi 2020 scenario (all or nothing) whose figures are the article's."""
    from seed.shanxi2020 import SCENARIO_LOGIN, Targets, seed_shanxi_2020

    if not 0 < scale <= 1:
        raise click.BadParameter("must be in (0, 1]", param_hint="--scale")
    started = time.perf_counter()
    try:
        with unit_of_work() as session:
            counts = seed_shanxi_2020(session, scale=scale, random_seed=random_seed)
    except AlreadySeededError as error:
        click.echo(f"Already seeded: {error.english()}. Nothing was changed.")
        return
    summary = ", ".join(f"{n} {name}" for name, n in counts.items())
    click.echo(f"Seeded Shanxi 2020 (scale {scale}) in {time.perf_counter() - started:.1f} s: {summary}.")
    targets = Targets.at_scale(scale)
    click.echo(
        f"  targets on 2020-06-30: {targets.poor_at_work} poor laborers at work "
        f"({targets.change_pct:+} % on {targets.poor_at_work_year_before} a year before)"
    )
    username, password, _ = SCENARIO_LOGIN
    click.echo(f"  office    {username:<10} password: {password}")


@seed.command("scale")
@click.option(
    "--laborers",
    required=True,
    type=click.IntRange(min=1),
    help="Registered laborers; every other figure scales with it (province: 1000000).",
)
@click.option("--random-seed", default=2020, show_default=True, type=int, help="Same seed, same market.")
def scale(laborers: int, random_seed: int) -> None:
    """Build an open province-wide market to measure on (all or nothing), sized by --laborers."""
    from seed.scale import SCALE_LOGIN, seed_scale

    started = time.perf_counter()
    try:
        with unit_of_work() as session:
            counts = seed_scale(session, laborers, random_seed=random_seed)
    except AlreadySeededError as error:
        click.echo(f"Already seeded: {error.english()}. Nothing was changed.")
        return
    summary = ", ".join(f"{n} {name}" for name, n in counts.items())
    click.echo(f"Seeded scale data ({laborers} laborers) in {time.perf_counter() - started:.1f} s: {summary}.")
    username, password, _ = SCALE_LOGIN
    click.echo(f"  office    {username:<10} password: {password}")


@seed.command("regions")
@click.argument("csv_file", type=click.File("rb"))
def regions(csv_file) -> None:
    """Add an office's own gazetteer (CSV: code,name,lat,lon in WGS-84; UTF-8) to the regions.

    Regions already known are left as they are; a region without a position takes its parent's.
    All or nothing: a bad line is named and nothing is added.
    """
    from seed.gazetteer import read_csv
    from seed.regions import ensure_regions

    try:
        records = read_csv(csv_file)
        with unit_of_work() as session:
            added = ensure_regions(session, records)
    except ValueError as error:
        raise click.ClickException(f"{csv_file.name}: {error}") from None
    click.echo(f"Added {added} of {len(records)} regions from {csv_file.name}.")
