"""One error format: JSON for the API, a page for the rest.

The unit of work (`web.unit_of_work`) has rolled the request back before any of these runs.
"""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from .errors import DomainError, words

#: What an error page says, in the page's language (Werkzeug's own descriptions are English only).
PAGE_MESSAGES = {
    400: _l("The request could not be understood."),
    401: _l("Please log in first."),
    403: _l("Your role may not see this page."),
    404: _l("There is no such page, or it is not yours to see."),
    405: _l("This page cannot be used that way."),
    422: _l("Some fields are not valid; each says why."),
    413: _l("The upload is too large: at most %(size)s."),
    429: _l("Too many requests; please wait a moment and try again."),
    500: _l("Internal error; nothing was saved."),
    503: _l("The database is unavailable; please try again shortly."),
}


def page_message(status: int) -> str:
    """The error page's sentence for this status, in the page's language."""
    from flask import current_app

    if status == 413:
        limit = current_app.config["MAX_CONTENT_LENGTH"]
        size = f"{limit // 2**20} MB" if limit >= 2**20 else f"{limit // 1024} KB"
        return _("The upload is too large: at most %(size)s.", size=size)
    message = PAGE_MESSAGES.get(status)
    return str(message) if message is not None else _("Something went wrong.")


def wants_json() -> bool:
    """API calls answer JSON; pages answer HTML."""
    return request.path.startswith("/api/")


def json_error(status: int, message: str, fields: dict | None = None):
    """The API's error body: {"error": {"status", "message", "fields"}}."""
    body = {"error": {"status": status, "message": message, "fields": fields or {}}}
    return jsonify(body), status


def _in_language(messages):
    """Validation messages, however nested (a list's items, a nested object's fields), in the request's
    language (`words`: marshmallow's are jiuye's msgids, `web.field_errors`)."""
    if isinstance(messages, dict):
        return {key: _in_language(value) for key, value in messages.items()}
    if isinstance(messages, list | tuple):
        return [_in_language(value) for value in messages]
    return words(messages)


def register(app: Flask) -> None:
    """Install the error handlers on the app."""

    @app.errorhandler(DomainError)
    def domain_error(error: DomainError):
        if wants_json():
            return json_error(error.status, error.text(), error.field_texts())
        return render_template("error.html", status=error.status, message=error.text()), error.status

    @app.errorhandler(OperationalError)
    def database_unavailable(error: OperationalError):
        if wants_json():
            return json_error(503, page_message(503))
        return render_template("error.html", status=503, message=page_message(503)), 503

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
            # Werkzeug's descriptions are English only ("You don't have the permission…"): say ours.
            code = error.code or 500
            fields = None if fields is None else _in_language(fields)
            message = page_message(code) if code in PAGE_MESSAGES else (error.description or error.name)
            return json_error(code, message, fields)
        return render_template("error.html", status=error.code, message=page_message(error.code or 500)), error.code

    @app.errorhandler(500)
    def internal_error(error):
        if wants_json():
            return json_error(500, page_message(500))
        return render_template("error.html", status=500, message=page_message(500)), 500
