"""Server-rendered pages, one blueprint per area (mirrors `web.api`): auth, main, dashboard (and the
reports), and the role areas cadre, employer and office, each with the placement pages of
`web.pages.placements`. Views are thin: they parse the request, call a service and render."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    """Register every page blueprint on the app."""
    from . import auth, cadre, dashboard, employer, inbox, main, office

    for module in (main, auth, dashboard, cadre, employer, office, inbox):
        app.register_blueprint(module.bp)
    inbox.install(app)
