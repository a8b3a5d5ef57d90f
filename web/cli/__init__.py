"""The `jiuye` console script: a Flask CLI group, so every command runs inside the app context."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import FlaskGroup


def _create_app(*_args) -> Flask:
    from .. import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_version_option=False)
def main() -> None:
    """jiuye: job matching for poor rural laborers."""


def register_commands(app: Flask) -> None:
    """Attach jiuye's command groups to app.cli (also used by the test runner)."""
    from . import bench, check, database, imports, learn, plan, seed, serve, stats, tick, users

    commands = (
        seed.seed,
        serve.serve,
        users.user,
        plan.plan,
        bench.bench,
        learn.learn,
        stats.stats,
        imports.imports,
        check.check,
        tick.tick,
    )
    for command in commands:
        app.cli.add_command(command)
    # Flask-Migrate's `db` group (with grant-app-role added), also for the test runner.
    app.cli.add_command(database.db_group)
