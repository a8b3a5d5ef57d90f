"""At the door: security headers on every answer (DESIGN §7: no inline scripts, no framing, no
sniffing), NUL characters refused, and route ids the database can hold."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, request
from werkzeug.routing import IntegerConverter

from .errors import ValidationError
from .validation import DB_INT_MAX

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",  # static files only: no inline scripts, no eval
        "style-src 'self' 'unsafe-inline'",  # SVG charts carry style attributes
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    # The cadre's "use my location" button needs geolocation on jiuye's own pages only.
    "Permissions-Policy": "geolocation=(self), camera=(), microphone=()",
}


def _nul_field(value: Any, path: str = "body") -> str | None:
    """The path of the first key or string holding a NUL character, which no database column can store."""
    if isinstance(value, str):
        return path if "\x00" in value else None
    if isinstance(value, dict):
        pairs = value.items()
    elif isinstance(value, list):
        pairs = enumerate(value)
    else:
        return None
    for key, item in pairs:
        name = str(key) if path == "body" else f"{path}.{key}"
        found = name if "\x00" in str(key) else _nul_field(item, name)
        if found:
            return found
    return None


class RecordIdConverter(IntegerConverter):
    """`<int:…>` in a route: an id no larger than the database holds; a larger one matches no route (404)."""

    def __init__(self, map, *args, **kwargs):  # noqa: A002 - werkzeug's name
        kwargs.setdefault("max", DB_INT_MAX)
        super().__init__(map, *args, **kwargs)


def install_converters(app: Flask) -> None:
    """Route converters; installed before any blueprint adds its routes."""
    app.url_map.converters["int"] = RecordIdConverter


def register(app: Flask) -> None:
    """Refuse NUL characters at the door and add the security headers to every response."""

    @app.before_request
    def refuse_nul_characters():
        sources = [request.args.to_dict(flat=False), request.form.to_dict(flat=False)]
        if request.is_json:
            sources.append(request.get_json(silent=True))
        for source in sources:
            field = _nul_field(source)
            if field:
                raise ValidationError.on(field.split(".")[0], "contains a NUL character")

    @app.after_request
    def secure_headers(response: Response) -> Response:
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        if response.mimetype == "text/html":
            response.headers.setdefault("Cache-Control", "no-store")  # pages carry personal data
        return response
