"""JSON API under /api/v1, documented by the OpenAPI document flask-smorest builds from the schemas."""

from __future__ import annotations

from flask import Flask

from ..extensions import csrf, smorest_api
from . import (
    auth,
    batches,
    employers,
    households,
    laborers,
    learning,
    matching,
    messages,
    openings,
    plans,
    post_requests,
    stats,
    transport,
    watch,
    welfare_posts,
)

BLUEPRINTS = [
    auth.blp,
    households.blp,
    laborers.blp,
    employers.blp,
    openings.blp,
    batches.blp,
    welfare_posts.blp,
    matching.blp,
    plans.blp,
    stats.blp,
    messages.blp,
    learning.blp,
    post_requests.blp,
    transport.blp,
    watch.blp,
]


def register(app: Flask) -> None:
    """Register every API blueprint; the API uses bearer tokens, so forms' CSRF does not apply."""
    smorest_api.spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer", "bearerFormat": "opaque"}
    )
    for blp in BLUEPRINTS:
        csrf.exempt(blp)
        smorest_api.register_blueprint(blp, url_prefix=f"/api/v1{blp.url_prefix or ''}")
