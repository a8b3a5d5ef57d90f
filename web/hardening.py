"""The door: security headers on every answer (DESIGN §7: no inline scripts, no framing, no
sniffing), and input refused before any view sees it (issue 10, part 7): path ids beyond what the
database stores (404), JSON nested too deep, text no database can store (NUL, lone surrogates);
and query arguments that may go back into links (never a name url_for reads itself)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from flask import Flask, Response, current_app, request
from flask_babel import gettext as _
from werkzeug.routing import IntegerConverter
from werkzeug.routing import ValidationError as NoMatch

from .errors import ValidationError
from .validation import INT32_MAX

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


class RecordIdConverter(IntegerConverter):
    """`<int:…>` in every route: an id beyond INT32_MAX names no record (404), never a database error."""

    def __init__(
        self, map, fixed_digits: int = 0, min: int | None = None, max: int | None = INT32_MAX, signed: bool = False
    ) -> None:  # werkzeug's names
        super().__init__(map, fixed_digits, min, max, signed)

    def to_python(self, value: str) -> int:
        if len(value) > len(str(INT32_MAX)):  # int() of ten thousand digits is slow, then refused
            raise NoMatch()
        return super().to_python(value)


def install_converters(app: Flask) -> None:
    """Bound every integer in a route; call before any blueprint adds its rules."""
    app.url_map.converters["int"] = RecordIdConverter


#: A JSON string, or one bracket: what counting the nesting depth of a body needs to see.
_JSON_TOKENS = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]')
#: NUL, and the surrogate halves that only a JSON "\ud800" escape can smuggle into a string.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def json_depth(body: bytes, limit: int) -> int:
    """How deep the body's arrays and objects nest (counting stops once past `limit`), without
    parsing it: the parser recurses, and 5,000 levels exhaust Python's stack."""
    depth = deepest = 0
    for token in _JSON_TOKENS.finditer(body):
        bracket = token.group()
        if bracket in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
            if deepest > limit:
                break
        elif bracket in (b"]", b"}"):
            depth -= 1
    return deepest


def _unstorable_field(value: Any, path: str = "body") -> str | None:
    """The path of the first key or string holding a NUL or a lone surrogate, which no database
    column can store."""
    if isinstance(value, str):
        return path if _UNSTORABLE.search(value) else None
    pairs: Iterable[tuple[Any, Any]]
    if isinstance(value, dict):
        pairs = value.items()
    elif isinstance(value, list):
        pairs = enumerate(value)
    else:
        return None
    for key, item in pairs:
        name = str(key) if path == "body" else f"{path}.{key}"
        found = name if _UNSTORABLE.search(str(key)) else _unstorable_field(item, name)
        if found:
            return found
    return None


def link_args(**changes: Any) -> dict[str, Any]:
    """This page's path and query arguments, changed, for url_for: a query argument named like a
    path argument, or starting with "_" (url_for's own _method, _external…), is dropped."""
    path_args = request.view_args or {}
    kept = {name: value for name, value in request.args.items() if not name.startswith("_") and name not in path_args}
    return {**path_args, **kept, **changes}


def register(app: Flask) -> None:
    """Refuse unstorable text and deep JSON at the door; add the security headers to every response."""
    app.jinja_env.globals["link_args"] = link_args

    @app.before_request
    def refuse_unusable_input():
        if request.is_json:
            limit = current_app.config["JSON_MAX_DEPTH"]
            if json_depth(request.get_data(cache=True), limit) > limit:
                raise ValidationError.on("body", _("nested deeper than %(n)s levels", n=limit))
        sources: list[Any] = [request.args.to_dict(flat=False), request.form.to_dict(flat=False)]
        if request.is_json:
            sources.append(request.get_json(silent=True))
        for source in sources:
            field = _unstorable_field(source)
            if field:
                raise ValidationError.on(
                    field.split(".")[0], _("contains a character that cannot be stored (NUL or a lone surrogate)")
                )

    @app.after_request
    def secure_headers(response: Response) -> Response:
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        if response.mimetype == "text/html":
            response.headers.setdefault("Cache-Control", "no-store")  # pages carry personal data
        return response
