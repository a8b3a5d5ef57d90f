"""Weak links: compressed responses, static files under content-hashed names cached for a year, a favicon."""

from __future__ import annotations

import gzip
import hashlib
import re
from pathlib import Path

import brotli

from tests.conftest import PASSWORD
from web import assets
from web.extensions import db

TEMPLATES = Path(assets.__file__).resolve().parent / "templates"
STATIC = Path(assets.__file__).resolve().parent / "static"


def _stylesheet_url(client) -> str:
    page = client.get("/login").get_data(as_text=True)
    return re.search(r'<link rel="stylesheet" href="([^"]+)"', page).group(1)


def test_pages_and_css_are_gzipped_when_asked(client):
    page = client.get("/login", headers={"Accept-Encoding": "gzip"})
    assert page.status_code == 200
    assert page.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in page.headers["Vary"]
    assert "<html" in gzip.decompress(page.data).decode()

    css = client.get(_stylesheet_url(client), headers={"Accept-Encoding": "gzip"})
    assert css.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(css.data) == (STATIC / "jiuye.css").read_bytes()


def test_brotli_is_preferred_and_nothing_is_compressed_unasked(client):
    page = client.get("/login", headers={"Accept-Encoding": "gzip, deflate, br"})
    assert page.headers["Content-Encoding"] == "br"
    assert "<html" in brotli.decompress(page.data).decode()
    plain = client.get("/login", headers={"Accept-Encoding": "identity"})
    assert "Content-Encoding" not in plain.headers
    assert "<html" in plain.get_data(as_text=True)


def test_the_stylesheet_is_linked_by_a_hash_of_its_content_and_cached_for_a_year(client):
    url = _stylesheet_url(client)
    digest = hashlib.sha256((STATIC / "jiuye.css").read_bytes()).hexdigest()[: assets.HASH_CHARS]
    assert url == f"/assets/jiuye.{digest}.css"
    response = client.get(url)
    assert response.status_code == 200
    assert response.mimetype == "text/css"
    cache = response.headers["Cache-Control"]
    assert {part.strip() for part in cache.split(",")} == {"public", "max-age=31536000", "immutable"}
    assert response.data == (STATIC / "jiuye.css").read_bytes()


def test_a_stale_or_unknown_hashed_name_is_not_found_and_the_plain_path_has_a_short_cache(client):
    assert client.get("/assets/jiuye.0000000000.css").status_code == 404
    assert client.get("/assets/../config.py").status_code == 404
    with client.get("/static/jiuye.css") as plain:
        assert plain.status_code == 200
        assert plain.headers["Cache-Control"] == "public, max-age=300"


def test_every_script_and_stylesheet_a_page_links_is_hashed(client, factory):
    cadre = factory.user("cadre")
    db.session.commit()
    assert client.post("/login", data={"username": cadre.username, "password": PASSWORD}).status_code == 302
    page = client.get("/cadre/laborers/new").get_data(as_text=True)
    linked = re.findall(r'(?:src|href)="(/(?:static|assets)/[^"]+)"', page)
    assert {Path(url).suffix for url in linked} >= {".css", ".js", ".svg"}
    assert all(url.startswith("/assets/") for url in linked), linked
    for url in linked:
        assert client.get(url).status_code == 200


def test_no_template_links_a_static_file_unhashed():
    offenders = [
        str(path.relative_to(TEMPLATES))
        for path in TEMPLATES.rglob("*.html")
        if "url_for('static'" in path.read_text() or 'url_for("static"' in path.read_text()
    ]
    assert offenders == []


def test_the_favicon_is_linked_and_answers_at_the_root(client):
    page = client.get("/login").get_data(as_text=True)
    icon = re.search(r'<link rel="icon" href="([^"]+)" type="image/svg\+xml">', page).group(1)
    assert client.get(icon).status_code == 200
    favicon = client.get("/favicon.ico")
    assert favicon.status_code == 200
    assert favicon.mimetype == "image/svg+xml"
    assert favicon.data == (STATIC / "favicon.svg").read_bytes()
    assert "immutable" in favicon.headers["Cache-Control"]
