"""`jiuye seed ...`: load the demo, the Shanxi 2020 scenario or scale data."""

from __future__ import annotations

import time

import click
from flask.cli import AppGroup

from ..errors import AlreadySeededError
from ..extensions import db

seed = AppGroup("seed", help="Load demo, scenario or scale data.")


@seed.command("demo")
@click.option("--random-seed", default=2020, show_default=True, type=int, help="Same seed, same demo.")
def demo(random_seed: int) -> None:
    """Build the Daning County demo (all or nothing); says so if it is already there."""
    from seed.demo import DEMO_LOGINS, seed_demo

    started = time.perf_counter()
    try:
        counts = seed_demo(db.session, random_seed=random_seed)
    except AlreadySeededError as error:
        db.session.rollback()
        click.echo(f"Already seeded: {error.message}. Nothing was changed.")
        return
    db.session.commit()
    summary = ", ".join(f"{n} {name}" for name, n in counts.items())
    click.echo(f"Seeded Daning County (大宁县) in {time.perf_counter() - started:.1f} s: {summary}.")
    for login in DEMO_LOGINS:
        click.echo(f"  {login.role:<9} {login.username:<10} password: {login.password}")
