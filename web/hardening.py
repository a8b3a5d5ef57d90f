"""Security headers on every answer (DESIGN §7): no inline scripts, no framing, no sniffing."""

from __future__ import annotations

from flask import Flask, Response

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


def register(app: Flask) -> None:
    """Add the security headers to every response."""

    @app.after_request
    def secure_headers(response: Response) -> Response:
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        if response.mimetype == "text/html":
            response.headers.setdefault("Cache-Control", "no-store")  # pages carry personal data
        return response
