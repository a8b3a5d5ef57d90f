"""`jiuye serve`: check the database, delete expired uploads, run the app and say where it is and
how to log in."""

from __future__ import annotations

import click
from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import OperationalError, ProgrammingError

from ..extensions import db
from ..models import User
from .imports import clean_uploads


def database_problem(error: OperationalError | ProgrammingError, url: str) -> str:
    """What is wrong with the database, in one line."""
    reason = str(error.orig).strip().splitlines()[0] if error.orig is not None else str(error)
    if "no such table" in reason or ("relation" in reason and "does not exist" in reason):
        return f"the database {url} has no jiuye tables: run `jiuye db upgrade` first ({reason})"
    return f"cannot reach the database {url}: {reason} (check DATABASE_URL)"


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--threads", default=4, show_default=True, type=int)
def serve(host: str, port: int, threads: int) -> None:
    """Serve jiuye with a production WSGI server, printing the URL and demo logins."""
    from seed.demo import DEMO_LOGINS

    app = current_app._get_current_object()
    url = db.engine.url.render_as_string(hide_password=True)
    try:
        known = set(db.session.scalars(select(User.username)))
    except (OperationalError, ProgrammingError) as error:
        # One clear line instead of a traceback: the operator fixes DATABASE_URL or runs upgrade.
        db.session.rollback()
        raise click.ClickException(database_problem(error, url)) from None
    removed = clean_uploads()
    if removed:
        click.echo(f"Deleted {removed} uploaded sheet(s) left waiting too long.")
    click.echo(f"jiuye is serving on http://{host}:{port}/  (database: {url})")
    demo = [login for login in DEMO_LOGINS if login.username in known]
    if demo:
        click.echo("Demo logins:")
        for login in demo:
            click.echo(
                f"  {login.role:<9} {login.username:<12} password: {login.password}   ({login.description})"
            )
    else:
        click.echo("No demo users: run `jiuye seed demo` to load the Daning County demo.")
    db.session.remove()
    try:
        from waitress import serve as waitress_serve
    except ImportError:  # waitress is a dependency; this only guards broken installs
        app.run(host=host, port=port, threaded=True)
    else:
        waitress_serve(app, host=host, port=port, threads=threads)
