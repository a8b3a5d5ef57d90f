"""One error format: JSON for the API, a page for the rest.

The unit of work (`web.unit_of_work`) has rolled the request back before any of these runs.
"""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from .errors import DomainError


def wants_json() -> bool:
    """API calls answer JSON; pages answer HTML."""
    return request.path.startswith("/api/")


def json_error(status: int, message: str, fields: dict | None = None):
    """The API's error body: {"error": {"status", "message", "fields"}}."""
    body = {"error": {"status": status, "message": message, "fields": fields or {}}}
    return jsonify(body), status


def register(app: Flask) -> None:
    """Install the error handlers on the app."""

    @app.errorhandler(DomainError)
    def domain_error(error: DomainError):
        if wants_json():
            return json_error(error.status, error.message, error.fields)
        return render_template(
            "error.html", status=error.status, message=error.message
        ), error.status

    @app.errorhandler(OperationalError)
    def database_unavailable(error: OperationalError):
        message = "The database is unavailable; please try again shortly."
        if wants_json():
            return json_error(503, message)
        return render_template("error.html", status=503, message=message), 503

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if wants_json():
            fields = None
            data = getattr(error, "data", None)
            if data and "messages" in data:  # webargs / flask-smorest validation
                fields = {}
                for location, location_messages in data["messages"].items():
                    if isinstance(location_messages, dict):
                        fields.update(location_messages)
                    else:  # the body as a whole (not JSON, not an object): name the location
                        fields.setdefault(location, []).extend(location_messages)
            return json_error(error.code or 500, error.description or error.name, fields)
        return render_template(
            "error.html", status=error.code, message=error.description
        ), error.code

    @app.errorhandler(500)
    def internal_error(error):
        if wants_json():
            return json_error(500, "Internal error; nothing was saved.")
        return render_template(
            "error.html", status=500, message="Internal error; nothing was saved."
        ), 500
