"""`jiuye serve`: check the database, delete expired uploads, run the app and say where it is and
how to log in.

One process with threads (waitress) by default; ``--workers N`` forks N processes under gunicorn
(the ``serve`` extra) where it is installed, one thread each unless ``--threads`` says otherwise
(gunicorn's sync workers, meant behind a buffering reverse proxy: `WORKER_THREADS`). Either way the
cached rankers are built before the first request (``--no-warm`` skips it): under gunicorn once, in the
master, and the forked workers share those pages until they write to them. The learned model's
evaluation on the recorded check-ins (the office's learning page, seconds to fit) is warmed too: under
gunicorn in the master before the fork, so that no worker fits it again on its first visit; alone, in
a thread beside the server, so that neither the start nor the first visit waits for it.
"""

from __future__ import annotations

import gc
import threading

import click
from flask import Flask, current_app
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


def warm_rankers(app: Flask) -> None:
    """Build the cached rankers (web.services.ranking) so that no request waits for them."""
    from ..services import ranking
    from ..services.convert import matcher_config

    with app.app_context():
        ranking.warm(db.session(), matcher_config(app.config))
        db.session.remove()


def warm_learning(app: Flask) -> None:
    """Evaluate the learned model on the recorded check-ins now (web.services.retention keeps it until they
    or the market change), so that the office's learning page answers at once."""
    from ..services import retention
    from ..services.convert import matcher_config

    with app.app_context():
        try:
            retention.evaluate_learned_model(db.session(), matcher_config(app.config))
        except Exception:  # a head start only: the page evaluates it itself, and says what went wrong
            app.logger.exception("could not evaluate the learned model ahead of its page")
        finally:
            db.session.remove()


#: Threads of the one waitress process (`jiuye serve` alone).
SERVER_THREADS = 4
#: Threads of each gunicorn worker by default: one, gunicorn's sync worker. A worker's threads share one
#: interpreter lock, and each time one gets its answer from the database it waits for the lock while
#: another ranks: on the PostgreSQL province (2 cores, 16 connections) p99 of matches was 86-97 ms with
#: one thread per worker against 134-143 ms with two, at the same requests/s (README, *Speed*).
WORKER_THREADS = 1


def serve_with_gunicorn(app: Flask, host: str, port: int, workers: int, threads: int) -> None:
    """Serve app from `workers` forked gunicorn processes (the app and its rankers built before the fork)."""
    from gunicorn.app.base import BaseApplication

    class Server(BaseApplication):
        def load_config(self) -> None:
            options = {
                "bind": f"{host}:{port}",
                "workers": workers,
                "threads": threads,
                "preload_app": True,
                "accesslog": None,
            }
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self):
            return app

    Server().run()


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option(
    "--threads",
    type=int,
    help="Threads per process [default: 4 alone (waitress); 1 under gunicorn, whose sync workers are meant "
    "behind a buffering reverse proxy such as nginx].",
)
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=int,
    help="Processes; more than 1 runs gunicorn (pip install 'jiuye[serve]').",
)
@click.option("--warm/--no-warm", default=True, show_default=True, help="Build the cached rankers before serving.")
def serve(host: str, port: int, threads: int | None, workers: int, warm: bool) -> None:
    """Serve jiuye with a production WSGI server, printing the URL and demo logins."""
    from seed.demo import DEMO_LOGINS

    if threads is None:
        threads = SERVER_THREADS if workers == 1 else WORKER_THREADS

    app = current_app._get_current_object()  # type: ignore[attr-defined]  # a LocalProxy, typed as Flask
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
            click.echo(f"  {login.role:<9} {login.username:<12} password: {login.password}   ({login.description})")
    else:
        click.echo("No demo users: run `jiuye seed demo` to load the Daning County demo.")
    db.session.remove()
    if warm:
        warm_rankers(app)
        if workers > 1:
            warm_learning(app)  # before the fork: every worker inherits it
        else:
            threading.Thread(target=warm_learning, args=(app,), name="warm-learning", daemon=True).start()
    # Everything alive now (the app, the rankers' hundreds of MiB of objects) lives as long as the server:
    # out of the collector's sight, it is not walked by every full collection, nor copied into each forked
    # worker when the collector touches it (the use gc.freeze documents).
    gc.freeze()
    if workers > 1:
        try:
            import gunicorn  # noqa: F401
        except ImportError:
            raise click.ClickException("--workers needs gunicorn: pip install 'jiuye[serve]'") from None
        db.engine.dispose()  # connections opened while warming must not be shared by the forked workers
        serve_with_gunicorn(app, host, port, workers, threads)
        return
    try:
        from waitress import serve as waitress_serve
    except ImportError:  # waitress is a dependency; this only guards broken installs
        app.run(host=host, port=port, threaded=True)
    else:
        waitress_serve(app, host=host, port=port, threads=threads)
