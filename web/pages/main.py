"""The landing page: what jiuye holds, in a few counts."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, redirect, render_template, request, session, url_for
from sqlalchemy import select

from ..extensions import db
from ..services.stats import registered_counts

bp = Blueprint("main", __name__)


@bp.get("/")
def index():
    """Counts of what is registered, for a first look."""
    return render_template("main/index.html", counts=registered_counts(db.session()))


@bp.get("/lang/<code>")
def set_language(code: str):
    """Switch the interface language and go back where the user was."""
    from flask import current_app

    if code in current_app.config["LANGUAGES"]:
        session["lang"] = code
    return redirect(same_site_path(request.referrer) or url_for("main.index"))


def same_site_path(url: str | None) -> str | None:
    """The path (and query) of a URL on this site, or None: never send users elsewhere."""
    if not url:
        return None
    parts = urlsplit(url)
    if parts.netloc and parts.netloc != request.host:
        return None
    if not parts.path.startswith("/") or parts.path.startswith("//"):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


@bp.get("/healthz")
def health():
    """Liveness and database reachability, for monitors."""
    db.session.execute(select(1))
    return {"status": "ok"}
