"""Static files for weak links: content-hashed URLs cached for a year, and compressed responses.

A village phone on a 400 ms link pays a round trip for every stylesheet it revalidates. So every
template links a static file through `static_url()`, which names it by a short hash of its content
(`/assets/jiuye.3f2a9c1b07.css`): a changed file gets a new name, so the old one may be cached for
good (`Cache-Control: public, max-age=31536000, immutable`) and a repeat visit asks for nothing but
the page. The hashes are computed once, when the app starts. The plain `/static/<file>` path still
answers, with a short cache, for anything that links it by hand.

Responses (pages, CSS, JS, JSON, SVG) are compressed with brotli or gzip, as the browser asks
(Flask-Compress).
"""

from __future__ import annotations

import hashlib
import mimetypes
from pathlib import Path

from flask import Flask, abort, current_app, url_for
from werkzeug.wrappers import Response

from .extensions import compress

#: A hashed file's lifetime in caches: a year, the longest HTTP/1.1 advises.
IMMUTABLE_MAX_AGE_S = 31_536_000
#: Characters of the SHA-256 of a file's content in its hashed name.
HASH_CHARS = 10

#: The icon answered at /favicon.ico (browsers ask for it whatever a page links).
FAVICON = "favicon.svg"

_MANIFEST = "jiuye.static_manifest"


def hashed_name(filename: str, content: bytes) -> str:
    """`dir/name.ext` → `dir/name.<hash>.ext`, the hash a short SHA-256 of the content."""
    digest = hashlib.sha256(content).hexdigest()[:HASH_CHARS]
    path = Path(filename)
    return str(path.with_name(f"{path.stem}.{digest}{path.suffix}"))


def build_manifest(folder: Path) -> dict[str, tuple[str, bytes]]:
    """Every file under the static folder, by its hashed name: its path there and its content (they are
    small; served from memory, a hashed file costs no disk read and cannot change under its name)."""
    found = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            name, content = path.relative_to(folder).as_posix(), path.read_bytes()
            found[hashed_name(name, content)] = (name, content)
    return found


def static_url(filename: str) -> str:
    """The URL of a static file under its content-hashed name (the plain one if it is not known)."""
    hashed = current_app.extensions[_MANIFEST]["by_name"].get(filename)
    if hashed is None:
        return url_for("static", filename=filename)
    return url_for("hashed_static", filename=hashed)


def _serve_hashed(filename: str) -> Response:
    """A static file by its hashed name, from memory, cached for a year; 404 for a name not in the manifest."""
    found = current_app.extensions[_MANIFEST]["by_hash"].get(filename)
    if found is None:
        abort(404)
    original, content = found
    mimetype = mimetypes.guess_type(original)[0] or "application/octet-stream"
    response = Response(content, mimetype=mimetype)
    response.cache_control.public = True
    response.cache_control.max_age = IMMUTABLE_MAX_AGE_S
    response.cache_control.immutable = True
    return response


def _favicon() -> Response:
    """/favicon.ico: the SVG icon."""
    return _serve_hashed(current_app.extensions[_MANIFEST]["by_name"][FAVICON])


def install(app: Flask) -> None:
    """Hash the static files, add the /assets and /favicon.ico routes and compress responses."""
    by_hash = build_manifest(Path(app.static_folder or ""))
    app.extensions[_MANIFEST] = {"by_hash": by_hash, "by_name": {name: h for h, (name, _) in by_hash.items()}}
    app.add_url_rule("/assets/<path:filename>", "hashed_static", _serve_hashed)
    app.add_url_rule("/favicon.ico", "favicon", _favicon)
    app.jinja_env.globals["static_url"] = static_url
    compress.init_app(app)  # its settings (COMPRESS_*) are in web.config
