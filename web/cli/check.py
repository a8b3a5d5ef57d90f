"""`jiuye check data`: list the saved rows that break today's registration rules (read only)."""

from __future__ import annotations

import click
from flask.cli import AppGroup
from flask_babel import force_locale

from ..unit_of_work import discard, unit_of_work

check = AppGroup("check", help="Checks of the saved records.")


@check.command("data")
@click.option(
    "--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True, help="Language of the report."
)
def data(lang: str) -> None:
    """Report every laborer that breaks the registration rules: row, field, problem; changes nothing.

    Exits with status 1 when a problem was found, so that a script can tell.
    """
    from ..services.registry import laborer_rule_breaks

    found = 0
    with unit_of_work(serial=False) as session, force_locale(lang):
        discard()  # read only: nothing this command does is kept
        click.echo("row\tfield\tproblem")
        for laborer_id, field, problem in laborer_rule_breaks(session):
            found += 1
            click.echo(f"laborer {laborer_id}\t{field}\t{problem}")
    click.echo(f"{found} problem(s) found.", err=True)
    if found:
        raise SystemExit(1)
