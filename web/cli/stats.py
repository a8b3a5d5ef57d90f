"""`jiuye stats refresh`: rebuild the dashboard's summaries from the records (web.services.summaries)."""

from __future__ import annotations

import time

import click
from flask.cli import AppGroup

from ..unit_of_work import unit_of_work

stats = AppGroup("stats", help="Statistics summaries behind the dashboard.")


@stats.command("refresh")
def refresh() -> None:
    """Recompute every summary row from the records, in one transaction."""
    from ..services.summaries import refresh_summaries

    started = time.perf_counter()
    with unit_of_work() as session:
        units = refresh_summaries(session)
    click.echo(f"Refreshed {units} summary rows in {time.perf_counter() - started:.1f} s.")
