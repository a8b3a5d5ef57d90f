"""jiuye's web application: the Flask factory that wires config, extensions and blueprints."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask, request, session

from . import field_errors, sqlite, unit_of_work  # noqa: F401  (field_errors: before any schema is made)
from .config import build_config
from .extensions import babel, csrf, db, limiter, login_manager, migrate, smorest_api

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def select_locale() -> str:
    """The user's chosen language, else the browser's, else the default (also outside a request:
    CLI commands speak the deployment's language)."""
    from flask import current_app, has_request_context

    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    languages = current_app.config["LANGUAGES"]
    chosen = session.get("lang")
    if isinstance(chosen, str) and chosen in languages:
        return chosen
    return request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the jiuye app; `config` overrides the environment, which overrides the defaults."""
    instance_path = os.environ.get("JIUYE_INSTANCE_PATH")
    app = Flask(__name__, instance_path=instance_path, instance_relative_config=True)
    app.config.update(build_config(Path(app.instance_path), config))

    db.init_app(app)
    with app.app_context():
        for engine in db.engines.values():
            sqlite.install(engine, app.config["SQLITE_BUSY_TIMEOUT_S"])
    from .services import accounts, summaries, versions

    summaries.install(db.session)  # the dashboard's summaries follow every committed change
    accounts.install(db.session)  # durable audit rows outlive their transaction
    versions.install(db.session)  # cached rankers learn of every committed change to their inputs
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIR))
    login_manager.init_app(app)
    csrf.init_app(app)
    from .i18n import compile_catalogs

    compile_catalogs(app)
    babel.init_app(app, locale_selector=select_locale)
    limiter.init_app(app)
    smorest_api.init_app(app)

    from . import assets, errors_handlers, hardening
    from .api import register as register_api
    from .pages import register as register_pages

    hardening.install_converters(app)  # before any rule: every <int:…> is bounded
    register_pages(app)
    register_api(app)
    errors_handlers.register(app)
    hardening.register(app)
    assets.install(app)  # hashed static URLs, /favicon.ico, compressed responses

    from flask_babel import get_locale

    app.jinja_env.globals["get_locale"] = get_locale

    from .jobs import plans as plan_runs

    plan_runs.install(app)  # in thread mode, pick up the plans an earlier process left

    from .cli import register_commands

    register_commands(app)
    unit_of_work.install(app)  # last: it wraps every view registered above
    return app
