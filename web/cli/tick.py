"""`jiuye tick`: run the daily clocks once (from cron, or by hand); safe to run again the same day."""

from __future__ import annotations

import click

from ..jobs.tick import tick_day


@click.command("tick")
@click.option(
    "--day",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="The day to run the clocks for (default: today in the deployment's time zone).",
)
def tick(day) -> None:
    """Apply the day's clocks: lapse unanswered offers, mark overdue requests, flag households, remind."""
    counts = tick_day(day.date() if day is not None else None)
    for name, count in counts.items():
        click.echo(f"{name:30} {count:>8}")
